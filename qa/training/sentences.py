"""Sentence boundaries for building training pairs: a frozen copy.

The product's splitter (qa/preprocessors/sentences.py) is tuned for news and
may change at any time; training pairs built from it would then change under
a long campaign, which can only resume on identical data. This copy changes
only together with a new training config.

A small rule-based splitter (end punctuation, closing quotes, then a capital,
digit or quote; newlines always end a sentence). It never rewrites the text:
it only returns (start, end) pairs, so offsets stay exact.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|\n+""")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Col|Lt|Sgt|St|Jr|Sr|Inc|Ltd|Co|Corp|vs|etc|No|U\.S|U\.K|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.|\b[A-Z]\.)$"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, covering all words."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if m.group(0).strip() == "" and "\n" not in m.group(0) and _ABBREV.search(text[start : m.start()]):
            continue
        _add(text, start, m.start(), spans)
        start = m.end()
    _add(text, start, len(text), spans)
    return spans


def _add(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def sentence_at(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """The sentence (or sentences) that hold the span ``[start, end)``."""
    end = start if end is None else end
    spans = sentence_spans(text)
    first = next((s for s in spans if s[1] > start), None)
    last = next((s for s in reversed(spans) if s[0] < max(end, start + 1)), None)
    if first is None or last is None:
        return (start, end)
    return (min(first[0], start), max(last[1], end))
