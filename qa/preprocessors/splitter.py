"""Split articles into overlapping, sentence-aligned passages.

Passages are sized in tokens of the reader's tokenizer, so a passage fits the
reader's window with room for the question. Consecutive passages share
``overlap_sentences`` sentences, so an answer that straddles a boundary is
still whole in one passage. Offsets are into ``article.text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa.preprocessors.sentences import sentence_spans
from qa.types import Article, Passage


@dataclass
class PassageSplitter:
    max_tokens: int = 200
    overlap_sentences: int = 1
    tokenizer: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences}

    @classmethod
    def from_dict(cls, data: dict[str, Any], tokenizer=None) -> "PassageSplitter":
        return cls(tokenizer=tokenizer, **data)

    def _token_ends(self, text: str) -> list[int]:
        """Character end offset of each token (whitespace words if no tokenizer)."""
        if self.tokenizer is None:
            import re

            return [m.end() for m in re.finditer(r"\S+", text)]
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                             truncation=False, verbose=False)
        return [e for _, e in enc["offset_mapping"]]

    def run(self, article: Article) -> list[Passage]:
        text = article.text
        sents = sentence_spans(text)
        if not sents:
            return []
        ends = self._token_ends(text)
        import bisect

        def ntok(a: int, b: int) -> int:
            return bisect.bisect_right(ends, b) - bisect.bisect_right(ends, a)

        # Cut sentences longer than the budget into token windows.
        units: list[tuple[int, int]] = []
        for a, b in sents:
            if ntok(a, b) <= self.max_tokens:
                units.append((a, b))
                continue
            i0 = bisect.bisect_right(ends, a)
            i1 = bisect.bisect_right(ends, b)
            cut = a
            for i in range(i0 + self.max_tokens - 1, i1, self.max_tokens):
                units.append((cut, ends[i]))
                cut = ends[i]
            if cut < b:
                units.append((cut, b))
        units = [(a, b) for a, b in ((_lstrip(text, a), b) for a, b in units) if b > a]

        passages: list[Passage] = []
        i = 0
        while i < len(units):
            j = i + 1
            while j < len(units) and ntok(units[i][0], units[j][1]) <= self.max_tokens:
                j += 1
            a, b = units[i][0], units[j - 1][1]
            passages.append(Passage(f"{article.id}:{len(passages)}", article.id, a, b, text[a:b]))
            if j >= len(units):
                break
            i = max(i + 1, j - self.overlap_sentences)
        return passages


def _lstrip(text: str, a: int) -> int:
    while a < len(text) and text[a].isspace():
        a += 1
    return a
