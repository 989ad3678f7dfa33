"""Messages that background workers post back to the app (``post_message`` is thread-safe).

Workers never touch widgets: they run engine calls in a thread and report
with one of these, and the app's handlers change the screen on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.notifications import SeverityLevel

from qa.contract import Engine, EngineConversation
from qa.types import Answer, Article

if TYPE_CHECKING:
    from tui.widgets.answer_card import AnswerCard

#: A restored turn: (question, Answer, the articles it cites by id).
RestoredTurn = tuple[str, Answer, Mapping[str, Article]]


@dataclass
class StatusChanged(Message):
    """What the engine is doing now, for the status line."""

    text: str


@dataclass
class AssistantReady(Message):
    """An engine is loaded (at start, after switching index, or after a first index)."""

    assistant: Engine
    conversation: EngineConversation
    restored: list[RestoredTurn]
    stats: dict[str, Any]
    #: True: another index than before, so the transcript is cleared.
    fresh: bool
    warning: str | None = None
    #: Example questions to offer on a first start (empty when the conversation has turns).
    suggestions: list[str] = field(default_factory=list)


@dataclass
class AnswerReady(Message):
    card: AnswerCard
    answer: Answer
    articles: Mapping[str, Article]


@dataclass
class IndexFinished(Message):
    path: str
    report: Any
    stats: dict[str, Any]


@dataclass
class EngineFailed(Message):
    """An engine call raised; ``job`` is what was running ("load", "ask", "index", "switch")."""

    job: str
    error: str
    card: AnswerCard | None = None


@dataclass
class Fetched(Message):
    """A quick lookup finished: call ``then(result)`` on the UI thread."""

    then: Callable[[Any], None]
    result: Any


@dataclass
class Notice(Message):
    text: str
    severity: SeverityLevel = "information"
