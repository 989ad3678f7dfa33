"""The scrolling list of questions and answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.render import MUTED_STYLE, one_line
from tui.widgets.answer_card import AnswerCard

#: Turns kept on screen. Textual lays out every mounted widget on each change,
#: so an unbounded transcript gets slower with every answer; older turns are
#: kept as data (for export and copy) and summarised in one line instead.
MAX_TURNS_SHOWN = 40

#: A turn as data: (question, answer, articles by id).
TurnData = tuple[str, Any, Mapping[str, object]]


class QuestionItem(Static):
    """A question as the person typed it."""

    def __init__(self, question: str, **kwargs) -> None:
        super().__init__(Content.assemble(("› ", "bold $text-accent"), one_line(question)), **kwargs)


class EarlierNote(Static):
    """One line standing in for the turns no longer shown."""

    def show_count(self, count: int) -> None:
        self.display = count > 0
        turns = "turn" if count == 1 else "turns"
        self.update(
            Content.styled(f"{count} earlier {turns} not shown · Ctrl+S exports the whole conversation", MUTED_STYLE)
        )


class Transcript(VerticalScroll):
    """Questions and answer cards, newest at the bottom, at most ``max_turns`` on screen."""

    can_focus = False

    def __init__(self, *, max_turns: int = MAX_TURNS_SHOWN, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_turns = max(1, max_turns)
        #: Answered turns that were taken off the screen, oldest first.
        self.earlier: list[TurnData] = []
        self.note = EarlierNote()
        self.note.display = False

    def compose(self) -> ComposeResult:
        yield self.note

    def add_question(self, question: str) -> AnswerCard:
        """Append a question and its (pending) answer card; return the card."""
        card = AnswerCard(question)
        item = QuestionItem(question)
        card.question_item = item
        self.mount(item, card)
        self._prune()
        self.call_after_refresh(self.scroll_end, animate=False)
        return card

    def _prune(self) -> None:
        """Take the oldest answered turns off the screen beyond ``max_turns``."""
        cards = self.cards()
        gone: list = []
        for card in cards[: max(0, len(cards) - self.max_turns)]:
            if card.has_class("-pending"):
                break  # never drop a question still waiting for its answer
            card.pruned = True  # removal completes later; cards() must not see it again
            if card.answer is not None:
                self.earlier.append((card.question, card.answer, card.articles))
            gone.extend(w for w in (getattr(card, "question_item", None), card) if w is not None)
        if gone:
            self.remove_children(gone)
            self.note.show_count(len(self.earlier))

    def clear(self) -> None:
        """Forget every turn, shown or not."""
        self.earlier.clear()
        self.remove_children([w for w in self.children if w is not self.note])
        self.note.show_count(0)

    def cards(self) -> list[AnswerCard]:
        return [c for c in self.query_children(AnswerCard) if not c.pruned]

    def answered(self) -> list[AnswerCard]:
        """Answered cards on screen."""
        return [c for c in self.cards() if c.answer is not None]

    def turns(self) -> list[TurnData]:
        """Every answered turn of the conversation, including those no longer shown."""
        return self.earlier + [(c.question, c.answer, c.articles) for c in self.answered()]
