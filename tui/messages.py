"""Messages that background workers post back to the app (``post_message`` is thread-safe)."""

from __future__ import annotations

from typing import Any, Callable

from textual.message import Message
from textual.notifications import SeverityLevel


class StatusChanged(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class AssistantReady(Message):
    """An assistant is loaded (at start, after switching index, or after a first index)."""

    def __init__(self, assistant: Any, conversation: Any, restored: list, stats: dict,
                 fresh: bool, warning: str | None = None) -> None:
        super().__init__()
        self.assistant = assistant
        self.conversation = conversation
        self.restored = restored  # [(question, Answer, articles-by-id)]
        self.stats = stats
        self.fresh = fresh  # True: clear the transcript (another index)
        self.warning = warning


class AnswerReady(Message):
    def __init__(self, card: Any, answer: Any, articles: dict) -> None:
        super().__init__()
        self.card = card
        self.answer = answer
        self.articles = articles


class IndexFinished(Message):
    def __init__(self, path: str, report: Any, stats: dict) -> None:
        super().__init__()
        self.path = path
        self.report = report
        self.stats = stats


class EngineFailed(Message):
    """An engine call raised; ``job`` is what was running ("load", "ask", "index", "switch")."""

    def __init__(self, job: str, error: str, card: Any = None) -> None:
        super().__init__()
        self.job = job
        self.error = error
        self.card = card


class Fetched(Message):
    """A quick lookup finished: call ``then(result)`` on the UI thread."""

    def __init__(self, then: Callable[[Any], None], result: Any) -> None:
        super().__init__()
        self.then = then
        self.result = result


class Notice(Message):
    def __init__(self, text: str, severity: SeverityLevel = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity
