"""Load: ``ask_many`` over many questions keeps memory flat and reports throughput.

The bundled article is indexed into a temporary folder and asked a stream of
varied questions (the seed gold questions, then SQuAD v1.1 dev questions, most
of which the article cannot answer: that is the common case in the product).
Resident memory is sampled every ``--every`` questions; after warm-up it
should not grow. Reported: questions/s, RSS after warm-up, at the end and its
peak, and the fitted growth in MB per 1,000 questions.

    python benchmarks/bench_load.py --questions 10000
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def question_stream(n: int):
    """``n`` questions: the seed gold ones, then SQuAD dev ones, cycled."""
    qs = [json.loads(line)["question"] for line in common.SEED_GOLD.read_text(encoding="utf-8").splitlines()
          if line.strip()]
    if common.SQUAD_DEV.exists():
        data = json.loads(common.SQUAD_DEV.read_text(encoding="utf-8"))
        qs += [q["question"] for art in data["data"] for para in art["paragraphs"] for q in para["qas"]]
    for i in range(n):
        yield qs[i % len(qs)]


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares MB per question over (questions done, RSS MB)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--questions", type=int, default=10_000)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--every", type=int, default=250)
    p.add_argument("--batch", type=int, default=8, help="questions per ask_many batch (one reader pass)")
    common.add_reader_arg(p)
    common.add_precision_arg(p)
    args = p.parse_args()
    from qa import Assistant

    print(common.cpu_line())

    reader = common.use_reader_arg(args)
    with tempfile.TemporaryDirectory(prefix="newsdesk-load-") as tmp:
        assistant = Assistant.from_paths([common.SEEDS], index_dir=Path(tmp) / "index", reader=reader,
                                          precision=args.precision)
        assistant.warm_up()
        samples: list[tuple[int, float]] = []
        answered = 0
        t0 = time.perf_counter()
        t_warm = None
        for i, answer in enumerate(assistant.ask_many(question_stream(args.questions), batch=args.batch), start=1):
            answered += bool(answer.found)
            if i == args.warmup:
                gc.collect()
                t_warm = time.perf_counter()
            if i >= args.warmup and i % args.every == 0:
                samples.append((i, common.current_rss_mb()))
                print(f"{i:>6} questions  RSS {samples[-1][1]:7.1f} MB  "
                      f"{(i - args.warmup) / max(time.perf_counter() - t_warm, 1e-9):5.1f} q/s", flush=True)
        total = time.perf_counter() - t0
    after = samples[0][1] if samples else None
    growth_per_1k = 1000 * slope(samples)
    # The allocator keeps pools for each new tensor shape for a while: the second half shows the steady state.
    second_half = [s for s in samples if s[0] > args.questions // 2]
    growth_second_half = 1000 * slope(second_half)
    result = {
        "reader": reader, "questions": args.questions, "warmup": args.warmup, "batch": args.batch,
        "precision": assistant.precision_report(),
        "seconds": total, "questions_per_s": (args.questions - args.warmup) / (time.perf_counter() - t_warm)
        if t_warm else None,
        "answered": answered, "rss_after_warmup_mb": after, "rss_end_mb": samples[-1][1] if samples else None,
        "rss_peak_mb": common.peak_rss_mb(), "rss_growth_mb_per_1000_questions": growth_per_1k,
        "rss_growth_mb_per_1000_questions_second_half": growth_second_half,
        "samples": samples,
    }
    common.table(f"ask_many over {args.questions} questions (bundled article)",
                 ["q/s", "RSS after warm-up MB", "RSS end MB", "peak MB", "growth MB/1k q", "2nd half MB/1k q"],
                 [(result["questions_per_s"], after, result["rss_end_mb"], result["rss_peak_mb"], growth_per_1k,
                   growth_second_half)])
    print(f"wrote {common.save('bench_load', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
