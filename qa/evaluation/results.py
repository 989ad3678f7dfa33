"""What an evaluation run records: one result per question or turn, and the reports around them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from qa.evaluation.gold import GoldItem
from qa.evaluation.metrics import exact_match, f1_score, max_over_references


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
    return (max_over_references(exact_match, prediction, golds), max_over_references(f1_score, prediction, golds))


def make_item(
    gold: GoldItem, best_span: str, confidence: float, threshold: float, latency_s: float, **extra: Any
) -> ItemResult:
    span_em, span_f1 = _score(best_span, gold.answers)
    abstain_em, abstain_f1 = _score("", gold.answers)
    answered = bool(best_span) and confidence >= threshold
    return ItemResult(
        id=gold.id,
        question=gold.question,
        golds=list(gold.answers),
        prediction=best_span if answered else "",
        best_span=best_span,
        confidence=confidence,
        exact_match=span_em if answered else abstain_em,
        f1=span_f1 if answered else abstain_f1,
        span_em=span_em,
        span_f1=span_f1,
        abstain_em=abstain_em,
        abstain_f1=abstain_f1,
        latency_s=latency_s,
        **extra,
    )


@dataclass(kw_only=True)
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


@dataclass(kw_only=True)
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
