"""Optional filters on retrieval: a date range and sections.

Dates are parsed, not compared as typed: ``2024-13-45`` and ``04/01/2024``
are refused with one line, and a partial date stands for the whole period,
so ``date_to="2024-04"`` includes 2024-04-07 and ``date_from="2024"`` starts
on 2024-01-01.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qa.errors import InvalidInputError
from qa.types import Article, Passage

_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def date_bound(text: str | None, *, end: bool, name: str = "date") -> str | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first (or, with ``end``, last) day it covers."""
    if text is None or not str(text).strip():
        return None
    m = _DATE.fullmatch(str(text).strip())
    try:
        if not m:
            raise ValueError
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        if month is None:
            return (dt.date(year, 12, 31) if end else dt.date(year, 1, 1)).isoformat()
        if day is None:
            last = calendar.monthrange(year, int(month))[1] if 1 <= int(month) <= 12 else 0
            return dt.date(year, int(month), last if end else 1).isoformat()
        return dt.date(year, int(month), int(day)).isoformat()
    except ValueError:
        shown = " ".join(str(text).split())[:40]
        raise InvalidInputError(f"{name} {shown!r} is not a date: use YYYY-MM-DD, YYYY-MM or YYYY") from None


@dataclass(frozen=True)
class Filters:
    """``date_from``/``date_to`` are inclusive ISO dates; sections match case-insensitively."""

    date_from: str | None = None
    date_to: str | None = None
    sections: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        start = date_bound(self.date_from, end=False, name="date-from")
        stop = date_bound(self.date_to, end=True, name="date-to")
        if start and stop and start > stop:
            raise InvalidInputError(f"date-from {self.date_from} is after date-to {self.date_to}")
        object.__setattr__(self, "date_from", start)
        object.__setattr__(self, "date_to", stop)

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.sections)

    def accepts(self, article: Article) -> bool:
        if self.date_from or self.date_to:
            day = (article.date or "")[:10]
            if not day:
                return False
            if self.date_from and day < self.date_from:
                return False
            if self.date_to and day > self.date_to:
                return False
        if self.sections:
            wanted = {s.lower() for s in self.sections}
            if (article.section or "").lower() not in wanted:
                return False
        return True

    def mask(self, passages: list[Passage], articles: Mapping[str, Article]) -> np.ndarray:
        ok = {aid: self.accepts(a) for aid, a in articles.items()}
        return np.fromiter((ok.get(p.article_id, False) for p in passages), dtype=bool, count=len(passages))


class FilterMasks:
    """The masks of one list of passages under the last few filters asked for (a batch shares one).

    A mask costs a pass over every passage, so it is made once per filter,
    not once per question; ``KEEP`` masks (a byte per passage each) are kept.
    """

    KEEP = 8

    def __init__(self, passages: list[Passage], articles: Mapping[str, Article]):
        self.passages, self.articles = passages, articles
        self._kept: dict[Filters, np.ndarray] = {}
        self._lock = threading.Lock()

    def get(self, filters: Filters | None) -> np.ndarray | None:
        """True for each passage ``filters`` let through; None when nothing is filtered."""
        if filters is None or not filters.active:
            return None
        with self._lock:
            mask = self._kept.get(filters)
            if mask is None:
                mask = filters.mask(self.passages, self.articles)
                if len(self._kept) >= self.KEEP:
                    del self._kept[next(iter(self._kept))]
                self._kept[filters] = mask
            return mask
