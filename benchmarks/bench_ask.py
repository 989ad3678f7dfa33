"""Question latency as the index grows: retrieval vs reading, exact vs HNSW FAISS.

The index holds the bundled article plus SQuAD train paragraphs as
distractors, up to 1k / 10k / 100k passages; the questions are the
answerable ones of ``tests/gold/seed.jsonl`` (about the bundled article),
asked through ``Assistant.ask`` as a user would. Each (size, FAISS kind)
runs in its own process, so its memory is its own.

Passage vectors are embedded once and cached (``benchmarks/.cache``); the
index is then written with ``IndexStore.write``, the same call indexing ends
with. Past the 18,896 distinct train paragraphs, paragraphs are repeated under
new article ids (same text, same vectors): timings are unaffected, and the
seed questions' answers are still only in the bundled article.

    python benchmarks/bench_ask.py --sizes 1000 10000 100000 --runs 3
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def train_passages(limit: int | None = None):
    """Articles, passages and vectors of the distinct train paragraphs (vectors cached)."""
    from qa import Assistant
    from qa.converters.formats import make_article

    paragraphs = common.train_paragraphs()[:limit]
    a = Assistant(tempfile.mkdtemp(), reader=common.reader_path())
    splitter = a.splitter()
    articles, passages = [], []
    for title, text in paragraphs:
        art = make_article(title, text, "squad-train.jsonl", section="SQuAD")
        articles.append(art)
        passages.append(splitter.run(art))
    cache = common.CACHE / f"train_passage_vectors-{len(paragraphs)}.npy"
    n = sum(len(ps) for ps in passages)
    if cache.is_file() and np.load(cache, mmap_mode="r").shape[0] == n:
        vectors = np.load(cache)
    else:
        t0 = time.perf_counter()
        vectors = a.embedder.run([p.text for ps in passages for p in ps])
        print(f"embedded {n} passages in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return articles, passages, vectors, a


def build(n_passages: int, kind: str, root: Path, corpus) -> dict:
    """Write an index of the bundled article + distractors reaching ``n_passages``."""
    from dataclasses import replace

    from qa.converters import convert_paths
    from qa.store.index_store import IndexStore
    from qa.types import Passage

    articles, per_article, vectors, a = corpus
    seed_articles = convert_paths([common.SEEDS]).articles
    splitter = a.splitter()
    arts = {x.id: x for x in seed_articles}
    passages = [p for x in seed_articles for p in splitter.run(x)]
    vecs = [a.embedder.run([p.text for p in passages])]
    offsets = np.cumsum([0] + [len(ps) for ps in per_article])
    i = 0
    while len(passages) < n_passages:
        j = i % len(articles)
        copy = i // len(articles)
        art = articles[j] if copy == 0 else replace(articles[j], id=f"{articles[j].id}~{copy}")
        arts[art.id] = art
        take = per_article[j][: n_passages - len(passages)]
        passages += [Passage(id=f"{art.id}:{k}", article_id=art.id, start=p.start, end=p.end, text=p.text) for k, p in enumerate(take)]
        vecs.append(vectors[offsets[j] : offsets[j] + len(take)])
        i += 1
    vec = np.vstack(vecs).astype(np.float32)
    t0 = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    IndexStore(root).write(arts, passages, vec, a.embedder.model_name, vec.shape[1], kind,
                                  extra={"reader": a.reader.model_name})
    return {"passages": len(passages), "articles": len(arts), "write_s": time.perf_counter() - t0,
            "reused_paragraphs": i > len(articles)}


def one(index_dir: str, kind: str, runs: int) -> dict:
    """In a fresh process: open the index, warm up, ask every seed question ``runs`` times."""
    from qa import Assistant
    from qa.evaluation.gold import load_gold
    from qa.evaluation.metrics import exact_match, f1_score, max_over_references

    t0 = time.perf_counter()
    a = Assistant.open(index_dir, faiss_kind=kind, reader=common.reader_path())
    a.warm_up()
    load_s = time.perf_counter() - t0
    rss_loaded = common.current_rss_mb()
    gold = [g for g in load_gold(common.SEED_GOLD) if g.answers]
    a.ask(gold[0].question)
    per_run = []
    em = f1 = 0.0
    for r in range(runs):
        ret, read, tot = [], [], []
        for g in gold:
            ans = a.ask(g.question)
            ret.append(ans.timings["retrieve_s"] * 1000)
            read.append(ans.timings["read_s"] * 1000)
            tot.append(ans.timings["total_s"] * 1000)
            if r == 0:
                em += max_over_references(exact_match, ans.text, g.answers)
                f1 += max_over_references(f1_score, ans.text, g.answers)
        per_run.append({k: {"p50": common.pct(v, 50), "p95": common.pct(v, 95)}
                        for k, v in (("retrieve", ret), ("read", read), ("total", tot))})
    med = {k: {q: common.median([pr[k][q] for pr in per_run]) for q in ("p50", "p95")}
           for k in ("retrieve", "read", "total")}
    return {"faiss": a.data.manifest.get("faiss"), "questions": len(gold), "runs": runs, "load_s": load_s,
            "rss_loaded_mb": rss_loaded, "peak_rss_mb": common.peak_rss_mb(), "latency_ms": med,
            "per_run": per_run, "seed_em": 100 * em / len(gold), "seed_f1": 100 * f1 / len(gold)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    p.add_argument("--kinds", nargs="+", default=["flat", "hnsw"])
    p.add_argument("--runs", type=int, default=3, help="passes over the questions (median of their p50/p95)")
    p.add_argument("--paragraphs", type=int, help="use only the first N train paragraphs (quick checks)")
    p.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    common.add_reader_arg(p)
    args = p.parse_args()
    common.use_reader_arg(args)
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.runs)))
        return 0

    corpus = train_passages(args.paragraphs)
    work = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    results, rows = [], []
    try:
        for n in args.sizes:
            for kind in args.kinds:
                d = work / f"{n}-{kind}"
                info = build(n, kind, d, corpus)
                out = subprocess.run([sys.executable, __file__, "--one", str(d), kind, "--runs", str(args.runs)],
                                     capture_output=True, text=True, check=True)
                r = {"target_passages": n, **info, **json.loads(out.stdout.strip().splitlines()[-1])}
                results.append(r)
                lat = r["latency_ms"]
                rows.append((f"{r['passages']:,} {kind}", lat["retrieve"]["p50"], lat["retrieve"]["p95"],
                             lat["read"]["p50"], lat["read"]["p95"], lat["total"]["p50"], lat["total"]["p95"],
                             r["rss_loaded_mb"], r["seed_f1"]))
                print(f"done {n} {kind}", file=sys.stderr)
                shutil.rmtree(d, ignore_errors=True)
                # Saved after every configuration, so a stopped run keeps what it measured.
                path = common.save("bench_ask", {"runs": args.runs, "results": results})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    common.table("ask() latency (ms), seed questions over the bundled article + SQuAD distractors",
                 ["passages / FAISS", "retr p50", "retr p95", "read p50", "read p95", "total p50", "total p95",
                  "RSS MB", "seed F1"], rows)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
