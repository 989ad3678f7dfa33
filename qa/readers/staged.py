"""Reading retrieved passages in retrieval order, and stopping when the answer is settled.

Reading is ~90% of a question's time and most questions are settled by the
first passage or two. So the top ``first`` passages are read, and the rest
only when no span there is sure enough. The stop rule leans on the two
facts the answer builder ranks by (``qa.readers.answers``): the calibrated
confidence (0.9 means right about 90% of the time) and the retrieval rank,
which an unread passage can only lose on, since it ranks lower. An unread
passage would need a *higher* reader confidence than a span already at
``confidence`` to overtake it; the benchmarks (``bench_open_squad.py``,
``newsdesk eval``) measure how rarely that changes an answer.

Several questions are read together: each stage is one ``predict`` call over
every (question, passage) pair still pending, so the reader's forward pass
is batched across questions (``Assistant.ask_many``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.readers.extractive import ContextPrediction, ExtractiveReader


@dataclass(frozen=True)
class StopRule:
    """When to stop reading a question's passages."""

    #: Passages read in the first stage (then all the rest at once).
    first: int = 2
    #: Stop after the first stage when the best span's calibrated confidence is at least this.
    confidence: float = 0.9
    #: False reads every passage in one stage (the full reading the rule is measured against).
    enabled: bool = True


FULL_READING = StopRule(enabled=False)


def stop_rule_for(reader: ExtractiveReader) -> StopRule:
    """The rule chosen for this reader's calibration at export (``newsdesk_reader.json``), else the default.

    A bar tuned on one reader's confidence means nothing for another's, so
    the rule travels with the model rather than living in the code.
    """
    chosen = reader.settings.early_stop or {}
    return StopRule(
        first=int(chosen.get("first", StopRule.first)),
        confidence=float(chosen.get("confidence", StopRule.confidence)),
    )


def settled(
    reader: ExtractiveReader,
    preds: Sequence[ContextPrediction],
    rule: StopRule,
    dates: Sequence[str | None] = (),
) -> bool:
    """True when a span read so far is sure enough that unread passages are not needed.

    ``dates`` are the article dates of all the question's passages in
    retrieval order. An unread passage from an article of another date is
    always read: the answer's timeline (``qa.readers.timeline``) leads with
    the newest well-supported answer and lists earlier ones, which no
    confidence bar read on one article can stand in for.
    """
    if not preds:
        return False
    best_at = max(range(len(preds)), key=lambda j: preds[j].best_margin)
    best = preds[best_at].best_margin
    if best == float("-inf") or reader.confidence(best) < rule.confidence:
        return False
    if dates:
        here = dates[best_at]
        if any(d is not None and d != here for d in dates[len(preds) :]):
            return False
    return True


def read_ranked(
    reader: ExtractiveReader,
    questions: Sequence[str],
    contexts: Sequence[Sequence[str]],
    rule: StopRule = StopRule(),
    *,
    dates: Sequence[Sequence[str | None]] | None = None,
) -> list[list[ContextPrediction]]:
    """Predictions for a prefix of each question's passages (given in retrieval order).

    ``contexts[i]`` are question ``i``'s passages and ``dates[i]`` their
    articles' dates (see ``settled``); the result holds one
    ContextPrediction per passage read, in the same order.
    """
    preds: list[list[ContextPrediction]] = [[] for _ in questions]
    if not rule.enabled:
        return _read(reader, questions, contexts, preds, list(range(len(questions))), 0, None)
    first = max(rule.first, 1)
    _read(reader, questions, contexts, preds, list(range(len(questions))), 0, first)
    pending = [
        i
        for i in range(len(questions))
        if len(contexts[i]) > first and not settled(reader, preds[i], rule, dates[i] if dates else ())
    ]
    return _read(reader, questions, contexts, preds, pending, first, None)


def passage_dates(retrieved: Sequence, articles: Mapping) -> list[str | None]:
    """The article date of each retrieved passage, for ``read_ranked``'s ``dates``."""
    return [articles[r.passage.article_id].date for r in retrieved]


def _read(reader, questions, contexts, preds, which: list[int], lo: int, size: int | None):
    """Read passages ``lo:lo+size`` of the questions in ``which``, all in one predict call."""
    pairs = [(i, c) for i in which for c in contexts[i][lo : None if size is None else lo + size]]
    if pairs:
        out = reader.predict([questions[i] for i, _ in pairs], [c for _, c in pairs])
        for (i, _), p in zip(pairs, out):
            preds[i].append(p)
    return preds
