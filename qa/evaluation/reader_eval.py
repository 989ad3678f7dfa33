"""Reader-only evaluation: the gold context is given, only the model is measured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.evaluation.metrics import exact_match, f1_score, max_over_references


@dataclass
class ReaderPrediction:
    text: str
    start: int
    end: int
    margin: float


def read_examples(
    reader, questions: Sequence[str], contexts: Sequence[str], chunk: int = 64, progress=None
) -> list[ReaderPrediction]:
    """Best span of each (question, context) pair, ignoring any threshold."""
    out: list[ReaderPrediction] = []
    for lo in range(0, len(questions), chunk):
        preds = reader.predict(questions[lo : lo + chunk], contexts[lo : lo + chunk])
        for p, ctx in zip(preds, contexts[lo : lo + chunk]):
            if p.candidates:
                c = p.candidates[0]
                out.append(ReaderPrediction(ctx[c.start : c.end], c.start, c.end, c.margin))
            else:
                out.append(ReaderPrediction("", 0, 0, float("-inf")))
        if progress:
            progress(min(lo + chunk, len(questions)))
    return out


def score_answerable(preds: Sequence[ReaderPrediction], golds: Sequence[Sequence[str]]) -> dict:
    """EM/F1 in percent, max over references, as the official SQuAD script."""
    n = max(len(preds), 1)
    em = sum(max_over_references(exact_match, p.text, g) for p, g in zip(preds, golds))
    f1 = sum(max_over_references(f1_score, p.text, g) for p, g in zip(preds, golds))
    return {"exact_match": 100 * em / n, "f1": 100 * f1 / n, "count": len(preds)}
