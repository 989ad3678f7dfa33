"""Per-format converters: decoded text in, Articles out.

Each converter takes the decoded text and the file's path and returns a list
of ``Article`` (JSON and JSONL files may hold many). The article's ``text`` is
what every character offset refers to, so it is built here once and never
rewritten later in the pipeline.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from qa.converters.text import clean_text
from qa.errors import MissingDependencyError
from qa.preprocessors.sentences import sentence_spans
from qa.types import Article

SEED_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s*(.*?)\s*$")
#: Longest first line still taken as a headline; a longer one starts the body.
MAX_HEADLINE_CHARS = 300
#: Where a headline derived from the first sentence is cut.
HEADLINE_CHARS = 200
#: The HTML cleaner trafilatura needs (also pinned in pyproject.toml).
HTML_CLEANER = "lxml_html_clean==0.4.6"


class BadArticle(ValueError):
    """The file decoded but holds no article (empty, malformed)."""


def article_id(title: str, text: str) -> str:
    """Stable id: a hash of the content, so renaming a file keeps its id."""
    return hashlib.sha256(f"{title}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def make_article(
    title: str, body: str, path: str, date: str | None = None, section: str | None = None, url: str | None = None
) -> Article:
    """Assemble an article whose text is the headline, a blank line, the body."""
    full_title = " ".join(clean_text(title or "").split())
    body = clean_text(body or "").strip()
    if not body and not full_title:
        raise BadArticle("empty article")
    text = (
        f"{full_title}\n\n{body}" if full_title and body and not body.startswith(full_title) else (body or full_title)
    )
    title = _cap_title(full_title or _first_line(text))
    return Article(
        id=article_id(full_title, text),
        title=title,
        text=text,
        date=_clean_opt(date),
        section=_clean_opt(section),
        url=_clean_opt(url),
        path=path,
    )


#: Longest headline kept (characters); a longer one is cut at a word and the whole stays in the text.
MAX_TITLE_CHARS = 300


def _cap_title(title: str) -> str:
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] or title[:MAX_TITLE_CHARS]
    return cut.rstrip(" ,;:–—-") + "…"


def _clean_opt(value: Any) -> str | None:
    if value is None:
        return None
    s = " ".join(clean_text(str(value)).split())
    return s or None


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def parse_plain(text: str, path: str) -> list[Article]:
    """Seed format (``date YYYY-MM-DD Section`` then headline) or plain text."""
    lines = clean_text(text).strip("\n").split("\n")
    if not any(line.strip() for line in lines):
        raise BadArticle("empty file")
    m = SEED_HEADER.match(lines[0])
    if m:
        date, section = m.group(1), (m.group(2) or None)
        rest = lines[1:]
        while rest and not rest[0].strip():
            rest = rest[1:]
        if not rest:
            raise BadArticle("seed header but no headline")
        title, body = _headline_and_body(rest)
        return [make_article(title, body, path, date, section)]
    while lines and not lines[0].strip():
        lines = lines[1:]
    title, body = _headline_and_body(lines)
    return [make_article(title, body, path)]


def _headline_and_body(lines: list[str]) -> tuple[str, str]:
    """A short first line is the headline; a longer one is already the story.

    Text pasted as one long line (or a file with no line breaks at all) must
    not lose everything after its first few hundred characters, so it stays
    whole as the body and its first sentence becomes the headline.
    """
    first = lines[0].strip()
    if len(first) <= MAX_HEADLINE_CHARS:
        return first, "\n".join(lines[1:])
    return derive_headline(first), "\n".join(lines)


def derive_headline(text: str) -> str:
    """The first sentence of ``text``, cut on a word boundary at ``HEADLINE_CHARS``."""
    window = text[: 4 * HEADLINE_CHARS]
    spans = sentence_spans(window)
    sentence = window[spans[0][0] : spans[0][1]] if spans else window.strip()
    if len(sentence) <= HEADLINE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, HEADLINE_CHARS + 1)
    return sentence[: cut if cut > HEADLINE_CHARS // 2 else HEADLINE_CHARS].rstrip()


_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARK = re.compile(r"(\*\*|__|`+)")
_MD_HEAD = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_MD_LIST = re.compile(r"^\s{0,3}(?:[-*+]|>)\s+", re.M)


def parse_markdown(text: str, path: str) -> list[Article]:
    """Markdown: optional front matter (title/date/section), first heading as title."""
    text = clean_text(text)
    meta: dict[str, str] = {}
    m = _FRONT.match(text)
    if m:
        for line in m.group(1).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                meta[k.strip().lower()] = v.strip().strip("\"'")
        text = text[m.end() :]
    title = meta.get("title")
    lines = text.strip("\n").split("\n")
    if not title:
        while lines and not lines[0].strip():
            lines = lines[1:]
        if not lines:
            raise BadArticle("empty file")
        title = _MD_HEAD.sub("", lines[0]).strip()
        lines = lines[1:]
    body = "\n".join(lines)
    body = _MD_LINK.sub(r"\1", body)
    body = _MD_HEAD.sub("", body)
    body = _MD_LIST.sub("", body)
    body = _MD_MARK.sub("", body)
    body = re.sub(r"\n{3,}", "\n\n", body)
    date = meta.get("date")
    return [
        make_article(
            _MD_MARK.sub("", title),
            body,
            path,
            date[:10] if date else None,
            meta.get("section") or meta.get("category"),
            meta.get("url"),
        )
    ]


def parse_html(text: str, path: str) -> list[Article]:
    """HTML news page: main text, headline and date through trafilatura."""
    trafilatura = _html_extractor()
    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False)
    if doc is None:
        raise BadArticle("no article text found in HTML")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    body = data.get("text") or ""
    if not body.strip():
        raise BadArticle("no article text found in HTML")
    cats = data.get("categories")
    section = cats[0] if isinstance(cats, list) and cats else (cats or None)
    return [make_article(data.get("title") or "", body, path, data.get("date"), section, data.get("url"))]


def _html_extractor():
    """trafilatura, or one clear error when the install is broken.

    A missing library would otherwise fail every HTML file the same way, each
    skipped as unparsable, and the run would look like it succeeded.
    """
    try:
        import trafilatura
    except ImportError as exc:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        fix = (
            f"pip install '{HTML_CLEANER}'"
            if "lxml_html_clean" in str(exc) or "html.clean" in str(exc)
            else "make install"
        )
        raise MissingDependencyError(
            f"cannot read HTML articles, a library is missing ({detail}): run `{fix}` and index again"
        ) from None
    return trafilatura


_TITLE_KEYS = ("title", "headline", "name")
_BODY_KEYS = ("body", "text", "content", "article", "maintext")
_DATE_KEYS = ("date", "published", "published_at", "date_publish", "pubdate")
_SECTION_KEYS = ("section", "category", "topic")


def _pick(record: dict, keys) -> str | None:
    """The first non-empty text field among ``keys``.

    Only strings count: a number where a headline or body belongs (``1e999``
    parses as infinity, ``NaN`` as not-a-number) is not article text.
    """
    for k in keys:
        v = record.get(k)
        if isinstance(v, str) and v.strip():
            return v
    return None


def record_to_article(record: Any, path: str) -> Article:
    if not isinstance(record, dict):
        raise BadArticle("record is not an object")
    body = _pick(record, _BODY_KEYS)
    if body is None:
        raise BadArticle("record has no body/text field")
    date = _pick(record, _DATE_KEYS)
    return make_article(
        str(_pick(record, _TITLE_KEYS) or ""),
        str(body),
        path,
        str(date)[:10] if date else None,
        _pick(record, _SECTION_KEYS),
        _pick(record, ("url", "link")),
    )


def parse_json(text: str, path: str) -> list[Article]:
    """A JSON object, a list of objects, or an object with an ``articles`` list."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadArticle(f"malformed JSON ({str(exc).splitlines()[0][:80]})") from exc
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    out, errors = [], 0
    for i, rec in enumerate(records):
        try:
            out.append(record_to_article(rec, f"{path}#{i}" if len(records) > 1 else path))
        except BadArticle:
            errors += 1
    if not out:
        raise BadArticle("no article records (need a body/text field)")
    return out


def parse_jsonl(lines, path: str, warn: Callable[[str], None]) -> list[Article]:
    """One JSON record per line; bad lines are skipped and named, not fatal."""
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(record_to_article(json.loads(line), f"{path}#{n}"))
        except (json.JSONDecodeError, RecursionError):
            warn(f"{path}:{n}: skipped line: malformed JSON")
        except BadArticle as exc:
            warn(f"{path}:{n}: skipped line: {exc}")
    if not out:
        raise BadArticle("no valid JSONL records")
    return out
