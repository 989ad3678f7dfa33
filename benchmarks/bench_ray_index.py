"""Indexing throughput on Ray (1 and 2 embedding workers) beside one process, and FAISS bytes per passage.

Run inside a loopback-only network namespace (Ray probes outside addresses
otherwise) and with the machine otherwise quiet:

    unshare -n bash -c 'ip link set lo up; .venv/bin/python benchmarks/bench_ray_index.py --articles 300'

Each article is its own JSON file (SQuAD train paragraphs, see
``common.py``), so conversion spreads over tasks. A Ray runtime is started
in this process first (``--cpus``, default 2) and kept across runs, so its
start is not timed; each run does include loading the models in its
actors, as a real job does. Passages/s = passages embedded / the run's
wall time (list, convert, split, embed, write). The single-process run
uses all cores (torch threads); each Ray worker uses one thread, so the
1-worker rate is the per-worker rate that scales out to N machines.

``--faiss-sizes N`` also measures the serialized FAISS index on N random
384-dim vectors for flat, HNSW (as the store builds it) and IVF-PQ, as
passages per GB of memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def write_corpus(n_articles: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, record in enumerate(common.corpus_records(n_articles)):
        (folder / f"{i:06d}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return folder


def one_run(corpus: Path, *, workers: int | None) -> dict:
    from qa import Assistant
    from qa.distributed import index_on_ray

    index = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        a = Assistant(index, precision="fp32")
        a.embedder.warm_up()  # the driver's copy (dimension); the local run's clock starts loaded too
        a.reader.tokenizer_only()
        t0 = time.perf_counter()
        if workers is None:
            report = a.index([corpus])
        else:
            report = index_on_ray(a, [corpus], address="auto", workers=workers)
        seconds = time.perf_counter() - t0
        return {
            "passages": report.passages_embedded,
            "seconds": seconds,
            "passages_per_s": report.passages_embedded / seconds,
        }
    finally:
        shutil.rmtree(index, ignore_errors=True)


def faiss_sizes(n: int, dim: int = 384) -> list[dict]:
    import faiss
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    flat = faiss.IndexFlatIP(dim)
    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    nlist = max(1, min(4096, int(np.sqrt(n) * 2)))
    ivfpq = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, 48, 8, faiss.METRIC_INNER_PRODUCT)
    ivfpq.train(x)
    out = []
    for name, index in (("flat", flat), ("hnsw (M=32)", hnsw), ("ivf-pq (48 x 8 bit)", ivfpq)):
        index.add(x)
        size = len(faiss.serialize_index(index))
        out.append(
            {
                "index": name,
                "vectors": n,
                "bytes": size,
                "bytes_per_passage": size / n,
                "passages_per_gb": int(2**30 / (size / n)),
            }
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--faiss-sizes", type=int, default=0)
    args = p.parse_args()
    print(common.cpu_line())
    import os

    os.environ.setdefault("NEWSDESK_PRECISION", "fp32")
    import ray

    work = Path(tempfile.mkdtemp(prefix="bench-ray-corpus-"))
    results: dict = {"articles": args.articles, "runs": {}}
    try:
        corpus = write_corpus(args.articles, work / "articles")
        env = {
            k: os.environ[k]
            for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "NEWSDESK_PRECISION")
            if k in os.environ
        }
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
        for label, workers in (("single process", None), ("ray, 1 worker", 1), ("ray, 2 workers", 2)):
            runs = [one_run(corpus, workers=workers) for _ in range(args.runs)]
            results["runs"][label] = {
                "passages": runs[0]["passages"],
                "seconds": common.median([r["seconds"] for r in runs]),
                "passages_per_s": common.median([r["passages_per_s"] for r in runs]),
                "all": runs,
            }
            print(label, json.dumps(results["runs"][label]["passages_per_s"]), flush=True)
        ray.shutdown()
        if args.faiss_sizes:
            results["faiss"] = faiss_sizes(args.faiss_sizes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [(k, v["passages"], f"{v['seconds']:.1f}", f"{v['passages_per_s']:.1f}") for k, v in results["runs"].items()]
    common.table("indexing throughput", ["run", "passages", "seconds", "passages/s"], rows)
    if "faiss" in results:
        common.table(
            "FAISS size, 384-dim",
            ["index", "bytes/passage", "passages per GB"],
            [(f["index"], f"{f['bytes_per_passage']:.0f}", f"{f['passages_per_gb']:,}") for f in results["faiss"]],
        )
    print("saved", common.save("bench_ray_index", results))


if __name__ == "__main__":
    main()
