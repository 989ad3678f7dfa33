"""SQuAD-style answer metrics (the official v1.1/v2.0 normalisation)."""

from __future__ import annotations

import collections
import re
import statistics
import string
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        # SQuAD v2: both empty (a correct abstention) scores 1, else 0.
        return float(pred == ref)
    common = collections.Counter(pred) & collections.Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(ref)
    return 2 * precision * recall / (precision + recall)


def max_over_references(metric, prediction: str, golds: Sequence[str]) -> float:
    """Score against every acceptable answer and keep the best.

    An empty list of golds means "no answer": only an empty prediction scores.
    """
    if not golds:
        return float(not prediction.strip())
    return max(metric(prediction, g) for g in golds)


def reliability_bins(confidences: Sequence[float], correct: Sequence[float], bins: int = 10) -> list[dict]:
    """Per-bin count, mean confidence and accuracy: bin ``b`` holds confidences in ``(b/bins, (b+1)/bins]``.

    The one binning Newsdesk uses: the reliability diagram and the
    calibration error are both computed from it.
    """
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (lo < c <= hi) or (b == 0 and c == 0)]
        out.append(
            {
                "lo": lo,
                "hi": hi,
                "count": len(idx),
                "mean_confidence": statistics.fmean(confidences[i] for i in idx) if idx else None,
                "accuracy": statistics.fmean(correct[i] for i in idx) if idx else None,
            }
        )
    return out


def expected_calibration_error(confidences: Iterable[float], correct: Iterable[float], bins: int = 10) -> float:
    """Mean gap between confidence and accuracy, weighted by bin size."""
    conf, corr = list(confidences), list(correct)
    if not conf:
        return 0.0
    return sum(
        b["count"] / len(conf) * abs(b["accuracy"] - b["mean_confidence"])
        for b in reliability_bins(conf, corr, bins)
        if b["count"]
    )
