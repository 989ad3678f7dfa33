"""The chat screen: the transcript, the sources panel, the status line and the question box.

The screen owns what is on it (which answer is selected, whether the sources
panel shows, the example questions) and nothing of the engine: a question
typed or chosen leaves it as a :class:`QuestionAsked` message, and the app
answers by adding cards and status text here. Its keys exist only while it is
on top, so an article or a dialog never receives chat commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static

from tui.render import MUTED_STYLE
from tui.widgets.answer_card import AnswerCard
from tui.widgets.history_input import HistoryInput
from tui.widgets.sources import SourcesPanel
from tui.widgets.suggestions import Suggestions
from tui.widgets.transcript import MAX_TURNS_SHOWN, Transcript

#: The keys that ask the example questions, in order (typed as usual once a question is asked).
SUGGESTION_KEYS = ("1", "2", "3")


@dataclass
class QuestionAsked(Message):
    """The person asked ``question`` (typed, or an example question chosen)."""

    question: str


class ChatScreen(Screen[None]):
    """The main screen. Tooltips of its bindings are the help screen's text (see ``tui.keys``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Help", tooltip="help: these keys"),
        Binding(
            "f2",
            "toggle_sources",
            "Sources",
            tooltip="sources: the passages behind the selected answer",
        ),
        Binding("f3", "app.browse", "Articles", tooltip="article browser (type to filter)"),
        Binding("f4", "app.stats", "Statistics", show=False, tooltip="index statistics"),
        Binding("ctrl+o", "app.index_path", "Index", tooltip="index a folder or file"),
        Binding("f6", "app.switch_index", "Switch index", show=False, tooltip="switch to another index folder"),
        Binding("ctrl+n", "app.new_conversation", "New", tooltip="new conversation"),
        Binding("ctrl+s", "app.export", "Export", tooltip="export the conversation as Markdown"),
        Binding("ctrl+y", "app.copy_answer", "Copy answer", show=False, tooltip="copy the last answer"),
        Binding(
            "ctrl+up", "select_answer(-1)", "Earlier answer", show=False, tooltip="select an earlier / later answer"
        ),
        Binding(
            "ctrl+down", "select_answer(1)", "Later answer", show=False, tooltip="select an earlier / later answer"
        ),
        *(
            Binding(
                key,
                f"ask_suggestion({n})",
                f"Example {n}",
                show=False,
                priority=True,
                tooltip="ask an example question (shown on a first start)",
            )
            for n, key in enumerate(SUGGESTION_KEYS, 1)
        ),
    ]

    def __init__(self, *, max_turns: int = MAX_TURNS_SHOWN) -> None:
        super().__init__()
        # Kept as attributes: answers may arrive while another screen is on top.
        self.transcript = Transcript(id="transcript", max_turns=max_turns)
        self.sources = SourcesPanel(id="sources")
        self.status_line = Static(id="status")
        self.question_input = HistoryInput(placeholder="Ask a question about the news…", id="question")
        self.selected: AnswerCard | None = None
        self.suggestions: Suggestions | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield self.transcript
            yield self.sources
        yield self.status_line
        yield self.question_input
        yield Footer()

    class Started(Message):
        """The screen and its widgets are mounted: the app may open the index and show results."""

    def on_mount(self) -> None:
        self.sources.display = False
        self.question_input.focus()
        self.post_message(self.Started())

    def show_status(self, text: str) -> None:
        self.status_line.update(Content.styled(text, MUTED_STYLE))

    # -- asking -------------------------------------------------------------------
    def on_input_submitted(self, event: HistoryInput.Submitted) -> None:
        if event.input is not self.question_input:
            return
        event.stop()
        question = event.value.strip()
        if question:
            self.question_input.clear()
            self.ask(question)

    def ask(self, question: str) -> None:
        self.question_input.remember(question)
        self.show_suggestions([])
        self.post_message(QuestionAsked(question))

    # -- example questions --------------------------------------------------------
    def show_suggestions(self, questions: list[str]) -> None:
        """Offer ``questions`` at the top of an empty transcript (an empty list takes them away)."""
        if self.suggestions is not None:
            self.suggestions.remove()
            self.suggestions = None
        shown = questions[: len(SUGGESTION_KEYS)]
        self.question_input.keys_when_empty = frozenset(SUGGESTION_KEYS[: len(shown)])
        if shown:
            self.suggestions = Suggestions(shown, id="suggestions")
            self.transcript.mount(self.suggestions)

    def on_suggestions_chosen(self, message: Suggestions.Chosen) -> None:
        message.stop()
        self.ask(message.question)

    def action_ask_suggestion(self, number: int) -> None:
        """A digit asks example question ``number``, but only into an empty, focused question box."""
        box = self.question_input
        if (
            self.suggestions is None
            or box.value
            or self.focused is not box
            or not 0 < number <= len(self.suggestions.questions)
        ):
            raise SkipAction()  # the key is typed as usual
        self.ask(self.suggestions.questions[number - 1])

    # -- selection and sources ----------------------------------------------------
    def select(self, card: AnswerCard | None) -> None:
        if self.selected is not None and self.selected.is_attached:
            self.selected.remove_class("-selected")
        self.selected = card
        if card is not None:
            card.add_class("-selected")
        self.sources.show(card)

    def clear(self) -> None:
        self.show_suggestions([])
        self.transcript.clear()
        self.select(None)

    def on_answer_card_selected(self, message: AnswerCard.Selected) -> None:
        self.select(message.card)

    def action_select_answer(self, step: int) -> None:
        cards = self.transcript.answered()
        if not cards:
            return
        at = cards.index(self.selected) if self.selected in cards else len(cards)
        card = cards[max(0, min(len(cards) - 1, at + step))]
        self.select(card)
        self.transcript.scroll_to_widget(card, animate=False)

    def action_toggle_sources(self) -> None:
        panel = self.sources
        panel.display = not panel.display
        if panel.display:
            panel.query_one(OptionList).focus()
        else:
            self.action_focus_question()

    def action_focus_question(self) -> None:
        self.question_input.focus()
