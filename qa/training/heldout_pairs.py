"""Held-out (question, paragraph) pairs of every kind, read once by a reader.

The no-answer decision is fitted and its operating point chosen on these
pairs only: answerable questions of SQuAD v1.1 *train* articles held out by
the seeded hash, every generated kind of unanswerable pair built from those
same articles, and the real SQuAD 2.0 unanswerables of the held-out articles.
The reader's top spans are stored with their raw scores, so the features of
the decision can change without reading again.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.training.data import QAExample, load_squad_jsonl
from qa.training.negatives import KINDS, NegativeMix, build_negatives
from qa.training.train import TrainConfig, training_rows

#: Kind of an answerable pair (the others are ``negatives.KINDS``).
ANSWERABLE = "answerable"


@dataclass(frozen=True)
class ReadSpan:
    """One decoded span of a pair: character offsets into its context and raw scores."""

    start: int
    end: int
    score: float
    null_score: float
    log_prob: float

    @property
    def margin(self) -> float:
        return self.score - self.null_score


@dataclass(frozen=True)
class ReadPair:
    """A held-out pair, its gold answers (empty: unanswerable) and the reader's spans."""

    kind: str
    title: str
    question: str
    context: str
    answers: tuple[str, ...]
    spans: tuple[ReadSpan, ...]


def heldout_pairs(
    cfg: TrainConfig, *, n_answerable: int, n_per_kind: int, seed: int = 0, rows: list[QAExample] | None = None
) -> list[tuple[str, QAExample]]:
    """(kind, example) pairs from held-out articles only, sampled with ``seed``.

    The split and the generators are the campaign's (``campaign.campaign_data``),
    so a reader trained by it never saw any of these articles.
    """
    from qa.training.campaign import squad20_rows

    rows = rows if rows is not None else load_squad_jsonl(cfg.train_file)
    _, held = training_rows(cfg, rows)
    _, s20_held = squad20_rows(cfg, {r.title for r in held})
    negatives = build_negatives(held, NegativeMix.everything(), cfg.seed + 100, s20_held)
    rng = random.Random(seed)
    out = [(ANSWERABLE, r) for r in rng.sample(held, min(n_answerable, len(held)))]
    for kind in KINDS:
        pairs = negatives.get(kind, [])
        out += [(kind, r) for r in rng.sample(pairs, min(n_per_kind, len(pairs)))]
    return out


def read_pairs(reader, pairs: list[tuple[str, QAExample]], *, chunk: int = 32) -> list[ReadPair]:
    """The reader's top spans for every pair (no threshold applied)."""
    out: list[ReadPair] = []
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        preds = reader.predict([e.question for _, e in part], [e.context for _, e in part])
        for (kind, e), p in zip(part, preds):
            spans = tuple(ReadSpan(c.start, c.end, c.score, c.null_score, c.log_prob) for c in p.candidates)
            answers = tuple(a for a in (e.answers or ((e.answer_text,) if e.answer_text else ())) if a)
            out.append(ReadPair(kind, e.title, e.question, e.context, answers if kind == ANSWERABLE else (), spans))
    return out


def save_pairs(pairs: list[ReadPair], path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(asdict(r)) + "\n" for r in pairs), encoding="utf-8")


def load_pairs(path: str | Path) -> list[ReadPair]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        spans = tuple(ReadSpan(**s) for s in r.pop("spans"))
        out.append(ReadPair(spans=spans, **{**r, "answers": tuple(r["answers"])}))
    return out
