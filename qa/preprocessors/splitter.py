"""Split articles into overlapping, sentence-aligned passages.

Passages are sized in tokens of the reader's tokenizer, so a passage fits the
reader's window with room for the question. Consecutive passages share
``overlap_sentences`` sentences, so an answer that straddles a boundary is
still whole in one passage. Offsets are into ``article.text``.

Sentences are tokenized a batch at a time and packed into passages as they
come, so memory stays bounded by the batch (plus the passages themselves)
however long the article is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from qa.preprocessors.sentences import iter_sentence_spans
from qa.types import Article, Passage

#: A sentence longer than this many characters is cut at a space before tokenizing.
PIECE_CHARS = 20_000
#: Characters tokenized in one call: bounds the tokenizer's memory on huge articles.
BATCH_CHARS = 200_000

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s*")

#: (start, end, tokens) of a sentence or a token window of a long sentence.
Unit = tuple[int, int, int]


@dataclass
class PassageSplitter:
    max_tokens: int = 200
    overlap_sentences: int = 1
    tokenizer: Any = None

    def run(self, article: Article) -> list[Passage]:
        text = article.text
        passages: list[Passage] = []
        for a, b in self._pack(self._units(text)):
            passages.append(
                Passage(id=f"{article.id}:{len(passages)}", article_id=article.id, start=a, end=b, text=text[a:b])
            )
        return passages

    def _pack(self, units: Iterable[Unit]) -> Iterator[tuple[int, int]]:
        """(start, end) of each passage: as many units as fit, then step back by the overlap."""
        current: list[Unit] = []
        total = 0
        for unit in units:
            while current and total + unit[2] > self.max_tokens:
                yield current[0][0], current[-1][1]
                keep = min(self.overlap_sentences, len(current) - 1)
                current = current[len(current) - keep :]
                total = sum(u[2] for u in current)
            current.append(unit)
            total += unit[2]
        if current:
            yield current[0][0], current[-1][1]

    def _units(self, text: str) -> Iterator[Unit]:
        """Sentences in order, each with its token count, long ones cut into token windows."""
        batch: list[tuple[int, int]] = []
        size = 0
        for a, b in iter_sentence_spans(text):
            for piece in _pieces(text, a, _past_closers(text, b)):
                batch.append(piece)
                size += piece[1] - piece[0]
                if size >= BATCH_CHARS:
                    yield from self._windows(text, batch)
                    batch, size = [], 0
        yield from self._windows(text, batch)

    def _windows(self, text: str, batch: list[tuple[int, int]]) -> Iterator[Unit]:
        for (a, b), ends in zip(batch, self._token_ends(text, batch)):
            if len(ends) <= self.max_tokens:
                yield a, b, len(ends)
                continue
            cut = a
            for k in range(self.max_tokens - 1, len(ends), self.max_tokens):
                yield from _unit(text, cut, ends[k], self.max_tokens)
                cut = ends[k]
            if cut < b:
                yield from _unit(text, cut, b, len(ends) % self.max_tokens)

    def _token_ends(self, text: str, batch: list[tuple[int, int]]) -> list[list[int]]:
        """Article offset where each token of each span ends (whitespace words without a tokenizer)."""
        if self.tokenizer is None:
            return [[m.end() for m in _WORD.finditer(text, a, b)] for a, b in batch]
        if not batch:
            return []
        enc = self.tokenizer(
            [text[a:b] for a, b in batch],
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=False,
            verbose=False,
        )
        return [[a + e for _, e in offsets] for (a, _), offsets in zip(batch, enc["offset_mapping"])]


def _unit(text: str, a: int, b: int, tokens: int) -> Iterator[Unit]:
    a = _skip_space(text, a, b)
    if b > a:
        yield a, b, tokens


def _skip_space(text: str, a: int, b: int) -> int:
    """The end of the whitespace run starting at ``a`` (at most ``b``)."""
    m = _SPACE.match(text, a, b)
    if m is None:  # r"\s*" matches at every a <= b
        raise ValueError(f"bad span [{a}, {b})")
    return m.end()


def _past_closers(text: str, end: int) -> int:
    """Extend a sentence over the closing quotes or brackets after its full stop.

    Then only whitespace lies between sentences, so each sentence can be
    tokenized on its own and token counts add up exactly.
    """
    n = len(text)
    while end < n and not text[end].isspace():
        end += 1
    return end


def _pieces(text: str, a: int, b: int) -> Iterator[tuple[int, int]]:
    """``[a, b)`` in pieces of at most ``PIECE_CHARS``, cut at a space where there is one."""
    while b - a > PIECE_CHARS:
        cut = text.rfind(" ", a + PIECE_CHARS // 2, a + PIECE_CHARS)
        cut = cut if cut > a else a + PIECE_CHARS
        yield a, cut
        a = _skip_space(text, cut, b)
    if b > a:
        yield a, b
