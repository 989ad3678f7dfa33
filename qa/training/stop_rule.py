"""Choosing when the reader may stop reading a question's passages, on held-out articles.

Reading is most of a question's time, and ``qa.readers.staged`` can stop
after the first passages when the best span there is sure enough. How sure
is "enough" depends on the reader's calibration, so the rule is chosen per
reader, here, and shipped in its ``newsdesk_reader.json``: never on an
evaluation set. The corpus is the SQuAD v1.1 *train* articles the
reader's training held out (whole articles of many passages, indexed and
searched the ordinary way), asked their own answerable questions and the
unanswerable ones generated from the same articles whose question no
other paragraph answers either (real SQuAD 2.0, entity swaps, negations).

SQuAD articles carry no dates, so this measures the confidence bar only;
passages of differently dated articles are always read (``settled``).

Every question's top-k passages are read once; each candidate rule then
answers from those same reads (``CachedReader``), so the comparison with
full reading isolates what stopping changes. The chosen rule reads the
fewest passages among those whose answerable F1 and whose share of
unanswerables declined are each within ``tolerance`` points of full reading.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.readers.staged import FULL_READING, StopRule

#: Unanswerable kinds whose question stays unanswerable across the whole held-out corpus.
OPEN_UNANSWERABLE_KINDS = ("squad20", "entity_swap", "negation")
#: Rules tried: passages read first, and the confidence that settles a question.
FIRSTS = (1, 2, 3)
BARS = (0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def _once(cache: dict, keys: list, compute) -> list:
    """``compute(missing keys)`` for the keys not in ``cache`` yet, then every key's value from it."""
    missing = [k for k in dict.fromkeys(keys) if k not in cache]
    if missing:
        cache.update(zip(missing, compute(missing)))
    return [cache[k] for k in keys]


