"""The conversation as a Markdown document."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.render import (
    answer_range,
    closest_passages,
    confidence_label,
    no_match_line,
    one_line,
    snippet,
    understood_as,
    visible,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _escape(piece: str) -> str:
    return _SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", visible(piece)))


def md(text: str | None) -> str:
    """One line of article-derived text, with Markdown syntax characters escaped."""
    return _escape(one_line(text))


def default_export_path(folder: Path | None = None, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return (folder or Path.cwd()) / f"newsdesk-conversation-{stamp}.md"


def resolve_export_path(typed: str | None) -> Path:
    """What the person typed (empty: a new file in the current folder; a folder: a new file in it)."""
    if not typed:
        return default_export_path()
    path = Path(typed).expanduser()
    if path.is_dir():
        return default_export_path(path)
    if not path.suffix:
        path = path.with_suffix(".md")
    return path


def conversation_markdown(turns: Iterable[tuple[str, Any, Mapping[str, object]]], index: str | None = None) -> str:
    """``turns`` are (question, Answer, articles-by-id)."""
    out = ["# Newsdesk conversation", ""]
    if index:
        out += [f"Index: `{one_line(index)}`", ""]
    for question, answer, articles in turns:
        out += [f"## {md(question)}", ""]
        rewritten = understood_as(answer)
        if rewritten:
            out += [f"*Understood as: {md(rewritten)}*", ""]
        if answer.found:
            out += [f"**{md(answer.text)}**", ""]
            sentence = answer.sentence or ""
            span = answer_range(answer)
            if span:
                s, e = span
                quoted = (_escape(sentence[:s]) + "**" + _escape(sentence[s:e]) + "**" + _escape(sentence[e:])).strip()
            else:
                quoted = md(sentence)
            if quoted:
                out += [f"> {quoted}", ""]
            ref = answer.article
            if ref is not None:
                where = ", ".join(md(x) for x in (ref.date, ref.section) if x)
                cite = f"Source: *{md(ref.title)}*" + (f" ({where})" if where else "")
                if ref.url or ref.path:
                    cite += f" — {md(ref.url or ref.path)}"
                out += [cite, ""]
            out += [f"Confidence: {confidence_label(answer.confidence)}", ""]
        else:
            out += ["I found no answer in the articles.", ""]
            if not answer.passages:
                out += [md(no_match_line(answer)), ""]
            else:
                out += ["Closest passages:", ""]
                for title, texts in closest_passages(answer, articles):
                    out.append(f"- *{md(title)}*: " + " … ".join(md(snippet(text, 200)) for text in texts))
                out.append("")
    return "\n".join(out).rstrip() + "\n"
