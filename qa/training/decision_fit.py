"""Fit the no-answer decision on held-out pairs, measure it, choose its operating point.

Everything here reads ``heldout_pairs.ReadPair`` rows (held-out SQuAD v1.1
train articles and held-out SQuAD 2.0 articles; never a dev file). Figures
reported for a feature set are cross-validated by article: each article's
pairs are scored by a model fitted without that article, so the ablation,
the calibration error and the operating point are not measured on the pairs
a model was fitted on. The shipped model is then fitted on all pairs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from qa.evaluation.metrics import expected_calibration_error, f1_score, max_over_references
from qa.readers.decision import ALL_FEATURES, NoAnswerDecision, span_features
from qa.training.heldout_pairs import ANSWERABLE, ReadPair

#: A span counts as right when its token F1 with a reference is at least this.
RIGHT_F1 = 0.5
#: The operating-point constraint: at most this share of answerable pairs declined.
MAX_ANSWERABLE_DECLINED = 0.08
#: Feature sets compared in the ablation (the margin calibration alone is the old rule).
ABLATIONS = {
    "margin only (old rule)": ("margin",),
    "+ span log-prob": ("margin", "span_log_prob"),
    "+ key terms in passage/sentence": ("margin", "span_log_prob", "passage_coverage", "sentence_coverage"),
    "+ names/numbers missing": ("margin", "span_log_prob", "passage_coverage", "sentence_coverage", "missing_name"),
    "+ answer type": (
        "margin",
        "span_log_prob",
        "passage_coverage",
        "sentence_coverage",
        "missing_name",
        "type_mismatch",
    ),
    "all (+ negation)": ALL_FEATURES,
}


@dataclass
class PairTable:
    """One row per (pair, candidate span): features, whether the span is right, its pair."""

    x: np.ndarray  # (rows, len(ALL_FEATURES))
    right: np.ndarray  # (rows,) 1.0 when the span is right
    pair: np.ndarray  # (rows,) index of the pair
    top: np.ndarray  # (rows,) True for the reader's best span of the pair
    kinds: list[str]  # per pair
    groups: np.ndarray  # per pair: article fold id


def pair_table(pairs: list[ReadPair], *, folds: int = 5) -> PairTable:
    rows, right, pair, top = [], [], [], []
    for i, p in enumerate(pairs):
        for j, s in enumerate(p.spans):
            f = span_features(
                question=p.question,
                context=p.context,
                start=s.start,
                end=s.end,
                score=s.score,
                null_score=s.null_score,
                log_prob=s.log_prob,
            )
            rows.append([f[k] for k in ALL_FEATURES])
            ok = bool(p.answers) and max_over_references(f1_score, p.context[s.start : s.end], p.answers) >= RIGHT_F1
            right.append(float(ok))
            pair.append(i)
            top.append(j == 0)
    groups = np.array([int(hashlib.sha256(p.title.encode()).hexdigest(), 16) % folds for p in pairs])
    return PairTable(
        np.asarray(rows, dtype=np.float64).reshape(-1, len(ALL_FEATURES)),
        np.asarray(right),
        np.asarray(pair, dtype=int),
        np.asarray(top, dtype=bool),
        [p.kind for p in pairs],
        groups,
    )


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-2, iters: int = 50):
    """(weights, bias, mean, scale): L2-penalised logistic regression by Newton's method
    on standardised features (the penalty keeps nearly separable features finite)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2 * len(x))
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -40, 40)))
        g = z.T @ (p - y) + reg * w
        h = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1]), mean, scale


def fit_decision(table: PairTable, features, *, threshold: float = 0.5, rows=None) -> NoAnswerDecision:
    """A decision on ``features``, fitted on the best span of each pair (in ``rows`` if given)."""
    cols = [ALL_FEATURES.index(f) for f in features]
    mask = table.top if rows is None else table.top & rows
    w, b, mean, scale = fit_logistic(table.x[mask][:, cols], table.right[mask])
    return NoAnswerDecision(
        features=list(features),
        weights=[round(float(v), 6) for v in w],
        bias=round(b, 6),
        mean=[round(float(v), 6) for v in mean],
        scale=[round(float(v), 6) for v in scale],
        threshold=threshold,
    )


