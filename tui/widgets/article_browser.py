"""Every indexed article, filterable by typing; Enter opens one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.render import MUTED_STYLE, one_line
from tui.widgets.article_view import ArticleScreen


def matches(article, words: list[str]) -> bool:
    hay = " ".join(x or "" for x in (article.title, article.date, article.section, article.path)).lower()
    return all(w in hay for w in words)


class ArticleBrowserScreen(Screen):
    """Lists ``articles`` (qa Article objects) with headline, date and section."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]

    def __init__(self, articles: list) -> None:
        super().__init__()
        self.articles = list(articles)
        self.shown: list = []

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Articles", "bold"), id="browser-title")
        yield Input(placeholder="Filter by headline, date or section…", id="browser-filter")
        yield OptionList(id="browser-list")
        yield Footer()

    def on_mount(self) -> None:
        self.refilter("")
        self.query_one("#browser-filter", Input).focus()

    def refilter(self, query: str) -> None:
        words = query.lower().split()
        self.shown = [a for a in self.articles if matches(a, words)]
        options = self.query_one("#browser-list", OptionList)
        options.clear_options()
        for a in self.shown:
            meta = " · ".join(one_line(x) for x in (a.date, a.section) if x)
            options.add_option(
                Option(Content.assemble((one_line(a.title) or "(untitled)", "bold"), ("\n  " + meta, MUTED_STYLE)))
            )
        if self.shown:
            options.highlighted = 0
        title = f"Articles ({len(self.shown)} of {len(self.articles)})"
        self.query_one("#browser-title", Static).update(Content.styled(title, "bold"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        index = self.query_one("#browser-list", OptionList).highlighted
        if index is not None:
            self.open(index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.open(event.option_index)

    def action_move(self, step: int) -> None:
        options = self.query_one("#browser-list", OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def open(self, index: int) -> None:
        if 0 <= index < len(self.shown):
            self.app.push_screen(ArticleScreen(self.shown[index]))
