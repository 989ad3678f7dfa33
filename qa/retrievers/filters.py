"""Optional filters on retrieval: a date range and sections."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.types import Article, Passage


@dataclass(frozen=True)
class Filters:
    """``date_from``/``date_to`` are inclusive ISO dates; sections match case-insensitively."""

    date_from: str | None = None
    date_to: str | None = None
    sections: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.sections)

    def accepts(self, article: Article) -> bool:
        if self.date_from or self.date_to:
            if not article.date:
                return False
            if self.date_from and article.date < self.date_from:
                return False
            if self.date_to and article.date > self.date_to:
                return False
        if self.sections:
            wanted = {s.lower() for s in self.sections}
            if (article.section or "").lower() not in wanted:
                return False
        return True

    def mask(self, passages: list[Passage], articles: dict[str, Article]) -> np.ndarray:
        ok = {aid: self.accepts(a) for aid, a in articles.items()}
        return np.fromiter((ok.get(p.article_id, False) for p in passages), dtype=bool, count=len(passages))
