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
import math
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from qa.evaluation.gold import (
    GoldConversation,
    GoldItem,
    load_conversations,
    load_gold,
    select,
    unique_contexts,
)
from qa.evaluation.metrics import (
    exact_match,
    expected_calibration_error,
    f1_score,
    max_over_references,
    normalize_answer,
)
from qa.evaluation.reader_eval import read_examples
from qa.store.index_settings import SETTINGS_FILE, load_threshold, save_threshold  # noqa: F401 (re-exported)

#: Ranks of retrieved passages looked at for recall@k and MRR.
RECALL_AT = (1, 5, 20)
#: Thresholds at which the F1 / answer-rate curve is drawn.
SWEEP = [round(i / 50, 2) for i in range(51)]

Progress = Callable[[int, int], None]


# -- per-question results ------------------------------------------------------
@dataclass(kw_only=True)
class ItemResult:
    """One question, its gold answers and what the assistant said."""

    id: str
    question: str
    golds: list[str]
    #: The reply after the no-answer threshold ("" = the assistant abstained).
    prediction: str
    #: The best span before the threshold ("" only when no span was found at all).
    best_span: str
    confidence: float
    exact_match: float
    f1: float
    #: EM/F1 of ``best_span`` and of abstaining; together they give EM/F1 at any threshold.
    span_em: float
    span_f1: float
    abstain_em: float
    abstain_f1: float
    latency_s: float
    retrieve_s: float | None = None
    read_s: float | None = None
    #: 1-based rank of the first gold passage in the top 20 (None: not found or not open mode).
    gold_rank: int | None = None
    passage: str = ""
    article: str | None = None
    understood_as: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.golds)

    @property
    def correct(self) -> bool:
        """Right reply: an exact match, or an abstention where there is no answer."""
        return self.exact_match == 1.0


def _score(prediction: str, golds: Sequence[str]) -> tuple[float, float]:
    return (max_over_references(exact_match, prediction, golds),
            max_over_references(f1_score, prediction, golds))


def make_item(gold: GoldItem, best_span: str, confidence: float, threshold: float, latency_s: float,
              **extra: Any) -> ItemResult:
    span_em, span_f1 = _score(best_span, gold.answers)
    abstain_em, abstain_f1 = _score("", gold.answers)
    answered = bool(best_span) and confidence >= threshold
    return ItemResult(
        id=gold.id, question=gold.question, golds=list(gold.answers), prediction=best_span if answered else "",
        best_span=best_span, confidence=confidence,
        exact_match=span_em if answered else abstain_em, f1=span_f1 if answered else abstain_f1,
        span_em=span_em, span_f1=span_f1, abstain_em=abstain_em, abstain_f1=abstain_f1, latency_s=latency_s,
        **extra,
    )


# -- aggregate metrics ---------------------------------------------------------
def _pct(xs: Iterable[float]) -> float | None:
    xs = list(xs)
    return 100.0 * sum(xs) / len(xs) if xs else None


def score_at(items: Sequence[ItemResult], threshold: float) -> dict[str, Any]:
    """EM/F1 (percent) if only spans with confidence >= ``threshold`` were given."""
    em, f1, answered = [], [], []
    for it in items:
        ans = bool(it.best_span) and it.confidence >= threshold
        answered.append(float(ans))
        em.append(it.span_em if ans else it.abstain_em)
        f1.append(it.span_f1 if ans else it.abstain_f1)
    has = [i for i, it in enumerate(items) if it.answerable]
    no = [i for i, it in enumerate(items) if not it.answerable]
    out: dict[str, Any] = {
        "threshold": threshold,
        "exact_match": _pct(em),
        "f1": _pct(f1),
        "answer_rate": _pct(answered),
        "count": len(items),
    }
    if no:
        out.update({
            "has_ans_exact_match": _pct(em[i] for i in has),
            "has_ans_f1": _pct(f1[i] for i in has),
            "no_ans_exact_match": _pct(em[i] for i in no),
            "no_ans_f1": _pct(f1[i] for i in no),
            # Abstained where the articles do not say.
            "no_answer_accuracy": _pct(1.0 - answered[i] for i in no),
            "has_ans_count": len(has),
            "no_ans_count": len(no),
        })
    return out


