"""The scrolling list of questions and answers."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.render import one_line
from tui.widgets.answer_card import AnswerCard


class QuestionItem(Static):
    """A question as the person typed it."""

    def __init__(self, question: str, **kwargs) -> None:
        super().__init__(Content.assemble(("› ", "bold $text-accent"), one_line(question)), **kwargs)


class Transcript(VerticalScroll):
    """Questions and answer cards, newest at the bottom."""

    can_focus = False

    def add_question(self, question: str) -> AnswerCard:
        """Append a question and its (pending) answer card; return the card."""
        card = AnswerCard(question)
        self.mount(QuestionItem(question), card)
        self.call_after_refresh(self.scroll_end, animate=False)
        return card

    def cards(self) -> list[AnswerCard]:
        return list(self.query(AnswerCard))

    def answered(self) -> list[AnswerCard]:
        return [c for c in self.cards() if c.answer is not None]