def _pair_confidence(table: PairTable, decision: NoAnswerDecision) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the highest confidence over its spans and whether that span is right (as the answer
    builder ranks spans by confidence)."""
    cols = [ALL_FEATURES.index(f) for f in decision.features]
    z = decision.bias + ((table.x[:, cols] - decision.mean) / decision.scale) @ np.asarray(decision.weights)
    conf = 1 / (1 + np.exp(-np.clip(z, -40, 40)))
    n = len(table.kinds)
    best, right = np.zeros(n), np.zeros(n)
    for r in np.argsort(conf):  # ascending: the last write per pair is its best span
        best[table.pair[r]], right[table.pair[r]] = conf[r], table.right[r]
    return best, right


def cross_validated(table: PairTable, features) -> tuple[np.ndarray, np.ndarray]:
    """Per pair (confidence, right) from models fitted without the pair's article fold."""
    conf, right = np.zeros(len(table.kinds)), np.zeros(len(table.kinds))
    for fold in np.unique(table.groups):
        held = table.groups[table.pair] == fold
        d = fit_decision(table, features, rows=~held)
        c, r = _pair_confidence(table, d)
        sel = table.groups == fold
        conf[sel], right[sel] = c[sel], r[sel]
    return conf, right


def declined_by_kind(kinds: list[str], conf: np.ndarray, threshold: float) -> dict[str, float]:
    """Percent declined (confidence under ``threshold``) per kind, and over every unanswerable kind."""
    k = np.asarray(kinds)
    out = {kind: round(100 * float(np.mean(conf[k == kind] < threshold)), 1) for kind in dict.fromkeys(kinds)}
    out["unanswerable"] = round(100 * float(np.mean(conf[k != ANSWERABLE] < threshold)), 1)
    return out


def operating_point(kinds: list[str], conf: np.ndarray, *, max_declined: float = MAX_ANSWERABLE_DECLINED) -> float:
    """The highest threshold that declines at most ``max_declined`` of answerable pairs:
    it declines the most unanswerables the constraint allows."""
    pos = np.sort(conf[np.asarray(kinds) == ANSWERABLE])
    if not len(pos):
        return 0.5
    k = int(np.floor(max_declined * len(pos)))  # pairs allowed under the threshold
    return float(pos[k]) if k < len(pos) else 1.0


def answerable_f1(
    pairs: list[ReadPair],
    table: PairTable,
    conf: np.ndarray,
    threshold: float,
    decision: NoAnswerDecision | None = None,
) -> float:
    """Mean F1 over answerable pairs when pairs under ``threshold`` are declined (F1 0)."""
    scores = []
    for i, p in enumerate(pairs):
        if p.kind != ANSWERABLE:
            continue
        s = p.spans[0] if p.spans else None
        scores.append(
            0.0
            if s is None or conf[i] < threshold
            else max_over_references(f1_score, p.context[s.start : s.end], p.answers)
        )
    return round(100 * float(np.mean(scores)), 1) if scores else 0.0


def evaluate_features(pairs: list[ReadPair], table: PairTable, features) -> dict:
    """Cross-validated figures of one feature set at its own operating point."""
    conf, right = cross_validated(table, features)
    t = operating_point(table.kinds, conf)
    return {
        "features": list(features),
        "threshold": round(t, 4),
        "declined": declined_by_kind(table.kinds, conf, t),
        "answerable_f1": answerable_f1(pairs, table, conf, t),
        "ece": round(expected_calibration_error(conf.tolist(), right.tolist()), 4),
        "ece_by_kind": {
            k: round(
                expected_calibration_error(
                    conf[np.asarray(table.kinds) == k].tolist(), right[np.asarray(table.kinds) == k].tolist()
                ),
                4,
            )
            for k in dict.fromkeys(table.kinds)
        },
    }


def fit_and_report(pairs: list[ReadPair], *, features=ALL_FEATURES) -> tuple[NoAnswerDecision, dict]:
    """The shipped decision (fitted on every pair, threshold from cross-validation) and its report."""
    table = pair_table(pairs)
    ablation = {name: evaluate_features(pairs, table, fs) for name, fs in ABLATIONS.items()}
    chosen = next((r for r in ablation.values() if r["features"] == list(features)), None) or evaluate_features(
        pairs, table, features
    )
    decision = fit_decision(table, features, threshold=round(chosen["threshold"], 4))
    counts = {k: int(sum(1 for p in pairs if p.kind == k)) for k in dict.fromkeys(p.kind for p in pairs)}
    decision.fitted_on = {
        "pairs": counts,
        "right": f"token F1 >= {RIGHT_F1}",
        "constraint": f"answerable declined <= {MAX_ANSWERABLE_DECLINED:.0%}",
        "cross_validated": {k: chosen[k] for k in ("declined", "answerable_f1", "ece")},
    }
    return decision, {"chosen": chosen, "ablation": ablation, "pairs": counts}
