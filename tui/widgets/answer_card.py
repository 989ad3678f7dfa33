"""One answer in the transcript: the answer in its sentence, citation, confidence."""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from qa.dedup import copies_note
from qa.readers.timeline import timeline_line
from qa.timeexpr import scope_line
from tui.render import (
    MUTED_STYLE,
    answer_in_sentence,
    citation,
    closest_passages,
    confidence_label,
    no_match_line,
    one_line,
    snippet,
    understood_as,
)

NO_ANSWER = "I found no answer in the articles."
#: Closest passages listed under a no-answer.
CLOSEST = 3


class AnswerCard(Static):
    """Starts as a placeholder ("waiting…"), then shows an Answer or a failure."""

    class Selected(Message):
        """The card was clicked: show its sources."""

        def __init__(self, card: AnswerCard) -> None:
            super().__init__()
            self.card = card

    def __init__(self, question: str, **kwargs) -> None:
        super().__init__(Content.styled("Waiting…", MUTED_STYLE), **kwargs)
        self.question = question
        self.answer = None
        #: Articles the answer and its passages come from, by id.
        self.articles: Mapping[str, object] = {}
        #: The question line shown above this card (removed together with it).
        self.question_item: Static | None = None
        #: Taken off the transcript (its turn lives on as data).
        self.pruned = False
        self.add_class("-pending")

    def set_thinking(self) -> None:
        self.update(Content.styled("Thinking…", MUTED_STYLE))

    def show_failure(self, message: str) -> None:
        self.remove_class("-pending")
        self.add_class("-failed")
        self.update(Content.assemble(("Not answered: ", "bold $text-error"), one_line(message)))

    def show_answer(self, answer, articles: Mapping[str, object]) -> None:
        self.answer = answer
        self.articles = articles
        self.remove_class("-pending")
        self.set_class(not answer.found, "-no-answer")
        self.update(self.render_answer(answer, articles))

    @staticmethod
    def render_answer(answer, articles: Mapping[str, object]) -> Content:
        lines: list[Content] = []
        rewritten = understood_as(answer)  # only when it differs from what was typed
        if rewritten:
            lines.append(Content.assemble(("Understood as: ", MUTED_STYLE), (one_line(rewritten), "italic")))
        if answer.time is not None:  # time words narrowed or ordered the search
            lines.append(Content.assemble(("When: ", MUTED_STYLE), (one_line(scope_line(answer.time)), MUTED_STYLE)))
        if answer.found:
            day = f" ({answer.resolved_date})" if answer.resolved_date else ""
            lines.append(Content.assemble((one_line(answer.text), "bold"), (day, MUTED_STYLE)))
            lines.append(answer_in_sentence(answer))
            ref = answer.article
            if ref is not None:
                lines.append(
                    Content.assemble(
                        ("— ", MUTED_STYLE),
                        (citation(ref.title, ref.date, ref.section), "$text-primary"),
                        (f" {copies_note(answer.copies)}" if answer.copies else "", MUTED_STYLE),
                    )
                )
            if answer.timeline:  # several articles answer: the shown one first, then the others with their dates
                lines.append(
                    Content.assemble(("Over time: ", MUTED_STYLE), one_line(timeline_line(answer.timeline), 240))
                )
            lines.append(Content.styled(confidence_label(answer.confidence), MUTED_STYLE))
        else:
            lines.append(Content.styled(NO_ANSWER, "bold"))
            if not answer.passages:  # nothing passed the filters: say so rather than list nothing
                lines.append(Content.styled(no_match_line(answer), MUTED_STYLE))
            else:
                lines.append(Content.styled("Closest passages:", MUTED_STYLE))
            for title, texts in closest_passages(answer, articles, CLOSEST):  # each headline once
                lines.append(Content.assemble("• ", (title, "$text-primary")))
                lines.extend(Content.styled(snippet(text, 120), "italic") for text in texts)
        return Content("\n").join(lines)

    def on_click(self) -> None:
        if self.answer is not None:
            self.post_message(self.Selected(self))
