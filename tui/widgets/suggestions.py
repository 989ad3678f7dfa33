"""Example questions shown on an empty chat: one key (1, 2, 3) or a click asks one."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui.render import MUTED_STYLE, one_line


class SuggestionItem(Static):
    """One example question; clicking it asks it."""

    def __init__(self, number: int, question: str) -> None:
        super().__init__(Content.assemble((f" {number} ", "bold $text-accent"), " ", one_line(question)))
        self.number = number
        self.question = question

    def on_click(self) -> None:
        self.post_message(Suggestions.Chosen(self.question))


class Suggestions(Vertical):
    """Up to three example questions drawn from the indexed articles, numbered for their key."""

    DEFAULT_CSS = """
    Suggestions {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: wide $accent 50%;
    }
    Suggestions > .suggestions-title {
        color: $text-muted;
    }
    Suggestions > SuggestionItem:hover {
        background: $boost;
    }
    """

    @dataclass
    class Chosen(Message):
        """Ask ``question`` as if it had been typed."""

        question: str

    def __init__(self, questions: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.questions = list(questions)

    def compose(self) -> ComposeResult:
        yield Static(
            Content.styled("Not sure what to ask? Press a number or click a question:", MUTED_STYLE),
            classes="suggestions-title",
        )
        for number, question in enumerate(self.questions, 1):
            yield SuggestionItem(number, question)
