"""Answers across time: when several articles answer, say so, newest first.

News stories develop: the toll of a storm rises from one report to the next,
an offer in a strike changes. The reader's best span may come from Monday's
report while Tuesday's has the newer figure. So once the reader has ranked
its spans, one span per article that the reader supports is placed in time:

* the answer shown (the *lead*) is the one from the most recent article
  among those the reader nearly as much believes (at least
  ``RECENCY_SHARE`` of its best span's confidence), or the newest / oldest of every span
  that clears the no-answer threshold when the question asks for it
  ("latest", "originally");
* the other articles' answers follow, newest first, each marked as agreeing
  with the lead or not: a changed figure is shown, never dropped.

Only articles on the question's story take part: when the question names
something ("Hollins Bridge", "Storm Maren"), an article must mention at
least half of those names, so the newest article of another story cannot
lead a "latest" question.

Agreement raises confidence, in a bounded way: independent articles saying
the same thing close at most ``AGREEMENT_SHARE`` of the gap to 1, and never
more than ``MAX_BOOST``. Copies of one story (the same sentence in several
outlets) are one witness, not several, so they add nothing. Disagreement
does not lower the lead's confidence: in a developing story an earlier
figure is expected to differ from a later one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.readers.decision_words import SMALL_NUMBERS
from qa.timeexpr import MONTHS, WEEKDAYS, Order, resolve_day
from qa.types import AnswerSpan, TimelineEntry

#: A newer article's span leads when its confidence is at least this share of the best span's.
RECENCY_SHARE = 0.75
#: A span counts as an article's answer when its confidence is at least this share of the best one's.
SUPPORT_SHARE = 0.5
#: Share of the gap to 1 that agreement from independent articles may close ...
AGREEMENT_SHARE = 0.3
#: ... and the most it may add to the reader's confidence.
MAX_BOOST = 0.1
#: Sentences this similar (word Jaccard) are copies of one report, one witness.
COPY_SIMILARITY = 0.8
#: Most entries kept in a timeline.
MAX_ENTRIES = 6


@dataclass(frozen=True, kw_only=True)
class Timeline:
    """The span to show, the timeline entries (lead first) and the confidence after agreement."""

    lead: AnswerSpan
    entries: list[TimelineEntry]
    confidence: float


def place_in_time(
    *,
    ranked: Sequence[AnswerSpan],
    threshold: float,
    sentence_of: Callable[[AnswerSpan], tuple[str, str]],
    order: Order | str | None = None,
    question: str = "",
    text_of: Callable[[AnswerSpan], str] | None = None,
) -> Timeline:
    """Lead span, entries and confidence from the reader's spans (best first).

    ``sentence_of(span)`` gives the span's sentence and the part of it
    before the span (for day words and copy detection); ``text_of(span)``
    its article's text, to check it is on the ``question``'s story. With
    answers from fewer than two articles the timeline is empty and nothing
    changes.
    """
    best = ranked[0]
    order = Order(order) if order else None
    # A question that asks for the newest (or oldest) answer takes any span the reader would give
    # on its own; otherwise an article must be nearly as well supported as the best one.
    floor = threshold if order else max(threshold, SUPPORT_SHARE * best.confidence)
    per_article: dict[str, AnswerSpan] = {}
    names = question_names(question)
    for span in ranked:
        if (
            span.confidence >= floor
            and span.article.id not in per_article
            and (span is best or text_of is None or on_story(text_of(span), names))
        ):
            per_article[span.article.id] = span
    spans = list(per_article.values())
    if len(spans) < 2:
        return Timeline(lead=best, entries=[], confidence=best.confidence)
    lead = _lead(spans, best, order)
    others = sorted((s for s in spans if s is not lead), key=lambda s: (_date(s), s.confidence), reverse=True)
    chosen = [lead, *others][:MAX_ENTRIES]
    agree = {id(s): s is lead or agrees(s.text, lead.text) for s in chosen}
    entries = [_entry(s, agree[id(s)], sentence_of) for s in chosen]
    witnesses = [
        s.confidence
        for s in _independent([s for s in spans if s is not lead and agrees(s.text, lead.text)], lead, sentence_of)
    ]
    return Timeline(lead=lead, entries=entries, confidence=agreement_confidence(lead.confidence, witnesses))


_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w'-]{2,}")
_NOT_NAMES = {w.capitalize() for w in (*WEEKDAYS, *MONTHS)}


def question_names(question: str) -> set[str]:
    """Capitalised words inside the question (not its first word, days or months): what it is about."""
    names = (re.sub(r"'s$", "", m.group()) for m in _NAME.finditer(question.strip()))
    return {n.lower() for n in names if n not in _NOT_NAMES}


def on_story(text: str, names: set[str]) -> bool:
    """The article mentions at least half of the question's names (always true when it names none)."""
    if not names:
        return True
    found = sum(1 for n in names if re.search(rf"(?<![\w'-]){re.escape(n)}(?![\w'-])", text, re.I))
    return 2 * found >= len(names)


