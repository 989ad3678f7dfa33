"""The sources panel: passages considered for one answer, ranked with their scores."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.render import MUTED_STYLE, article_title, one_line, snippet
from tui.widgets.answer_card import AnswerCard

EMPTY = "Ask a question to see the passages behind its answer."


def holds_answer(answer, retrieved) -> bool:
    """Whether this retrieved passage contains the answer span."""
    p = retrieved.passage
    return (
        answer.found
        and answer.article is not None
        and answer.start is not None
        and p.article_id == answer.article.id
        and p.start <= answer.start < p.end
    )


def describe_passage(number: int, answer, retrieved, articles) -> Content:
    """Three lines: rank and headline; scores; the start of the passage."""
    p = retrieved.passage
    scores = [f"score {retrieved.score:.3f}"]
    if retrieved.dense_rank is not None:
        scores.append(f"dense #{retrieved.dense_rank}")
    if retrieved.sparse_rank is not None:
        scores.append(f"keyword #{retrieved.sparse_rank}")
    if retrieved.reader_score is not None:
        scores.append(f"reader {retrieved.reader_score:.2f}")
    marker = ("★ answer · ", "bold $text-warning") if holds_answer(answer, retrieved) else ""
    return Content.assemble(
        (f"{number}. ", "bold"),
        (article_title(p.article_id, articles), "bold $text-primary"),
        "\n",
        marker,
        (" · ".join(scores), MUTED_STYLE),
        ("\n" + snippet(p.text, 90), "italic"),
    )


class SourcesPanel(Vertical):
    """Shows the passages of the selected answer card; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "leave", "Back to question", show=False, tooltip="back: to the question box, or out of a screen"
        )
    ]

    class OpenPassage(Message):
        """Open the article of ``retrieved`` for ``card``'s answer."""

        def __init__(self, card: AnswerCard, retrieved) -> None:
            super().__init__()
            self.card = card
            self.retrieved = retrieved

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.card: AnswerCard | None = None

    def compose(self) -> ComposeResult:
        yield Static("Sources", id="sources-title")
        yield OptionList(id="sources-list")

    def on_mount(self) -> None:
        self.show(None)

    def show(self, card: AnswerCard | None) -> None:
        self.card = card
        title = self.query_one("#sources-title", Static)
        options = self.query_one("#sources-list", OptionList)
        options.clear_options()
        if card is None or card.answer is None:
            title.update(Content.styled("Sources", "bold"))
            options.add_option(Option(Content.styled(EMPTY, MUTED_STYLE), disabled=True))
            return
        answer = card.answer
        title.update(Content.assemble(("Sources for: ", "bold"), one_line(card.question, 60)))
        if not answer.passages:
            options.add_option(Option(Content.styled("No passages were retrieved.", MUTED_STYLE), disabled=True))
            return
        for number, rp in enumerate(answer.passages, 1):
            if number > 1:
                options.add_option(None)  # a separator line
            options.add_option(Option(describe_passage(number, answer, rp, card.articles)))
        options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.card is not None and self.card.answer is not None:
            self.post_message(self.OpenPassage(self.card, self.card.answer.passages[event.option_index]))

    async def action_leave(self) -> None:
        await self.app.run_action("focus_question")