class CachedReader:
    """Wraps a reader so identical (question, passage) pairs are read once; counts pairs asked for.

    ``save``/``load`` keep the reads in a JSONL file, so scoring the rules
    again (a new tolerance, a fixed metric) does not read again.
    """

    def __init__(self, reader) -> None:
        self._reader = reader
        self._cache: dict = {}
        self.pairs = 0

    @property
    def reads(self) -> int:
        """Distinct (question, passage) pairs read (or loaded) so far."""
        return len(self._cache)

    def save(self, path: str | Path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            for (question, context), pred in self._cache.items():
                row = {"question": question, "context": context, "prediction": asdict(pred)}
                fh.write(json.dumps(row) + "\n")

    def load(self, path: str | Path) -> None:
        from qa.readers.extractive import ContextPrediction
        from qa.readers.spans import SpanCandidate

        with open(path, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                pred = row["prediction"]
                cands = [SpanCandidate(**c) for c in pred["candidates"]]
                self._cache[(row["question"], row["context"])] = ContextPrediction(
                    candidates=cands, best_margin=pred["best_margin"]
                )

    def predict(self, questions, contexts):
        keys = list(zip(questions, contexts))
        self.pairs += len(keys)
        return _once(self._cache, keys, lambda ks: self._reader.predict([q for q, _ in ks], [c for _, c in ks]))

    def __getattr__(self, name):
        return getattr(self._reader, name)


class CachedEmbedder:
    """Wraps an embedder so each question is embedded once across the rules compared."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self._cache: dict = {}

    def run(self, texts):
        import numpy as np

        if not texts:
            return self._embedder.run(texts)
        return np.stack(_once(self._cache, list(texts), lambda ks: list(self._embedder.run(ks))))

    def __getattr__(self, name):
        return getattr(self._embedder, name)


@dataclass(frozen=True, kw_only=True)
class RuleScore:
    """How one stop rule did on the held-out questions."""

    first: int
    confidence: float | None
    f1: float
    declined_unanswerable: float
    declined_answerable: float
    passages_read: float


def score_rule(assistant, reader: CachedReader, items: Sequence, rule: StopRule) -> RuleScore:
    """Answer ``items`` (GoldItem) with ``rule`` and score them; reads come from ``reader``'s cache."""
    from qa.evaluation.metrics import f1_score, max_over_references

    assistant.reader, assistant.stop_rule = reader, rule
    before = reader.pairs
    answers = list(assistant.ask_many([it.question for it in items], batch=16))
    pos = [(it, a) for it, a in zip(items, answers) if it.answerable]
    neg = [a for it, a in zip(items, answers) if not it.answerable]
    f1 = [max_over_references(f1_score, a.text or "", it.answers) if a.text else 0.0 for it, a in pos]
    return RuleScore(
        first=rule.first if rule.enabled else 0,
        confidence=rule.confidence if rule.enabled else None,
        f1=100 * sum(f1) / max(len(f1), 1),
        declined_unanswerable=100 * sum(not a.found for a in neg) / max(len(neg), 1),
        declined_answerable=100 * sum(not a.found for _, a in pos) / max(len(pos), 1),
        passages_read=(reader.pairs - before) / max(len(items), 1),
    )


def choose(full: RuleScore, scores: Sequence[RuleScore], *, tolerance: float) -> RuleScore:
    """The rule reading fewest passages with F1 and declined unanswerables within ``tolerance`` of ``full``."""
    fine = [
        s
        for s in scores
        if s.f1 >= full.f1 - tolerance and s.declined_unanswerable >= full.declined_unanswerable - tolerance
    ]
    return min(fine, key=lambda s: (s.passages_read, -s.f1), default=full)


def heldout_items(cfg, *, n_answerable: int, n_per_kind: int, seed: int = 0) -> list:
    """GoldItems: held-out answerable questions and open-mode unanswerables from the same articles.

    Each item's context is its whole article (every held-out paragraph of
    that title, in order), so the index holds articles of many passages as
    news does, and an answer may sit in another passage of the same article.
    """
    from qa.evaluation.gold import GoldItem
    from qa.training.data import load_squad_jsonl
    from qa.training.heldout_pairs import ANSWERABLE, heldout_pairs
    from qa.training.train import training_rows

    rows = load_squad_jsonl(cfg.train_file)
    pairs = heldout_pairs(cfg, n_answerable=n_answerable, n_per_kind=n_per_kind, seed=seed, rows=rows)
    paragraphs: dict[str, dict[str, None]] = {}
    for ex in [*training_rows(cfg, rows)[1], *(ex for _, ex in pairs)]:
        paragraphs.setdefault(ex.title, {})[ex.context] = None
    articles = {title: "\n\n".join(ps) for title, ps in paragraphs.items()}
    items = []
    for n, (kind, ex) in enumerate(pairs):
        if kind != ANSWERABLE and kind not in OPEN_UNANSWERABLE_KINDS:
            continue
        answers = tuple(ex.answers or ((ex.answer_text,) if ex.answer_text else ())) if kind == ANSWERABLE else ()
        items.append(
            GoldItem(
                id=f"{kind}-{n}", question=ex.question, answers=answers, context=articles[ex.title], title=ex.title
            )
        )
    random.Random(seed).shuffle(items)
    return items


def tune_stop_rule(
    cfg,
    reader_dir: str | Path,
    *,
    n_answerable: int = 600,
    n_per_kind: int = 100,
    tolerance: float = 0.5,
    top_k: int = 5,
    index_dir: str | Path | None = None,
    reads: str | Path | None = None,
    write: bool = False,
) -> dict:
    """Score every rule in ``FIRSTS`` x ``BARS`` against full reading; optionally ship the chosen one.

    ``reads`` is a JSONL file of the reader's predictions: written after the
    full reading, reused when it exists (same reader, same questions).
    """
    from qa.evaluation.runner import index_contexts
    from qa.readers.extractive import ReaderSettings

    items = heldout_items(cfg, n_answerable=n_answerable, n_per_kind=n_per_kind)
    # The unanswerables' paragraphs are indexed too: they are the articles those questions are "about".
    assistant = index_contexts(items, index_dir=index_dir, reader=str(reader_dir), top_k=top_k)
    reader = CachedReader(assistant.reader)
    if reads and Path(reads).is_file():
        reader.load(reads)
    assistant.embedder = CachedEmbedder(assistant.embedder)
    full = score_rule(assistant, reader, items, FULL_READING)
    if reads and not Path(reads).is_file():
        reader.save(reads)
    scores = [
        score_rule(assistant, reader, items, StopRule(first=first, confidence=bar)) for first in FIRSTS for bar in BARS
    ]
    chosen = choose(full, scores, tolerance=tolerance)
    report = {
        "questions": len(items),
        "answerable": sum(it.answerable for it in items),
        "unanswerable": sum(not it.answerable for it in items),
        "passages": len(assistant.data.passages),
        "precision": assistant.precision_report(),
        "tolerance": tolerance,
        "full_reading": asdict(full),
        "rules": [asdict(s) for s in scores],
        "chosen": asdict(chosen),
    }
    if write:
        settings = ReaderSettings.load(Path(reader_dir))
        settings.early_stop = (
            {"first": chosen.first, "confidence": chosen.confidence} if chosen.confidence is not None else None
        )
        settings.save(Path(reader_dir))
    return report
