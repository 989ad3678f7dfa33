"""Aggregate scores of a run: EM/F1 at any threshold, the threshold sweep and tuning, latency."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from qa.evaluation.metrics import expected_calibration_error, reliability_bins
from qa.evaluation.results import ItemResult

#: Ranks of retrieved passages looked at for recall@k and MRR.
RECALL_AT = (1, 5, 20)


#: Thresholds at which the F1 / answer-rate curve is drawn.
SWEEP = [round(i / 50, 2) for i in range(51)]


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
        out.update(
            {
                "has_ans_exact_match": _pct(em[i] for i in has),
                "has_ans_f1": _pct(f1[i] for i in has),
                "no_ans_exact_match": _pct(em[i] for i in no),
                "no_ans_f1": _pct(f1[i] for i in no),
                # Abstained where the articles do not say.
                "no_answer_accuracy": _pct(1.0 - answered[i] for i in no),
                "has_ans_count": len(has),
                "no_ans_count": len(no),
            }
        )
    return out


def tune_threshold(items: Sequence[ItemResult]) -> dict[str, Any]:
    """The threshold with the best F1 on these items.

    Only the confidences that occur can change the outcome, so each is tried.
    Among equally good ones the highest is kept (it shows fewer wrong answers
    at the same F1), and the value returned sits halfway to the next lower
    confidence, so that it is not balanced on one question's score.
    """
    confs = sorted({round(it.confidence, 6) for it in items if it.best_span})
    candidates = [0.0, *confs, 1.0 + 1e-9]
    best_i, best_f1 = 0, -1.0
    for i, t in enumerate(candidates):
        f1 = score_at(items, t)["f1"] or 0.0
        if f1 >= best_f1 - 1e-12:
            best_i, best_f1 = i, f1
    t = candidates[best_i]
    if best_i > 0:
        t = (candidates[best_i - 1] + candidates[best_i]) / 2
    t = min(max(t, 0.0), 1.0)
    at = score_at(items, t)
    return {"threshold": round(t, 4), **{k: v for k, v in at.items() if k != "threshold"}}


def percentile(xs: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100)."""
    if not xs:
        return None
    s = sorted(xs)
    k = (len(s) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _latency(xs: Sequence[float]) -> dict[str, float | None]:
    return {
        "p50_ms": _ms(percentile(xs, 50)),
        "p95_ms": _ms(percentile(xs, 95)),
        "mean_ms": _ms(statistics.fmean(xs) if xs else None),
    }


def _ms(x: float | None) -> float | None:
    return None if x is None else round(1000 * x, 2)


def recall_from_ranks(ranks: Sequence[int | None]) -> dict[str, Any]:
    """recall@k (percent) and MRR from the gold passage rank of each answerable question."""
    out: dict[str, Any] = {f"recall@{k}": _pct(float(r is not None and r <= k) for r in ranks) for k in RECALL_AT}
    out["mrr"] = statistics.fmean(1.0 / r if r else 0.0 for r in ranks) if ranks else None
    out["count"] = len(ranks)
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