def tune_threshold(items: Sequence[ItemResult]) -> dict[str, Any]:
    """The threshold with the best F1 on these items.

    Only the confidences that occur can change the outcome, so each is tried.
    Among equally good ones the highest is kept (it shows fewer wrong answers
    at the same F1), and the value returned sits halfway to the next lower
    confidence, so that it is not balanced on one question's score.
    """
    confs = sorted({round(it.confidence, 6) for it in items if it.best_span})
    candidates = [0.0] + confs + [1.0 + 1e-9]
    best_i, best_f1 = 0, -1.0
    for i, t in enumerate(candidates):
        f1 = score_at(items, t)["f1"] or 0.0
        if f1 >= best_f1 - 1e-12:
            best_i, best_f1 = i, f1
    t = candidates[best_i]
    if 0 < best_i:
        t = (candidates[best_i - 1] + candidates[best_i]) / 2
    t = min(max(t, 0.0), 1.0)
    at = score_at(items, t)
    return {"threshold": round(t, 4), **{k: v for k, v in at.items() if k != "threshold"}}


def reliability_bins(confidences: Sequence[float], correct: Sequence[float], bins: int = 10) -> list[dict]:
    """Per-bin mean confidence and accuracy, binned as ``expected_calibration_error`` bins."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (lo < c <= hi) or (b == 0 and c == 0)]
        out.append({
            "lo": lo, "hi": hi, "count": len(idx),
            "mean_confidence": statistics.fmean(confidences[i] for i in idx) if idx else None,
            "accuracy": statistics.fmean(correct[i] for i in idx) if idx else None,
        })
    return out


def percentile(xs: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100)."""
    if not xs:
        return None
    s = sorted(xs)
    k = (len(s) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _latency(xs: Sequence[float]) -> dict[str, float | None]:
    return {"p50_ms": _ms(percentile(xs, 50)), "p95_ms": _ms(percentile(xs, 95)),
            "mean_ms": _ms(statistics.fmean(xs) if xs else None)}


def _ms(x: float | None) -> float | None:
    return None if x is None else round(1000 * x, 2)


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
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}


@dataclass
class EvalReport:
    """Everything one evaluation run measured; ``to_dict`` is the JSON report."""

    name: str
    mode: str
    threshold: float
    metrics: dict[str, Any]
    latency: dict[str, Any]
    throughput_qps: float
    ece: float
    sweep: list[dict[str, Any]]
    reliability: list[dict[str, Any]]
    config: dict[str, Any]
    items: list[ItemResult] = field(default_factory=list)
    retrieval: dict[str, Any] | None = None
    tuned: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def exact_match(self) -> float:
        return self.metrics["exact_match"]

    @property
    def f1(self) -> float:
        return self.metrics["f1"]

    def wrong_answers(self) -> list[ItemResult]:
        """Every question whose reply was not an exact match (or a wrong abstention)."""
        return [it for it in self.items if not it.correct]

    def to_dict(self, items: bool = False) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "items"}
        if items:
            d["items"] = [asdict(it) for it in self.items]
        return d


# -- running -------------------------------------------------------------------
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


def recall_from_ranks(ranks: Sequence[int | None]) -> dict[str, Any]:
    """recall@k (percent) and MRR from the gold passage rank of each answerable question."""
    out: dict[str, Any] = {f"recall@{k}": _pct(float(r is not None and r <= k) for r in ranks) for k in RECALL_AT}
    out["mrr"] = statistics.fmean(1.0 / r if r else 0.0 for r in ranks) if ranks else None
    out["count"] = len(ranks)
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


