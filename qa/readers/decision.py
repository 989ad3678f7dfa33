"""The no-answer decision: a small calibrated combination of signals.

The span margin alone (best span logit minus the [CLS] logit) barely tells a
question the passage answers from one that only looks answerable: a swapped
name, a detail the article never reports, a negated question over a passage
that states the positive. Cheap signals the reader does not see separate
them better: whether the question's names, numbers and content words occur
in the passage and in the sentence around the span, whether the span is of
the kind the question asks for (who → a name, when → a date, how many → a
number), and whether a negated question meets a sentence without negation.

A logistic regression over these features, fitted on held-out articles only
(``qa.training.decision_fit``), gives P(the span is right). It is stored as
JSON beside the reader (``newsdesk_decision.json``: feature names, weights,
standardisation, threshold, version); when the file is absent the reader's
margin calibration is used as before.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.preprocessors.sentences import sentence_at
from qa.readers import decision_words as W

#: File written beside the reader weights.
DECISION_FILE = "newsdesk_decision.json"
#: Bumped when a feature's definition changes: a file of another version is not used.
FEATURE_VERSION = 1

#: Every feature this module can compute, in a fixed order.
ALL_FEATURES = (
    "margin",
    "span_log_prob",
    "passage_coverage",
    "sentence_coverage",
    "missing_name",
    "type_mismatch",
    "negation_mismatch",
)

_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|neither|without)\b|n't\b", re.I)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def _stem(word: str) -> str:
    """A light stem so "discussed"/"discussion" and "prisoners"/"prisoner" meet."""
    w = word.lower().strip("'’-").replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    return w[:6]


def key_terms(question: str) -> list[str]:
    """Stems of the question's content words (names, numbers, nouns, verbs)."""
    return [_stem(w) for w in _WORD.findall(question) if w.lower() not in W.STOP and len(w) > 1]


def names_and_numbers(question: str) -> list[str]:
    """Capitalised words past the first word, and numbers: what a passage must mention to answer."""
    words = _WORD.findall(question)
    return [
        w for i, w in enumerate(words) if (w[0].isdigit() or (i > 0 and w[0].isupper())) and w.lower() not in W.STOP
    ]


def _coverage(terms: Sequence[str], text: str) -> float:
    if not terms:
        return 1.0
    have = {_stem(w) for w in _WORD.findall(text)}
    return sum(t in have for t in terms) / len(terms)


def expected_type(question: str) -> str | None:
    """What kind of answer the question asks for: "number", "date", "person", "place" or None."""
    q = question.lower()
    if re.search(r"\bhow (?:many|much|long|old|far|often)\b|\bwhat (?:number|percentage|percent|amount)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|month|time|century|decade)\b|\bwhich (?:year|day|month)\b", q):
        return "date"
    if re.search(r"^\s*(?:who|whom|whose)\b|\b(?:by|to|with) whom\b", q):
        return "person"
    if re.search(r"^\s*where\b|\bwhat (?:city|country|town|place)\b|\bwhich (?:city|country|town|place)\b", q):
        return "place"
    return None


def span_has_type(span: str, kind: str) -> bool:
    words = [w.lower() for w in _WORD.findall(span)]
    has_digit = any(ch.isdigit() for ch in span)
    if kind == "number":
        return has_digit or any(w in W.NUMBER_WORDS for w in words)
    if kind == "date":
        return has_digit or any(w in W.TIME_WORDS for w in words)
    capital = any(w[:1].isupper() for w in _WORD.findall(span))
    if kind == "person":
        return capital or any(w in W.PERSON_WORDS for w in words)
    return capital


def span_features(
    *, question: str, context: str, start: int, end: int, score: float, null_score: float, log_prob: float
) -> dict[str, float]:
    """Every feature of ``ALL_FEATURES`` for one span of one (question, context) pair."""
    s0, s1 = sentence_at(context, start, end)
    sentence = context[s0:s1]
    terms = key_terms(question)
    names = names_and_numbers(question)
    low = context.lower()
    kind = expected_type(question)
    return {
        "margin": max(-20.0, min(20.0, score - null_score)),
        "span_log_prob": max(-20.0, log_prob),
        "passage_coverage": _coverage(terms, context),
        "sentence_coverage": _coverage(terms, sentence),
        "missing_name": float(any(n.lower() not in low for n in names)),
        "type_mismatch": float(kind is not None and not span_has_type(context[start:end], kind)),
        "negation_mismatch": float(bool(_NEGATION.search(question)) and not _NEGATION.search(sentence)),
    }


@dataclass
class NoAnswerDecision:
    """P(span is right) = sigmoid(bias + Σ weight · (feature − mean) / scale); declined under ``threshold``."""

    features: list[str]
    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]
    threshold: float
    version: int = FEATURE_VERSION
    #: What it was fitted on and how it scored there (for people; not read back).
    fitted_on: dict = field(default_factory=dict)

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(
            w * (values[f] - m) / s for f, w, m, s in zip(self.features, self.weights, self.mean, self.scale)
        )
        z = max(-40.0, min(40.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def confidence(self, *, question: str, context: str, candidate) -> float:
        """Confidence of one reader span (a ``SpanCandidate``) over its passage text."""
        return self.probability(
            span_features(
                question=question,
                context=context,
                start=candidate.start,
                end=candidate.end,
                score=candidate.score,
                null_score=candidate.null_score,
                log_prob=candidate.log_prob,
            )
        )

    def save(self, model_dir: str | Path) -> Path:
        p = Path(model_dir) / DECISION_FILE
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(p)
        return p

    @classmethod
    def load(cls, model_dir: str | Path) -> NoAnswerDecision | None:
        """The decision stored beside a reader, or None (absent, another version, unknown features)."""
        p = Path(model_dir) / DECISION_FILE
        if not p.is_file():
            return None
        raw = json.loads(p.read_text(encoding="utf-8"))
        if raw.get("version") != FEATURE_VERSION or not set(raw.get("features", ())) <= set(ALL_FEATURES):
            return None
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


_LOADED: dict[str, NoAnswerDecision | None] = {}


def decision_for(model_dir: str | Path) -> NoAnswerDecision | None:
    """``NoAnswerDecision.load`` once per reader folder per process."""
    key = str(model_dir)
    if key not in _LOADED:
        _LOADED[key] = NoAnswerDecision.load(model_dir) if Path(key).is_dir() else None
    return _LOADED[key]
