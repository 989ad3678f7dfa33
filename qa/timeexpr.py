"""Time words: in questions ("latest", "on Friday", "in July") and in article text.

A news question often carries its time in a word or two. ``read_time`` finds
those words and turns them into a date window on article dates or an
ordering (newest or oldest first), relative to an anchor day: the newest
article in the index, or the ``as_of`` day a person gives. The reader still
sees the whole question; only retrieval may use the question without them.

A day an event happened is usually reported that day or within the next
couple of days, so a day named in a question ("on Friday", "yesterday")
searches articles dated from that day to ``REPORT_SLACK_DAYS`` after it.

In article text, a day name means a day near the article's date:
``resolve_day`` turns "Friday" in an article dated Sunday 2022-07-31 into
2022-07-29 (the most recent Friday on or before the article date), or,
after a future cue such as "will ... on Monday", into the next such day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum

from qa.retrievers.filters import Filters, date_bound
from qa.types import Article, ArticleRef, TimeScope

#: Days after a named day whose articles may still report it.
REPORT_SLACK_DAYS = 2

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(m.lower() for m in calendar.month_name[1:])
_WD = "|".join(WEEKDAYS)
_MON = "|".join(MONTHS)


class Order(str, Enum):
    """How answers from several articles are ordered when the question asks for it."""

    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True, kw_only=True)
class TimeQuery:
    """What a question says about time, relative to ``anchor``."""

    anchor: str
    #: The time words found, as typed.
    words: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    order: Order | None = None
    #: The question without its time words (the whole question when nothing else is left).
    search_text: str = ""
    #: True when the window held no article and the caller's dates were searched instead.
    widened: bool = False

    @property
    def found(self) -> bool:
        return bool(self.words)

    def scope(self) -> TimeScope:
        return TimeScope(
            words=self.words,
            anchor=self.anchor,
            date_from=self.date_from,
            date_to=self.date_to,
            order=self.order.value if self.order else None,
            widened=self.widened,
        )


def question_time(
    question: str, *, filters: Filters | None, as_of: str | None, newest: Callable[[], str | None]
) -> tuple[TimeQuery | None, Filters | None]:
    """The question's time words (its window: the dates searched) and the filters narrowed to them.

    Relative words are read against ``as_of`` when given (and nothing
    after it is searched), else against ``newest()``, the newest article
    date, else today. A window the caller's own dates exclude gives way to
    the caller's: ``--date-from``/``--date-to`` are the more deliberate
    choice. None when the question has no time words and no ``as_of``.
    """
    as_of = date_bound(as_of, end=True, name="as-of")
    if not as_of and not read_time(question, anchor=dt.date.today()).found:
        return None, filters
    anchor = as_of or _valid_day(newest()) or dt.date.today().isoformat()
    query = read_time(question, anchor=anchor)
    base = filters or Filters()
    lo = max(filter(None, (base.date_from, query.date_from)), default=None)
    hi = min(filter(None, (base.date_to, query.date_to, as_of)), default=None)
    if lo and hi and lo > hi:
        lo, hi = _callers_window(base, as_of)
    filters = Filters(date_from=lo, date_to=hi, sections=base.sections)
    return replace(query, date_from=filters.date_from, date_to=filters.date_to), filters


def without_window(
    query: TimeQuery, question: str, *, filters: Filters | None, as_of: str | None
) -> tuple[TimeQuery, Filters] | None:
    """The search again without the question's own window, when that window held no article.

    "Which presidents met in Geneva in June 2021?" may name when an event
    happened, reported in a later article. When no article is dated in the
    window, the question searches the dates the caller allowed (its filters,
    nothing after ``as_of``), with its time words kept in the search text,
    and the scope says so. None when the window added nothing to narrow.
    """
    base = filters or Filters()
    lo, hi = _callers_window(base, date_bound(as_of, end=True, name="as-of"))
    if (query.date_from, query.date_to) == (lo, hi):
        return None
    wide = Filters(date_from=lo, date_to=hi, sections=base.sections)
    return replace(query, date_from=wide.date_from, date_to=wide.date_to, widened=True, search_text=question), wide


def _callers_window(base: Filters, as_of: str | None) -> tuple[str | None, str | None]:
    """The dates the caller allows: its own, nothing after ``as_of`` unless its own dates lie after it."""
    lo, hi = base.date_from, min(filter(None, (base.date_to, as_of)), default=None)
    if lo and hi and lo > hi:
        hi = base.date_to
    return lo, hi


def _valid_day(text: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(text[:10]).isoformat() if text else None
    except ValueError:
        return None


def newest_date(articles: Iterable[Article | ArticleRef]) -> str | None:
    """The newest article date (YYYY-MM-DD), or None when no article has one."""
    return max(((a.date or "")[:10] for a in articles), default=None) or None


_ORDER = [
    (
        Order.NEWEST,
        re.compile(
            r"\b(?:the\s+)?(?:latest|most\s+recent(?:ly)?|newest|so\s+far|to\s+date|"
            r"currently|(?:right\s+)?now)\b",
            re.I,
        ),
    ),
    (Order.OLDEST, re.compile(r"\b(?:initially|originally|at\s+first|earliest|at\s+the\s+start)\b", re.I)),
]
_SINCE = r"(?P<since>since\s+)?"
_WINDOWS = [
    ("rel_day", re.compile(rf"\b{_SINCE}(?:(?:earlier\s+)?(?P<rel>today|tonight|yesterday))\b", re.I)),
    ("weekday", re.compile(rf"\b{_SINCE}(?:(?P<pre>on|last|this\s+past)\s+)?(?P<wd>{_WD})\b", re.I)),
    ("iso", re.compile(rf"\b{_SINCE}(?:on\s+)?(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})\b", re.I)),
    (
        "month_day",
        re.compile(
            rf"\b{_SINCE}(?:on\s+)?(?:(?P<m1>{_MON})\s+(?P<d1>\d{{1,2}})|(?P<d2>\d{{1,2}})\s+"
            rf"(?P<m2>{_MON}))(?:,?\s+(?P<y>\d{{4}}))?\b",
            re.I,
        ),
    ),
    ("span", re.compile(r"\b(?P<which>this|last|past)\s+(?P<unit>week|month|year)\b", re.I)),
    ("n_days", re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past)\s+(?P<n>\d{1,3})\s+days\b", re.I)),
    ("month", re.compile(rf"\b(?:(?P<since>since)|in|during)\s+(?P<month>{_MON})(?:\s+(?P<y>\d{{4}}))?\b", re.I)),
    ("year", re.compile(r"\b(?:(?P<since>since)|in|during)\s+(?P<year>(?:19|20)\d{2})\b", re.I)),
]


def read_time(question: str, *, anchor: str | dt.date) -> TimeQuery:
    """The date window and ordering a question asks for, relative to ``anchor``."""
    day = anchor if isinstance(anchor, dt.date) else dt.date.fromisoformat(str(anchor)[:10])
    words: list[str] = []
    cut: list[tuple[int, int]] = []
    order: Order | None = None
    for kind, rx in _ORDER:
        for m in rx.finditer(question):
            order = order or kind
            words.append(m.group().strip())
            cut.append(m.span())
    windows: list[tuple[int, tuple[dt.date, dt.date]]] = []
    for window_kind, rx in _WINDOWS:
        for m in rx.finditer(question):
            if any(a < m.end() and m.start() < b for a, b in cut):
                continue
            window = _window(window_kind, m, day)
            if window is None:
                continue
            if m.groupdict().get("since"):
                window = (window[0], day)
            windows.append((m.start(), window))
            words.append(m.group().strip())
            cut.append(m.span())
    lo, hi = _intersect([w for _, w in sorted(windows)])
    if lo is not None:
        hi = min(hi, day) if hi else day
    return TimeQuery(
        anchor=day.isoformat(),
        words=tuple(words),
        order=order,
        date_from=lo.isoformat() if lo else None,
        date_to=hi.isoformat() if hi else None,
        search_text=_without(question, cut),
    )


def _window(kind: str, m: re.Match, anchor: dt.date) -> tuple[dt.date, dt.date] | None:
    g = m.groupdict()
    slack = dt.timedelta(days=REPORT_SLACK_DAYS)
    if kind == "rel_day":
        d = anchor - dt.timedelta(days=1) if g["rel"].lower() == "yesterday" else anchor
        return d, d + slack
    if kind == "weekday":
        strictly = (g.get("pre") or "").lower().startswith(("last", "this"))
        d = day_on_or_before(anchor - dt.timedelta(days=1) if strictly else anchor, g["wd"].lower())
        return d, d + slack
    if kind in ("iso", "month_day"):
        explicit = _explicit_day(g, anchor)
        return (explicit, explicit + slack) if explicit else None
    if kind == "span":
        return _calendar_span(g["which"].lower(), g["unit"].lower(), anchor)
    if kind == "n_days":
        n = max(int(g["n"]), 1)
        return anchor - dt.timedelta(days=n - 1), anchor
    if kind == "month":
        month = MONTHS.index(g["month"].lower()) + 1
        year = int(g["y"]) if g.get("y") else (anchor.year if month <= anchor.month else anchor.year - 1)
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    if kind == "year":
        year = int(g["year"])
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return None


def _explicit_day(g: dict, anchor: dt.date) -> dt.date | None:
    try:
        if g.get("iso"):
            return dt.date.fromisoformat(g["iso"])
        month = MONTHS.index((g.get("m1") or g["m2"]).lower()) + 1
        day = int(g.get("d1") or g["d2"])
        if g.get("y"):
            return dt.date(int(g["y"]), month, day)
        d = dt.date(anchor.year, month, day)
        return d if d <= anchor else dt.date(anchor.year - 1, month, day)
    except ValueError:
        return None


def _calendar_span(which: str, unit: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """ "this week" runs Monday to the anchor; "last week" is the whole week before (months, years alike)."""
    if unit == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        if which == "this":
            return monday, anchor
        if which == "past":
            return anchor - dt.timedelta(days=6), anchor
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if unit == "month":
        first = anchor.replace(day=1)
        if which == "this":
            return first, anchor
        if which == "past":
            return anchor - dt.timedelta(days=30), anchor
        prev = first - dt.timedelta(days=1)
        return prev.replace(day=1), prev
    if which == "this":
        return anchor.replace(month=1, day=1), anchor
    if which == "past":
        return anchor - dt.timedelta(days=365), anchor
    return dt.date(anchor.year - 1, 1, 1), dt.date(anchor.year - 1, 12, 31)


def _intersect(windows: list[tuple[dt.date, dt.date]]) -> tuple[dt.date | None, dt.date | None]:
    """All windows together; when they exclude each other the first one said wins."""
    if not windows:
        return None, None
    lo = max(w[0] for w in windows)
    hi = min(w[1] for w in windows)
    return (lo, hi) if lo <= hi else windows[0]


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for a, b in sorted(spans):
        out.append(text[pos : max(a, pos)])
        pos = max(pos, b)
    out.append(text[pos:])
    rest = " ".join("".join(out).split())
    rest = re.sub(r"\s+([?.!,])", r"\1", rest)
    return rest if any(ch.isalnum() for ch in rest) else text


def day_on_or_before(day: dt.date, weekday: str) -> dt.date:
    """The most recent ``weekday`` on or before ``day``."""
    return day - dt.timedelta(days=(day.weekday() - WEEKDAYS.index(weekday)) % 7)


def day_on_or_after(day: dt.date, weekday: str) -> dt.date:
    return day + dt.timedelta(days=(WEEKDAYS.index(weekday) - day.weekday()) % 7)


_DAY_WORD = re.compile(rf"\b(?P<word>{_WD}|today|tonight|yesterday|tomorrow)\b", re.I)
#: Words in the clause before a day name that put it after the article's date.
_FUTURE_CUES = {"will", "would", "next", "coming", "due", "scheduled", "expected", "plans", "planned", "until", "set"}
_PAST_CUES = {"last", "past"}


def resolve_day(span: str, *, article_date: str | None, before: str = "") -> str | None:
    """The date a day word in ``span`` stands for, read against the article's date.

    ``before`` is the text just before the span in its sentence; a future
    cue in the clause that leads up to the day ("will reopen in one lane on
    Monday") points to the next such day. None when the span names no day
    or the article has no date.
    """
    m = _DAY_WORD.search(span or "")
    if not m or not article_date:
        return None
    try:
        published = dt.date.fromisoformat(article_date[:10])
    except ValueError:
        return None
    word = m.group("word").lower()
    if word in ("today", "tonight"):
        return published.isoformat()
    if word in ("yesterday", "tomorrow"):
        return (published + dt.timedelta(days=1 if word == "tomorrow" else -1)).isoformat()
    clause = re.split(r"[,;:()\"\u201c\u201d]", f"{before} {span[: m.start()]}")[-1]
    lead = re.findall(r"[a-z]+", clause.lower())
    if lead and lead[-1] in _PAST_CUES:
        return day_on_or_before(published - dt.timedelta(days=1), word).isoformat()
    if _FUTURE_CUES.intersection(lead):
        return day_on_or_after(published, word).isoformat()
    return day_on_or_before(published, word).isoformat()


def scope_line(scope: TimeScope | None) -> str:
    """How the question's time words were read, in one line (empty when it had none)."""
    if scope is None:
        return ""
    parts = []
    if scope.words:
        parts.append(", ".join(f"“{w}”" for w in scope.words))
    if scope.widened:
        parts.append("no article dated in that window, so the question searched")
        parts[-1] += (
            f" articles dated {scope.date_from or '…'} to {scope.date_to or '…'}"
            if scope.date_from or scope.date_to
            else " every date"
        )
    elif scope.date_from or scope.date_to:
        parts.append(f"articles dated {scope.date_from or '…'} to {scope.date_to or '…'}")
    if scope.order:
        parts.append(f"{scope.order} answer first")
    parts.append(f"as of {scope.anchor}")
    return " · ".join(parts)