def _run_open(assistant, items: Sequence[GoldItem], threshold: float, top_k: int | None,
              progress: Progress | None) -> list[ItemResult]:
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
        out.append(make_item(
            g, span, conf, threshold, latency,
            retrieve_s=answer.timings.get("retrieve_s"), read_s=answer.timings.get("read_s"),
            gold_rank=rank, passage=passage, article=title, understood_as=answer.understood_as,
        ))
        if progress:
            progress(n, len(items))
    return out


def _run_reader(reader, items: Sequence[GoldItem], threshold: float,
                progress: Progress | None) -> list[ItemResult]:
    missing = [g.id for g in items if not g.context]
    if missing:
        raise ValueError(f"reader mode needs a context for every question; {len(missing)} have none "
                         f"(first: {missing[0]}); use open mode for those")
    out: list[ItemResult] = []
    for n, g in enumerate(items, 1):
        t0 = time.perf_counter()
        (pred,) = read_examples(reader, [g.question], [g.context])
        latency = time.perf_counter() - t0
        conf = reader.confidence(pred.margin) if pred.text else 0.0
        out.append(make_item(g, pred.text, conf, threshold, latency, read_s=latency, passage=g.context or "",
                             article=g.title))
        if progress:
            progress(n, len(items))
    return out


def summarize(items: Sequence[ItemResult], threshold: float) -> tuple[dict, dict | None, float, list, list]:
    """Metrics, retrieval metrics, ECE, threshold sweep and reliability bins of a run."""
    metrics = score_at(items, threshold)
    retrieval = None
    answerable = [it for it in items if it.answerable]
    if any(it.retrieve_s is not None for it in items) and answerable:
        retrieval = recall_from_ranks([it.gold_rank for it in answerable])
    # Calibration: confidence is "P(this span is exactly right)"; a span for an
    # unanswerable question is never right.
    with_span = [it for it in items if it.best_span]
    conf = [it.confidence for it in with_span]
    correct = [it.span_em if it.answerable else 0.0 for it in with_span]
    ece = expected_calibration_error(conf, correct)
    sweep = [score_at(items, t) for t in SWEEP]
    return metrics, retrieval, ece, sweep, reliability_bins(conf, correct)


def evaluate(
    assistant,
    gold: str | Path | Sequence[GoldItem],
    mode: str = "open",
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
    if mode not in ("open", "reader"):
        raise ValueError(f"mode must be 'open' or 'reader', not {mode!r}")
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
    if mode == "open":
        results = _run_open(assistant, items_in, t, top_k, progress)
    else:
        results = _run_reader(assistant.reader, with_article_contexts(assistant, items_in), t, progress)
    wall = time.perf_counter() - t0
    metrics, retrieval, ece, sweep, rel = summarize(results, t)
    latency = {"total": _latency([r.latency_s for r in results])}
    if mode == "open":
        latency["retrieve"] = _latency([r.retrieve_s for r in results if r.retrieve_s is not None])
        latency["read"] = _latency([r.read_s for r in results if r.read_s is not None])
    config = {
        "mode": mode, "questions": len(results), "limit": limit, "sample": sample, "seed": seed,
        "threshold": t, "top_k": top_k or getattr(assistant, "top_k", None),
        "retrieval": getattr(assistant, "retrieval", None) if mode == "open" else None,
        "reader": getattr(assistant.reader, "model_name", None),
        "bf16": getattr(assistant.reader, "bf16", None),
        "embedder": getattr(getattr(assistant, "embedder", None), "model_name", None) if mode == "open" else None,
        "machine": machine_info(),
    }
    return EvalReport(
        name=name or "gold", mode=mode, threshold=t, metrics=metrics, latency=latency,
        throughput_qps=len(results) / wall if wall > 0 else 0.0, ece=ece, sweep=sweep, reliability=rel,
        config=config, items=results, retrieval=retrieval, tuned=tune_threshold(results) if tune else None,
        seconds=wall,
    )


# -- indexes for gold files that carry their contexts --------------------------
def index_contexts(items: Sequence[GoldItem], index_dir: str | Path | None = None,
                   progress=None, **assistant_kwargs):
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
    return Assistant.from_paths([src], index_dir=index_dir or work / "index", progress=progress,
                                **assistant_kwargs)


# -- conversations -----------------------------------------------------------
@dataclass(kw_only=True)
class TurnResult:
    conversation: str
    turn: int
    question: str
    understood_as: str
    golds: list[str]
    prediction: str
    confidence: float
    exact_match: float
    f1: float
    expected_words: list[str]
    #: None on first turns and turns that list no expected words.
    rewrite_ok: bool | None
    #: The same check on the rewrite made from the *gold* answers of earlier turns.
    oracle_rewrite: str = ""
    oracle_rewrite_ok: bool | None = None


@dataclass
class ConversationReport:
    """Turn-level answer quality and how well follow-ups were understood."""

    conversations: int
    turns: int
    exact_match: float
    f1: float
    follow_up_exact_match: float | None
    follow_up_f1: float | None
    rewrite_accuracy: float | None
    oracle_rewrite_accuracy: float | None
    rewrite_checked: int
    threshold: float
    items: list[TurnResult] = field(default_factory=list)

    def to_dict(self, items: bool = True) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "items"}
        if items:
            d["items"] = [asdict(t) for t in self.items]
        return d


