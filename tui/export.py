"""The conversation as a Markdown document."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping

from tui.render import answer_range, article_title, confidence_label, one_line, snippet, visible

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


def conversation_markdown(turns: Iterable[tuple[str, object, Mapping[str, object]]],
                          index: str | None = None) -> str:
    """``turns`` are (question, Answer, articles-by-id)."""
    out = ["# Newsdesk conversation", ""]
    if index:
        out += [f"Index: `{one_line(index)}`", ""]
    for question, answer, articles in turns:
        out += [f"## {md(question)}", ""]
        if answer.understood_as:
            out += [f"*Understood as: {md(answer.understood_as)}*", ""]
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
            if answer.passages:
                out += ["Closest passages:", ""]
                for rp in answer.passages[:3]:
                    title = md(article_title(rp.passage.article_id, articles))
                    out.append(f"- *{title}*: {md(snippet(rp.passage.text, 200))}")
                out.append("")
    return "\n".join(out).rstrip() + "\n"
