"""A full article, with the answer span and its passage highlighted."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.render import ANSWER_STYLE, MUTED_STYLE, PASSAGE_STYLE, highlighted, is_headline, one_line


def paragraphs(text: str) -> list[tuple[int, str]]:
    """(offset, line) for every non-blank line of ``text``."""
    out, offset = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((offset, line))
        offset += len(line) + 1
    return out


class Paragraph(Static):
    pass


class ArticleScreen(Screen):
    """Shows ``article``; ``answer_span`` and ``passage_span`` are (start, end) in its text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("home", "scroll('home')", "Top", show=False),
        Binding("end", "scroll('end')", "Bottom", show=False),
    ]

    def __init__(
        self, article, answer_span: tuple[int, int] | None = None, passage_span: tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        self.article = article
        self.answer_span = answer_span
        self.passage_span = passage_span

    def compose(self) -> ComposeResult:
        a = self.article
        yield Static(Content.styled(one_line(a.title) or "(untitled)", "bold"), id="article-title")
        meta = " · ".join(one_line(x) for x in (a.date, a.section, a.url or a.path) if x)
        yield Static(Content.styled(meta, MUTED_STYLE), id="article-meta")
        with VerticalScroll(id="article-body"):
            for number, (offset, line) in enumerate(paragraphs(a.text or "")):
                ranges = []
                end = offset + len(line)
                for span, style in ((self.passage_span, PASSAGE_STYLE), (self.answer_span, ANSWER_STYLE)):
                    if span and span[0] < end and span[1] > offset:
                        ranges.append((span[0] - offset, span[1] - offset, style))
                if number == 0 and not ranges and is_headline(line, a.title):
                    continue  # the text opens with the headline, already shown above it
                para = Paragraph(highlighted(line, ranges))
                if ranges:
                    para.add_class("-marked")
                if self.answer_span and offset <= self.answer_span[0] < end:
                    para.add_class("-answer")
                yield para
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self._scroll_to_mark)

    def _scroll_to_mark(self) -> None:
        body = self.query_one("#article-body", VerticalScroll)
        target = next(iter(self.query(".-answer")), None) or next(iter(self.query(".-marked")), None)
        if target is not None:
            body.scroll_to_center(target, animate=False)
        body.focus()

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#article-body", VerticalScroll)
        body.scroll_home(animate=False) if where == "home" else body.scroll_end(animate=False)
