"""Indexing throughput and memory from 1 to 100k passages.

Each size runs in a fresh process (so peak RSS belongs to that size alone):
``Assistant.index`` over a JSONL file of SQuAD train paragraphs, end to end
(read, convert, split, embed, FAISS, BM25, write), with the models loaded
before the clock starts. A size whose estimated time (from the previous
size's rate) is over ``--budget`` seconds is skipped and marked so.

    python benchmarks/bench_index.py                   # 1, 100, 1k, 10k, 100k
    python benchmarks/bench_index.py --sizes 1 1000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def articles_for(n_passages: int, paragraphs, counts: list[int]) -> int:
    """How many corpus articles give at least ``n_passages`` passages."""
    total, i = 0, 0
    while total < n_passages:
        total += counts[i % len(counts)]
        i += 1
    return i


def passage_counts(paragraphs) -> list[int]:
    """Passages per paragraph with the shipped splitter (cached: it tokenizes everything)."""
    cache = common.CACHE / "passage_counts.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("n") == len(paragraphs):
            return data["counts"]
    from qa import Assistant
    from qa.converters.formats import make_article

    splitter = Assistant(tempfile.mkdtemp(), reader=common.reader_path()).splitter()
    counts = [len(splitter.run(make_article(t, c, "x"))) for t, c in paragraphs]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"n": len(paragraphs), "counts": counts}))
    return counts


def one(n_articles: int, runs: int, precision: str) -> dict:
    """Index ``n_articles`` records ``runs`` times in this process; print timings as JSON."""
    from qa import Assistant

    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    src = common.write_jsonl(common.corpus_records(n_articles), work / "src" / "corpus.jsonl")
    seconds, passages = [], 0
    base = None
    for r in range(runs):
        a = Assistant(work / f"index-{r}", reader=common.reader_path(), precision=precision)
        a.embedder.warm_up()
        a.reader.tokenizer_only()
        base = base or common.current_rss_mb()
        rep = a.index([src.parent], rebuild=True)
        seconds.append(rep.seconds)
        passages = rep.passages_embedded
        shutil.rmtree(work / f"index-{r}", ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return {"articles": n_articles, "passages": passages, "seconds": seconds,
            "embedder_precision": a.embedder.resolve_precision().to_dict(),
            "baseline_rss_mb": base, "peak_rss_mb": common.peak_rss_mb()}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000, 10_000, 100_000])
    p.add_argument("--runs", type=int, default=3, help="runs per size up to 1k passages (median)")
    p.add_argument("--big-runs", type=int, default=1, help="runs per size above 1k passages")
    p.add_argument("--budget", type=float, default=600, help="skip a size estimated to take longer (s)")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    common.add_reader_arg(p)
    common.add_precision_arg(p)
    args = p.parse_args()
    common.use_reader_arg(args)
    if args.one:
        print(json.dumps(one(args.one, args.runs, args.precision)))
        return 0

    print(common.cpu_line())
    paragraphs = common.train_paragraphs()
    counts = passage_counts(paragraphs)
    rows, results, rate, path = [], [], None, None
    for n in args.sizes:
        runs = args.runs if n <= 1000 else args.big_runs
        n_art = articles_for(n, paragraphs, counts)
        if rate and n / rate * runs > args.budget:
            est = n / rate * runs
            results.append({"target_passages": n, "skipped": f"estimated {est / 60:.0f} min > budget"})
            rows.append((n, "skipped", f"est. {est / 60:.0f} min", None, None))
            path = common.save("bench_index", {"precision": args.precision, "runs_small": args.runs,
                                               "runs_big": args.big_runs,
                                               "budget_s": args.budget, "results": results})
            continue
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--one", str(n_art), "--runs", str(runs),
                              "--precision", args.precision],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        med = common.median(r["seconds"])
        rate = r["passages"] / med if med else None
        r.update({"target_passages": n, "median_s": med, "passages_per_s": rate,
                  "wall_s": time.perf_counter() - t0, "reused_paragraphs": n_art > len(paragraphs)})
        results.append(r)
        rows.append((n, r["passages"], med, rate, r["peak_rss_mb"]))
        print(f"done {n}: {r['passages']} passages, {med:.1f}s", file=sys.stderr)
        # Saved after every size, so a long run that is stopped keeps what it measured.
        path = common.save("bench_index", {"precision": args.precision, "runs_small": args.runs,
                                           "runs_big": args.big_runs,
                                           "budget_s": args.budget, "results": results})
    common.table("Indexing (Assistant.index, end to end)",
                 ["target passages", "passages", "median s", "passages/s", "peak RSS MB"], rows)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
