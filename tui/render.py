"""Pieces of display text built from engine results.

Everything here returns :class:`textual.content.Content` built from plain
strings: article text is never parsed as markup.  Control characters are
swapped one-for-one for visible stand-ins (``visible``) rather than removed,
so the engine's character offsets into an article stay valid for
highlighting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from textual.content import Content

from qa import textsafe
from qa.rewrite import same_question
from tui.confidence import (
    HIGH_FROM,
    MEDIUM_FROM,
    confidence_bar,
    confidence_label,
    confidence_percent,
    confidence_words,
)

#: Style of the answer words (theme variables resolve in dark and light themes).
ANSWER_STYLE = "bold $text-warning on $warning-muted"
#: Style of the passage that held the answer, in the article view.
PASSAGE_STYLE = "on $primary-muted"
MUTED_STYLE = "$text-muted"

__all__ = ["HIGH_FROM", "MEDIUM_FROM", "confidence_bar", "confidence_label", "confidence_percent", "confidence_words"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return " "
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: ESC -> "␛"
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def visible(text: str | None) -> str:
    """``text`` with every control/bidi character replaced by one visible character.

    Unlike ``qa.textsafe.plain`` this keeps the length, so offsets into the
    original text still point at the same characters.
    """
    if not text:
        return ""
    return _CONTROL.sub(_stand_in, str(text))


def one_line(text: str | None, limit: int | None = None) -> str:
    """``qa.textsafe.one_line`` with control characters shown as stand-ins rather than removed."""
    return textsafe.one_line(text, limit, clean=visible)


def citation(title: str | None, date: str | None = None, section: str | None = None) -> str:
    parts = [one_line(title) or "(untitled)"]
    parts += [one_line(x) for x in (date, section) if x]
    return " · ".join(parts)


def answer_range(answer) -> tuple[int, int] | None:
    """Where the answer words sit inside ``answer.sentence`` (or None)."""
    sentence = answer.sentence or ""
    if answer.start is not None and answer.end is not None and answer.sentence_start is not None:
        s, e = answer.start - answer.sentence_start, answer.end - answer.sentence_start
        if 0 <= s < e <= len(sentence) and sentence[s:e].strip() == (answer.text or "").strip():
            return s, e
    if answer.text:
        at = sentence.find(answer.text)
        if at >= 0:
            return at, at + len(answer.text)
    return None


def answer_in_sentence(answer) -> Content:
    """The answer's sentence with the answer words highlighted."""
    sentence = visible(answer.sentence or "")
    span = answer_range(answer)
    if span is None:
        if sentence:
            return Content(sentence)
        return Content.styled(visible(answer.text), ANSWER_STYLE)
    content = Content(sentence)
    return content.stylize(ANSWER_STYLE, *span)


def highlighted(text: str, ranges: list[tuple[int, int, str]]) -> Content:
    """``text`` as Content with (start, end, style) ranges applied, out-of-range ones ignored."""
    content = Content(visible(text))
    for start, end, style in ranges:
        s, e = max(start, 0), min(end, len(text))
        if s < e:
            content = content.stylize(style, s, e)
    return content


def article_title(article_id: str, articles: Mapping[str, object]) -> str:
    article = articles.get(article_id)
    return one_line(getattr(article, "title", None)) or article_id


def snippet(text: str, limit: int = 140) -> str:
    return one_line(text, limit)


def without_headline(text: str, title: str | None) -> str:
    """``text`` less a first line that is its article's headline.

    Converters put the headline at the top of an article's text, so the first
    passage (and the article view) would otherwise show it twice: once as the
    title and again as the first words.
    """
    first, _, rest = text.lstrip().partition("\n")
    if rest.strip() and is_headline(first, title):
        return rest.lstrip()
    return text


def is_headline(line: str, title: str | None) -> bool:
    """Whether one line of an article is its headline (possibly cut at 200 characters in ``title``)."""
    head, text = one_line(title).rstrip("…").strip(), one_line(line)
    return bool(head) and (text == head or (one_line(title).endswith("…") and text.startswith(head)))


def understood_as(answer: Any) -> str | None:
    """The rewritten question, only when it says something else than what was typed.

    Case, spacing and punctuation do not count: "who is he?" understood as
    "Who is he?" tells a person nothing.
    """
    rewritten = getattr(answer, "understood_as", None)
    if not rewritten or same_question(rewritten, answer.question or ""):
        return None
    return rewritten


def closest_passages(answer: Any, articles: Mapping[str, object], limit: int = 3) -> list[tuple[str, list[str]]]:
    """The first ``limit`` passages of a no-answer, grouped by article: (headline, [passage texts]).

    Each headline is shown once, and a passage that starts with its own
    article's headline is shown without it.
    """
    groups: dict[str, tuple[str, list[str]]] = {}
    for rp in answer.passages[:limit]:
        article_id = rp.passage.article_id
        title = article_title(article_id, articles)
        text = without_headline(rp.passage.text, getattr(articles.get(article_id), "title", None) or title)
        groups.setdefault(article_id, (title, []))[1].append(text)
    return list(groups.values())


def no_match_line(answer: Any) -> str:
    """Why a no-answer has no passages to show: no article passed the question's filters."""
    scope = getattr(answer, "time", None)
    if scope is not None and (scope.date_from or scope.date_to):
        if scope.date_from == scope.date_to:
            return f"No article is dated {scope.date_from}, the day the question asks about."
        return (
            f"No article is dated between {scope.date_from or 'the first article'} and "
            f"{scope.date_to or 'the last'}, the days the question asks about."
        )
    return "No indexed article matches the question's filters, so there are no passages to show."