def _lead(spans: list[AnswerSpan], best: AnswerSpan, order: Order | None) -> AnswerSpan:
    if order is Order.OLDEST:
        return min(spans, key=lambda s: (_date(s) or "9999", -s.confidence))
    pool = spans if order is Order.NEWEST else [s for s in spans if s.confidence >= RECENCY_SHARE * best.confidence]
    return max(pool, key=lambda s: (_date(s), s is best, s.confidence))


def _date(span: AnswerSpan) -> str:
    return (span.article.date or "")[:10]


def _entry(
    span: AnswerSpan, agrees_with_best: bool, sentence_of: Callable[[AnswerSpan], tuple[str, str]]
) -> TimelineEntry:
    _, before = sentence_of(span)
    return TimelineEntry(
        text=span.text,
        article=span.article,
        date=span.article.date,
        confidence=span.confidence,
        start=span.start,
        end=span.end,
        agrees_with_best=agrees_with_best,
        resolved_date=resolve_day(span.text, article_date=span.article.date, before=before),
    )


def agreement_confidence(confidence: float, witnesses: Sequence[float]) -> float:
    """``confidence`` raised by independent agreeing answers (their confidences), bounded.

    The chance that at least one witness is right, times ``AGREEMENT_SHARE``,
    closes that share of the gap to 1, and the rise is capped at
    ``MAX_BOOST``: agreement is evidence, but articles on one story share
    sources, so it is never treated as independent proof.
    """
    if not witnesses:
        return confidence
    doubt = 1.0
    for w in witnesses:
        doubt *= 1.0 - min(max(w, 0.0), 1.0)
    boost = min(MAX_BOOST, (1.0 - confidence) * AGREEMENT_SHARE * (1.0 - doubt))
    return min(1.0, confidence + max(boost, 0.0))


def _independent(
    spans: list[AnswerSpan], lead: AnswerSpan, sentence_of: Callable[[AnswerSpan], tuple[str, str]]
) -> list[AnswerSpan]:
    """Spans whose sentences are not copies of the lead's or of one another's."""
    seen = [_words(sentence_of(lead)[0])]
    kept = []
    for s in spans:
        words = _words(sentence_of(s)[0])
        if all(_jaccard(words, w) < COPY_SIMILARITY for w in seen):
            kept.append(s)
            seen.append(words)
    return kept


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(SMALL_NUMBERS)}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ARTICLES = {"a", "an", "the"}


def _numbers(text: str) -> set[str]:
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in _words_list(text) if w in _NUMBER_WORDS}
    return found


def _words_list(text: str) -> list[str]:
    text = "".join(" " if ch in string.punctuation else ch for ch in text.lower())
    return [w for w in text.split() if w not in _ARTICLES]


def _words(text: str) -> set[str]:
    return set(_words_list(text))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def agrees(a: str, b: str) -> bool:
    """Two answers say the same: the same figures when both give figures, else most words shared.

    "at least 12 dead" and "12 people" agree; "5 dead" and "12 dead" do not;
    "Governor Elena Ruiz" and "Elena Ruiz" do.
    """
    na, nb = _numbers(a), _numbers(b)
    if na and nb:
        return na == nb
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    return len(wa & wb) >= 0.5 * min(len(wa), len(wb)) and bool(wa & wb)


def timeline_line(entries: Sequence[TimelineEntry]) -> str:
    """One compact line: ``at least 12 dead (2023-02-07) · earlier: 5 dead (2023-02-06)``.

    Agreeing answers are counted after the lead; the others are grouped as
    earlier, same day or later than the lead, each with its date.
    """
    if not entries:
        return ""
    lead, rest = entries[0], list(entries[1:])
    head = f"{_shown(lead.text)} ({_when(lead)})"
    same = sum(1 for e in rest if e.agrees_with_best)
    if same:
        head += f", also in {same} other article{'s' if same != 1 else ''}"
    parts = [head]
    ld = (lead.date or "")[:10]
    for label, keep in (("later", lambda d: d > ld), ("same day", lambda d: d == ld), ("earlier", lambda d: d < ld)):
        group = [e for e in rest if not e.agrees_with_best and keep((e.date or "")[:10])]
        if group:
            parts.append(f"{label}: " + ", ".join(f"{_shown(e.text)} ({_when(e)})" for e in group))
    return " · ".join(parts)


def _when(entry: TimelineEntry) -> str:
    date = entry.date or "undated"
    if entry.resolved_date and entry.resolved_date != entry.date:
        return f"{entry.resolved_date}, reported {date}"
    return date


def _shown(text: str, limit: int = 60) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"
