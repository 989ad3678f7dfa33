"""Score an Assistant against gold questions.

Two modes answer two different questions:

* ``reader``: the gold context is handed to the reader, so only the model is
  measured (the number to compare with published SQuAD readers);
* ``open``: every question goes through ``Assistant.ask`` exactly as a person's
  would, so retrieval misses, passage splitting and the no-answer threshold
  all count (the number a user of Newsdesk actually gets).

Each question's best span is kept *before* the no-answer threshold is
applied, with its calibrated confidence. That is what lets one run report
F1 and answer rate at every threshold, draw a reliability diagram and tune
the threshold without asking again.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa.contract import EvalMode
from qa.evaluation.gold import GoldItem, load_gold, select, unique_contexts
from qa.evaluation.metrics import normalize_answer
from qa.evaluation.reader_eval import read_examples
from qa.evaluation.results import ConversationReport, EvalReport, ItemResult, TurnResult, make_item
from qa.evaluation.scoring import RECALL_AT, _latency, recall_from_ranks, summarize, tune_threshold
from qa.store.index_settings import SETTINGS_FILE, load_threshold, save_threshold  # noqa: F401 (re-exported)

__all__ = [
    "ConversationReport",
    "EvalReport",
    "ItemResult",
    "TurnResult",
    "evaluate",
    "index_contexts",
    "machine_info",
    "retrieval_metrics",
    "top_span",
    "with_article_contexts",
]

Progress = Callable[[int, int], None]


def machine_info() -> dict[str, Any]:
    """Enough about the machine to compare timings across reports."""
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def _contains(passage: str, answer: str) -> bool:
    """Answer text in the passage, compared after SQuAD normalisation, on word boundaries."""
    if answer in passage:
        return True
    na = normalize_answer(answer)
    return bool(na) and f" {na} " in f" {normalize_answer(passage)} "


def _norm_text(text: str) -> str:
    return " ".join(text.split())


class _GoldPassages:
    """Decides which retrieved passages are the right ones for a question.

    A gold passage contains a gold answer string and, when the question names
    its article (or came with its context), belongs to that article: "1990"
    in some other paragraph is not evidence for the question.
    """

    def __init__(self, assistant) -> None:
        arts = assistant.data.articles
        self.by_text = {_norm_text(a.text): a.id for a in arts.values()}
        self.by_name: dict[str, set[str]] = {}
        for a in arts.values():
            names = {a.id, a.title}
            if a.path:
                p = Path(a.path.split("#", 1)[0])
                names |= {a.path, str(p), p.name, p.stem}
            for n in names:
                if n:
                    self.by_name.setdefault(n, set()).add(a.id)

    def articles_for(self, gold: GoldItem) -> set[str] | None:
        if gold.context:
            aid = self.by_text.get(_norm_text(gold.context))
            if aid:
                return {aid}
        if gold.article:
            return self.by_name.get(gold.article) or self.by_name.get(Path(gold.article).name)
        return None

    def rank(self, gold: GoldItem, retrieved) -> int | None:
        if not gold.answers:
            return None
        allowed = self.articles_for(gold)
        for rp in retrieved:
            p = rp.passage
            if allowed is not None and p.article_id not in allowed:
                continue
            if any(_contains(p.text, a) for a in gold.answers):
                return rp.rank
        return None


def with_article_contexts(assistant, items: Sequence[GoldItem]) -> list[GoldItem]:
    """Reader mode for questions written against an indexed article: its whole text is the context.

    Questions that already carry a context, or name no article, are returned
    unchanged (reader mode then reports the ones without a context).
    """
    if all(g.context or not g.article for g in items):
        return list(items)
    try:
        articles = assistant.data.articles
    except Exception:
        return list(items)
    names = _GoldPassages(assistant)
    out = []
    for g in items:
        ids = names.articles_for(g) if not g.context and g.article else None
        if ids and len(ids) == 1:
            g = replace(g, context=articles[next(iter(ids))].text)
        out.append(g)
    return out


def retrieval_metrics(assistant, items: Sequence[GoldItem], depth: int = max(RECALL_AT)) -> dict[str, Any]:
    """Retriever-only recall@k and MRR (no reading): cheap enough for thousands of questions."""
    gold_passages = _GoldPassages(assistant)
    ranks = [gold_passages.rank(g, assistant.retrieve(g.question, depth)) for g in items if g.answers]
    return recall_from_ranks(ranks)


def top_span(answer) -> tuple[str, float, str, str | None]:
    """(span, confidence, passage text, article title) of the top span, threshold or not.

    ``Answer.text`` is empty when the top span fell under the threshold; it is
    then the first alternative (``build_answer`` keeps the ranked spans).
    """
    span = answer.text
    article = answer.article
    pid = None
    if not span and answer.alternatives:
        alt = answer.alternatives[0]
        span, article, pid = alt.text, alt.article, alt.passage_id
    passage = ""
    for rp in answer.passages:
        if (pid and rp.passage.id == pid) or (not pid and span and span in rp.passage.text):
            passage = rp.passage.text
            break
    if not passage and answer.passages:
        passage = answer.passages[0].passage.text
    return span, float(answer.confidence), passage, (article.title if article else None)


def _run_open(
    assistant, items: Sequence[GoldItem], threshold: float, top_k: int | None, progress: Progress | None
) -> list[ItemResult]:
    gold_passages = _GoldPassages(assistant)
    depth = max(RECALL_AT)
    out: list[ItemResult] = []
    for n, g in enumerate(items, 1):
        t0 = time.perf_counter()
        answer = assistant.ask(g.question, top_k=top_k)
        latency = time.perf_counter() - t0
        span, conf, passage, title = top_span(answer)
        # Recall is measured on a deeper list than the reader sees; not timed.
        rank = gold_passages.rank(g, assistant.retrieve(answer.understood_as or g.question, depth))
        out.append(
            make_item(
                g,
                span,
                conf,
                threshold,
                latency,
                retrieve_s=answer.timings.get("retrieve_s"),
                read_s=answer.timings.get("read_s"),
                gold_rank=rank,
                passage=passage,
                article=title,
                understood_as=answer.understood_as,
            )
        )
        if progress:
            progress(n, len(items))
    return out


def _run_reader(reader, items: Sequence[GoldItem], threshold: float, progress: Progress | None) -> list[ItemResult]:
    missing = [g.id for g in items if not g.context]
    if missing:
        raise ValueError(
            f"reader mode needs a context for every question; {len(missing)} have none "
            f"(first: {missing[0]}); use open mode for those"
        )
    out: list[ItemResult] = []
    for n, g in enumerate(items, 1):
        assert g.context  # every item was checked above
        t0 = time.perf_counter()
        (pred,) = read_examples(reader, [g.question], [g.context])
        latency = time.perf_counter() - t0
        conf = reader.confidence(pred.margin) if pred.text else 0.0
        out.append(
            make_item(g, pred.text, conf, threshold, latency, read_s=latency, passage=g.context or "", article=g.title)
        )
        if progress:
            progress(n, len(items))
    return out


def evaluate(
    assistant,
    gold: str | Path | Sequence[GoldItem],
    mode: EvalMode | str = EvalMode.OPEN,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    threshold: float | None = None,
    top_k: int | None = None,
    tune: bool = False,
    name: str | None = None,
) -> EvalReport:
    """Answer every gold question and score the replies.

    ``gold`` is a path (SQuAD JSON or JSONL) or already-loaded items;
    ``sample`` draws a fixed random subset (same ``seed``, same questions),
    ``limit`` keeps the first N. ``threshold`` overrides the assistant's
    no-answer threshold; ``tune`` adds the F1-best threshold on these
    questions to the report (see ``save_threshold`` to keep it).
    """
    try:
        mode = EvalMode(mode)
    except ValueError:
        raise ValueError(f"mode must be 'open' or 'reader', not {mode!r}") from None
    if isinstance(gold, (str, Path)):
        name = name or Path(gold).name
        items_in = load_gold(gold)
    else:
        items_in = list(gold)
    items_in = select(items_in, limit=limit, sample=sample, seed=seed)
    if not items_in:
        raise ValueError("no gold questions to evaluate")
    t = assistant.threshold if threshold is None else threshold
    t0 = time.perf_counter()
    if mode is EvalMode.OPEN:
        results = _run_open(assistant, items_in, t, top_k, progress)
    else:
        results = _run_reader(assistant.reader, with_article_contexts(assistant, items_in), t, progress)
    wall = time.perf_counter() - t0
    metrics, retrieval, ece, sweep, rel = summarize(results, t)
    latency = {"total": _latency([r.latency_s for r in results])}
    if mode is EvalMode.OPEN:
        latency["retrieve"] = _latency([r.retrieve_s for r in results if r.retrieve_s is not None])
        latency["read"] = _latency([r.read_s for r in results if r.read_s is not None])
    config = {
        "mode": mode.value,
        "questions": len(results),
        "limit": limit,
        "sample": sample,
        "seed": seed,
        "threshold": t,
        "top_k": top_k or getattr(assistant, "top_k", None),
        "retrieval": getattr(assistant, "retrieval", None) if mode is EvalMode.OPEN else None,
        "reader": getattr(assistant.reader, "model_name", None),
        "bf16": getattr(assistant.reader, "bf16", None),
        "embedder": getattr(getattr(assistant, "embedder", None), "model_name", None)
        if mode is EvalMode.OPEN
        else None,
        "machine": machine_info(),
    }
    return EvalReport(
        name=name or "gold",
        mode=mode.value,
        threshold=t,
        metrics=metrics,
        latency=latency,
        throughput_qps=len(results) / wall if wall > 0 else 0.0,
        ece=ece,
        sweep=sweep,
        reliability=rel,
        config=config,
        items=results,
        retrieval=retrieval,
        tuned=tune_threshold(results) if tune else None,
        seconds=wall,
    )


def index_contexts(items: Sequence[GoldItem], index_dir: str | Path | None = None, progress=None, **assistant_kwargs):
    """An Assistant over the distinct contexts of ``items``, one article each.

    Used for open mode over SQuAD: the paragraphs become the "articles" the
    questions are asked against. Each is written as a JSONL record (text as
    is, the SQuAD title as the section) and indexed the ordinary way, so the
    same converters, splitter and retrievers are measured.
    """
    from qa import Assistant

    contexts = unique_contexts(items)
    if not contexts:
        raise ValueError("these gold questions carry no contexts to index")
    work = Path(tempfile.mkdtemp(prefix="newsdesk-eval-"))
    src = work / "contexts"
    src.mkdir()
    with open(src / "contexts.jsonl", "w", encoding="utf-8") as fh:
        for ctx, title in contexts:
            rec = {"text": ctx}
            if title:
                rec["section"] = title.replace("_", " ")
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return Assistant.from_paths([src], index_dir=index_dir or work / "index", progress=progress, **assistant_kwargs)