def _has_words(text: str, words: Sequence[str]) -> bool:
    low = text.lower()
    return all(w.lower() in low for w in words)


def evaluate_conversations(assistant, gold: str | Path | Sequence[GoldConversation],
                           threshold: float | None = None, top_k: int | None = None,
                           progress: Progress | None = None) -> ConversationReport:
    """Play each conversation turn by turn through ``Assistant.conversation()``.

    Reports EM/F1 over all turns and over follow-ups, and rewrite accuracy:
    the fraction of follow-up turns whose self-contained rewrite
    (``Answer.understood_as``) contains every expected word. The oracle
    rewrite accuracy repeats the check with the gold answers as history, so a
    rewriting rule and a wrong earlier answer can be told apart.
    """
    from qa.conversation import rewrite_all

    convs = load_conversations(gold) if isinstance(gold, (str, Path)) else list(gold)
    t = assistant.threshold if threshold is None else threshold
    results: list[TurnResult] = []
    total = sum(len(c.turns) for c in convs)
    for conv in convs:
        chat = assistant.conversation()
        oracle = rewrite_all([tn.question for tn in conv.turns],
                             [tn.answers[0] if tn.answers else "" for tn in conv.turns])
        for i, turn in enumerate(conv.turns):
            answer = chat.ask(turn.question, top_k=top_k, threshold=t)
            understood = answer.understood_as or turn.question
            em, f1 = _score(answer.text, turn.answers)
            check = i > 0 and bool(turn.rewrite_contains)
            results.append(TurnResult(
                conversation=conv.id, turn=i, question=turn.question, understood_as=understood,
                golds=list(turn.answers), prediction=answer.text, confidence=float(answer.confidence),
                exact_match=em, f1=f1, expected_words=list(turn.rewrite_contains),
                rewrite_ok=_has_words(understood, turn.rewrite_contains) if check else None,
                oracle_rewrite=oracle[i],
                oracle_rewrite_ok=_has_words(oracle[i], turn.rewrite_contains) if check else None,
            ))
            if progress:
                progress(len(results), total)
    follow = [r for r in results if r.turn > 0]
    checked = [r for r in results if r.rewrite_ok is not None]
    return ConversationReport(
        conversations=len(convs), turns=len(results),
        exact_match=_pct(r.exact_match for r in results) or 0.0,
        f1=_pct(r.f1 for r in results) or 0.0,
        follow_up_exact_match=_pct(r.exact_match for r in follow),
        follow_up_f1=_pct(r.f1 for r in follow),
        rewrite_accuracy=_pct(float(bool(r.rewrite_ok)) for r in checked),
        oracle_rewrite_accuracy=_pct(float(bool(r.oracle_rewrite_ok)) for r in checked),
        rewrite_checked=len(checked), threshold=t, items=results,
    )
