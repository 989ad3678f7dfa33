"""Sentence boundaries that keep character offsets.

A small rule-based splitter (end punctuation, closing quotes, then a capital,
digit or quote; newlines always end a sentence). It never rewrites the text:
it only returns (start, end) pairs, so offsets stay exact.

Every decision looks only a few characters around a boundary, so splitting
is linear in the text, and the sentence around a known offset is found by
looking at a window around it rather than at the whole article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_BOUNDARY = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|\n+""")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Col|Lt|Sgt|St|Jr|Sr|Inc|Ltd|Co|Corp|vs|etc|No|U\.S|U\.K|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.|\b[A-Z]\.)$"
)
#: Characters before a boundary that can hold an abbreviation ("Sept.", "U.S.").
_ABBREV_REACH = 8
#: Characters looked at on each side of an answer to find its sentence; a
#: sentence reaching further than this is shown cut at the window.
SENTENCE_REACH = 2000


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, covering all words."""
    return list(iter_sentence_spans(text))


def iter_sentence_spans(text: str, lo: int = 0, hi: int | None = None) -> Iterator[tuple[int, int]]:
    """Sentences of ``text[lo:hi]`` in article offsets, one at a time."""
    hi = len(text) if hi is None else hi
    start = lo
    for m in _BOUNDARY.finditer(text, lo, hi):
        if _after_abbreviation(text, m, start):
            continue
        span = _trim(text, start, m.start())
        if span:
            yield span
        start = m.end()
    span = _trim(text, start, hi)
    if span:
        yield span


def _after_abbreviation(text: str, m: re.Match, start: int) -> bool:
    """A plain space after "Dr." or "U.S." is no boundary; only the last few characters decide."""
    gap = m.group(0)
    return (
        gap.isspace()
        and "\n" not in gap
        and bool(_ABBREV.search(text, max(start, m.start() - _ABBREV_REACH), m.start()))
    )


def _trim(text: str, a: int, b: int) -> tuple[int, int] | None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if b > a else None


def sentence_at(text: str, start: int, end: int | None = None, *, reach: int = SENTENCE_REACH) -> tuple[int, int]:
    """The sentence (or sentences) that hold the span ``[start, end)``.

    Only ``reach`` characters on either side are split, so finding the
    sentence of an answer costs the same in a 20 MB article as in a short one.
    """
    end = start if end is None else end
    lo, hi = max(0, start - reach), min(len(text), max(end, start + 1) + reach)
    first = last = None
    for s in iter_sentence_spans(text, lo, hi):
        if first is None and s[1] > start:
            first = s
        if s[0] < max(end, start + 1):
            last = s
        else:
            break
    if first is None or last is None:
        return (start, end)
    return (min(first[0], start), max(last[1], end))
