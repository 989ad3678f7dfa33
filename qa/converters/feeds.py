"""RSS and Atom feeds, and article pages given by URL, turned into Articles.

A feed entry becomes one article with the entry's title, date, first tag as
section and link. When the entry carries its full text (Atom ``content``,
RSS ``content:encoded``) that is the body; when it has only a teaser, the
linked page is fetched and its main text extracted (as for HTML files), at
most ``MAX_LINKED_PAGES`` pages per feed and within ``FEED_DEADLINE_S``, so a
feed of hundreds of entries on a slow site cannot hold indexing for long. A
page that cannot be fetched leaves the entry's summary as its body, with one
warning line.

An entry's article is filed under its link (``Article.path``), not under the
feed, so entries that roll off a feed stay indexed and an entry whose text
changes replaces its earlier version.

Network failures are one line each (``Skipped``); nothing here raises past
``convert_url`` except a broken install.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

from qa.converters.fetch import Fetched, FetchError, fetch, is_url
from qa.converters.files import Skipped
from qa.converters.formats import BadArticle, make_article, parse_html
from qa.converters.text import MAX_FILE_BYTES, NotText, decode_bytes
from qa.types import Article

#: Feed files found in folders; a ``.xml`` file is read as a feed when it is given by name.
FEED_EXT = {".rss", ".atom"}
#: Linked pages fetched at most per feed (for entries without their full text).
MAX_LINKED_PAGES = 20
#: Seconds spent at most fetching one feed's linked pages.
FEED_DEADLINE_S = 60.0
_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
}
_FEED_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)
_BLOCK = re.compile(r"(?i)<(?:p|br|div|li|h[1-6]|blockquote|tr)\b")


def looks_like_feed(*, data: bytes, content_type: str = "") -> bool:
    """An RSS/Atom document by its media type or its first element."""
    return content_type in _FEED_TYPES or bool(_FEED_START.match(data[:4096]))


def parse_feed(data: bytes, *, source: str, report: Any, fetch_pages: bool = True) -> list[Article]:
    """Articles of a feed's entries; ``report`` (a ConversionReport) gets the skipped pages and warnings."""
    import feedparser

    parsed = feedparser.parse(data, response_headers={"content-location": source} if is_url(source) else None)
    entries = list(parsed.entries)
    if not entries:
        why = f" ({_first_line(parsed.get('bozo_exception'))})" if parsed.get("bozo") else ""
        raise BadArticle(f"not an RSS or Atom feed, or a feed with no entries{why}")
    budget = _PageBudget(pages=MAX_LINKED_PAGES if fetch_pages else 0, deadline=time.monotonic() + FEED_DEADLINE_S)
    out = []
    for n, entry in enumerate(entries, 1):
        try:
            out.append(_entry_article(entry, source=source, n=n, report=report, budget=budget))
        except BadArticle as exc:
            report.warnings.append(f"{source}: entry {n}: skipped: {exc}")
    if budget.left_out:
        report.warnings.append(
            f"{source}: {budget.left_out} entries without full text kept their summary "
            f"(at most {MAX_LINKED_PAGES} linked pages fetched per feed)"
        )
    if not out:
        raise BadArticle("no entry of the feed holds an article")
    return out


class _PageBudget:
    """How many linked pages a feed may still fetch, and until when."""

    def __init__(self, *, pages: int, deadline: float) -> None:
        self.pages, self.deadline, self.left_out = pages, deadline, 0

    def take(self) -> bool:
        if self.pages > 0 and time.monotonic() < self.deadline:
            self.pages -= 1
            return True
        self.left_out += 1
        return False


def _entry_article(entry: Any, *, source: str, n: int, report: Any, budget: _PageBudget) -> Article:
    title = entry.get("title") or ""
    link = entry.get("link") if is_url(entry.get("link")) else None
    date = _date(entry)
    tags = entry.get("tags") or []
    section = tags[0].get("term") if tags else None
    path = link or f"{source}#{entry.get('id') or n}"
    full = _html_text(" ".join(c.get("value", "") for c in entry.get("content") or []))
    summary = _html_text(entry.get("summary") or "")
    body = full
    if not full.strip() and link and budget.take():
        try:
            page = _page_article(fetch(link), url=link, report=report)
            body, date, section = _body(page), date or page.date, section or page.section
        except (FetchError, BadArticle, NotText) as exc:
            report.skipped.append(Skipped(link, f"{exc}; kept the feed's summary"))
    return make_article(title, body if body.strip() else summary, path, date, section, link)


def _date(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return time.strftime("%Y-%m-%d", value)
    return None


def _html_text(fragment: str) -> str:
    """Plain text of an HTML fragment from a feed, one paragraph a line."""
    if "<" not in fragment:
        return fragment
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(_BLOCK.sub(lambda m: "\n" + m.group(), fragment), create_parent="div")
    except Exception:  # lxml refuses some fragments (empty, control characters): keep the words
        return re.sub(r"<[^>]*>", " ", fragment)
    return root.text_content()


def _page_article(page: Fetched, *, url: str, report: Any) -> Article:
    """The article of a fetched HTML page, filed under ``url``; raises BadArticle or NotText."""
    if page.truncated:
        report.warnings.append(f"{url}: cut to the first {MAX_FILE_BYTES // 2**20} MB")
    article = parse_html(_decode(page), url)[0]
    return article if article.url else replace(article, url=url)


def _body(article: Article) -> str:
    """The text after the headline (``make_article`` puts it back)."""
    if article.title and article.text.startswith(article.title):
        return article.text[len(article.title) :]
    return article.text


def _decode(page: Fetched) -> str:
    if page.charset:
        try:
            return page.data.decode(page.charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(page.data)[0]


def convert_url(url: str, *, report: Any) -> list[Article]:
    """A feed URL's entries or an article page's article; a failure is one skipped line."""
    try:
        page = fetch(url)
        if looks_like_feed(data=page.data, content_type=page.content_type):
            if page.truncated:
                raise BadArticle(f"feed over {MAX_FILE_BYTES // 2**20} MB")
            return parse_feed(page.data, source=url, report=report)
        return [_page_article(page, url=url, report=report)]
    except (FetchError, BadArticle, NotText) as exc:
        report.skipped.append(Skipped(url, str(exc)))
        return []


def _first_line(value: object) -> str:
    return (str(value).splitlines() or [""])[0][:80]
