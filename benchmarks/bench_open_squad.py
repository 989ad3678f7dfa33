"""Open-domain SQuAD: the 2,067 dev paragraphs as the corpus, dense vs BM25 vs hybrid.

Every question of a fixed sample (``--sample``, seed 0) is retrieved in each
mode for recall@1/5/20 and MRR (cheap). EM/F1 come from ``Assistant.ask`` on
the first ``--read`` questions of the sample (reading is the expensive part);
reads are shared between modes through a cache keyed by (question, passage
text), so a passage that two modes both retrieve is read once. Latency is not
reported here (cached reads would flatter it): see bench_ask.py.

The reader-mode score on the same questions (gold paragraph given) is the
ceiling open mode is measured against.

    python benchmarks/bench_open_squad.py --sample 2000 --read 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sample", type=int, default=2000, help="questions for recall (fixed sample, seed --seed)")
    p.add_argument("--read", type=int, default=2000, help="of those, questions answered for EM/F1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--modes", nargs="+", default=["dense", "bm25", "hybrid"])
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--full-reading-too", action="store_true",
                   help="score each mode again reading all top-k passages (no early stop), for comparison")
    common.add_reader_arg(p)
    common.add_precision_arg(p)
    args = p.parse_args()
    reader_path = common.use_reader_arg(args)
    print(common.cpu_line())

    from qa.evaluation.gold import load_gold, select
    from qa.evaluation.runner import evaluate, retrieval_metrics
    from qa.readers.staged import FULL_READING, stop_rule_for
    from qa.training.stop_rule import CachedReader

    common.require(common.SQUAD_DEV, "SQuAD v1.1 dev")
    items = load_gold(common.SQUAD_DEV)
    t0 = time.perf_counter()
    a = common.squad_dev_assistant(items, top_k=args.top_k, reader=reader_path, precision=args.precision)
    index_s = time.perf_counter() - t0
    sample = select(items, sample=args.sample, seed=args.seed)
    to_read = sample[: args.read]
    reader = CachedReader(a.reader)
    shipped_rule = stop_rule_for(a.reader)  # the reader's own rule, as the Assistant reads

    def save(results, reader_mode):
        # Written after every mode too, so a stopped run keeps what it measured.
        return common.save("bench_open_squad", {
            "sample": args.sample, "read": args.read, "seed": args.seed, "top_k": args.top_k,
            "paragraphs": len(a.data.articles), "passages": len(a.data.passages), "index_s": index_s,
            "reader": reader.model_name, "threshold": a.threshold, "results": results,
            "precision": a.precision_report(), "stop_rule": vars(a.stop_rule),
            "reader_mode": reader_mode,
        })

    a.reader = reader
    results, rows = [], []
    for mode in args.modes:
        a.retrieval = mode
        a.use(a.data)  # rebuild the retriever for the new mode
        t0 = time.perf_counter()
        # Recall on the whole sample needs retrieval only; EM/F1 needs reading.
        recall = retrieval_metrics(a, sample)
        retrieve_s = time.perf_counter() - t0
        for full in (False, True) if args.full_reading_too else (False,):
            a.stop_rule = FULL_READING if full else shipped_rule
            pairs0, t0 = reader.pairs, time.perf_counter()
            rep = evaluate(a, to_read, mode="open", top_k=args.top_k, name=f"squad-dev-{mode}")
            r = {"mode": mode + (" (full reading)" if full else ""), "questions_recall": len(sample),
                 "questions_read": len(to_read), **recall, "exact_match": rep.exact_match, "f1": rep.f1,
                 "answer_rate": rep.metrics["answer_rate"], "threshold": rep.threshold,
                 "passages_read_per_question": (reader.pairs - pairs0) / max(len(to_read), 1),
                 "retrieval_on_read": rep.retrieval, "retrieve_s": retrieve_s,
                 "read_wall_s": time.perf_counter() - t0}
            results.append(r)
            rows.append((r["mode"], r["recall@1"], r["recall@5"], r["recall@20"], r["mrr"], r["exact_match"],
                         r["f1"], r["answer_rate"], r["passages_read_per_question"]))
        print(f"done {mode}: {reader.reads} passage reads so far", file=sys.stderr)
        save(results, None)
    a.stop_rule = shipped_rule
    a.reader = reader._reader
    ceiling = evaluate(a, to_read, mode="reader", name="squad-dev-reader")
    rows.append(("reader (gold paragraph)", None, None, None, None, ceiling.exact_match, ceiling.f1,
                 ceiling.metrics["answer_rate"], None))
    common.table(f"Open SQuAD dev: {len(sample)} questions (recall), {len(to_read)} answered (EM/F1), "
                 f"2,067 paragraphs, top-{args.top_k}",
                 ["retrieval", "R@1", "R@5", "R@20", "MRR", "EM", "F1", "answer %", "passages read"], rows)
    path = save(results, {"exact_match": ceiling.exact_match, "f1": ceiling.f1,
                          "answer_rate": ceiling.metrics["answer_rate"]})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
