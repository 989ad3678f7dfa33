"""Pieces of display text built from engine results.

Everything here returns :class:`textual.content.Content` built from plain
strings: article text is never parsed as markup.  Control characters are
swapped one-for-one for visible stand-ins (``visible``) rather than removed,
so the engine's character offsets into an article stay valid for
highlighting.
"""

from __future__ import annotations

import re
from typing import Mapping

from textual.content import Content

#: Style of the answer words (theme variables resolve in dark and light themes).
ANSWER_STYLE = "bold $text-warning on $warning-muted"
#: Style of the passage that held the answer, in the article view.
PASSAGE_STYLE = "on $primary-muted"
MUTED_STYLE = "$text-muted"

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
    """Collapse whitespace to single spaces and cut to ``limit`` characters with an ellipsis."""
    s = " ".join(visible(text).split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def confidence_words(confidence: float) -> str:
    if confidence >= 0.75:
        return "high"
    if confidence >= 0.45:
        return "medium"
    return "low"


def confidence_bar(confidence: float, cells: int = 5) -> str:
    c = min(max(confidence, 0.0), 1.0)
    filled = min(cells, max(1 if c > 0 else 0, round(c * cells)))
    return "▮" * filled + "▯" * (cells - filled)


def confidence_label(confidence: float) -> str:
    """E.g. ``high ▮▮▮▮▯ 82%``."""
    return f"{confidence_words(confidence)} {confidence_bar(confidence)} {round(confidence * 100)}%"


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
