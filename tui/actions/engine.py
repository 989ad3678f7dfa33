"""The engine side of the chat: workers that call the engine, and what the app does with their results.

Every engine call (opening an index, loading models, asking, indexing) runs
in a thread worker, one at a time (``busy``), and reports back with a
message; questions typed meanwhile wait in ``pending`` and are answered in
order, so the question box keeps taking keystrokes while the reader works.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.worker import get_current_worker

from qa.contract import Engine, EngineConversation
from qa.errors import NewsdeskError
from qa.types import Answer, Article
from tui.messages import (
    AnswerReady,
    AssistantReady,
    EngineFailed,
    Fetched,
    IndexFinished,
    Notice,
    RestoredTurn,
    StatusChanged,
)
from tui.render import one_line
from tui.screens.chat import ChatScreen, QuestionAsked
from tui.suggestions import suggest
from tui.widgets.answer_card import AnswerCard

#: Example questions are offered on a first start over an index this small (the bundled one, a few files).
SUGGEST_UP_TO_ARTICLES = 20


def error_text(exc: BaseException) -> str:
    """One line for a person: Newsdesk errors carry their own message; others get their type."""
    text = one_line(str(exc), 300)
    if isinstance(exc, NewsdeskError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def articles_for(assistant: Engine, answers: Iterable[Answer]) -> dict[str, Article]:
    """The articles an answer and its passages come from, by id (missing ones skipped)."""
    ids: list[str] = []
    for answer in answers:
        if answer.article is not None:
            ids.append(answer.article.id)
        ids.extend(rp.passage.article_id for rp in answer.passages)
    found = {}
    for article_id in dict.fromkeys(ids):
        try:
            found[article_id] = assistant.article(article_id)
        except Exception:
            continue
    return found


def plural(n: object, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def ready_text(stats: Mapping[str, Any]) -> str:
    articles, passages = stats.get("articles"), stats.get("passages")
    if articles is None:
        return "Ready · F1 help"
    precision = (stats.get("precision") or {}).get("reader", {}).get("precision")
    shown = f" · {precision}" if precision else ""
    return f"Ready · {plural(articles, 'article')}, {plural(passages, 'passage')}{shown} · F1 help"


def skipped_text(skipped: list[Any], shown: int = 3) -> str:
    """``2 skipped (photo.jpg: not a text file; notes.bin: binary)``: each file named once, with its reason."""
    parts = []
    for s in skipped[:shown]:
        path, reason = getattr(s, "path", None), getattr(s, "reason", None)
        parts.append(
            f"{one_line(Path(path).name or path, 60)}: {one_line(reason, 60)}"
            if path and reason
            else one_line(str(s), 80)
        )
    more = f"; {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} skipped ({'; '.join(parts)}{more})"


class EngineWork(App[None]):
    """The app's engine layer: workers, the question queue and the handlers of engine results.

    ``tui.app.NewsdeskApp`` sets the state below in its ``__init__``.
    """

    chat: ChatScreen
    assistant_factory: Callable[[], Engine]
    #: Maps an index folder to its conversation file (None: only ``first_history_path`` is kept).
    history_for: Callable[[Path], Path] | None
    first_history_path: Path | None
    #: Where a first index is built when none could be opened.
    new_index_dir: Path | None
    #: The conversation file of the open index (None: not kept).
    history_path: Path | None
    assistant: Engine | None
    conversation: EngineConversation | None
    #: What the engine is doing now ("load", "ask", "index", "switch") or None.
    busy: str | None
    pending: deque[tuple[str, AnswerCard]]
    _ready_text: str

    # -- conversations on disk -----------------------------------------------------
    def history_file(self, assistant: Engine, *, first: bool) -> Path | None:
        """The conversation file of ``assistant``'s index: each index keeps its own conversation."""
        if self.history_for is not None and getattr(assistant, "index_dir", None):
            return Path(self.history_for(Path(assistant.index_dir)))
        return self.first_history_path if first else None

    def _restore(
        self, assistant: Engine, path: Path | None
    ) -> tuple[EngineConversation, list[RestoredTurn], str | None]:
        """A conversation for ``assistant``, continued from ``path`` when it holds one."""
        conversation: EngineConversation = assistant.conversation()
        if path is None or not path.exists():
            return conversation, [], None
        try:
            conversation, broken = type(conversation).load(assistant, path)  # type: ignore[attr-defined]
        except Exception as exc:
            return (
                conversation,
                [],
                (f"Could not read the saved conversation ({error_text(exc)}); new turns are added to it."),
            )
        warning = f"Skipped {plural(broken, 'unreadable turn')} in the saved conversation." if broken else None
        restored: list[RestoredTurn] = [(q, a, articles_for(assistant, [a])) for q, a in conversation.turns]
        return conversation, restored, warning

    def _save_history(self) -> None:
        if self.history_path is None or self.conversation is None:
            return
        try:
            self.conversation.save(self.history_path)  # type: ignore[attr-defined]
        except Exception as exc:
            self.post_message(Notice(f"Could not save the conversation: {error_text(exc)}", "warning"))

    @staticmethod
    def _stats(assistant: Engine) -> dict[str, Any]:
        try:
            return dict(assistant.stats())
        except Exception:
            return {}

    @staticmethod
    def _suggestions(assistant: Engine, stats: Mapping[str, Any], restored: list[RestoredTurn]) -> list[str]:
        """Example questions for a first start: a small index and nothing asked yet."""
        articles = stats.get("articles")
        if restored or not isinstance(articles, int) or not 0 < articles <= SUGGEST_UP_TO_ARTICLES:
            return []
        try:
            return suggest(assistant.articles())
        except Exception:
            return []

    def _opened(self, assistant: Engine, *, first: bool, fresh: bool) -> AssistantReady:
        """Load the models of a just-opened engine and gather what the screen shows (worker thread)."""
        self.post_message(StatusChanged("Loading models…"))
        assistant.warm_up()
        conversation, restored, warning = self._restore(assistant, self.history_file(assistant, first=first))
        stats = self._stats(assistant)
        return AssistantReady(
            assistant,
            conversation,
            restored,
            stats,
            fresh=fresh,
            warning=warning,
            suggestions=self._suggestions(assistant, stats, restored),
        )

    # -- workers -------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, exclusive=True, group="engine")
    def _load(self) -> None:
        try:
            ready = self._opened(self.assistant_factory(), first=True, fresh=False)
        except Exception as exc:
            self.post_message(EngineFailed("load", error_text(exc)))
            return
        self.post_message(ready)

    @work(thread=True, exit_on_error=False, exclusive=True, group="engine")
    def _switch(self, folder: Path) -> None:
        try:
            ready = self._opened(self._assistant_class().open(folder), first=False, fresh=True)
        except Exception as exc:
            self.post_message(EngineFailed("switch", error_text(exc)))
            return
        self.post_message(ready)

    @work(thread=True, exit_on_error=False, exclusive=True, group="engine")
    def _ask(self, question: str, card: AnswerCard) -> None:
        try:
            assert self.conversation is not None and self.assistant is not None
            answer = self.conversation.ask(question)
            articles = articles_for(self.assistant, [answer])
        except Exception as exc:
            self.post_message(EngineFailed("ask", error_text(exc), card))
            return
        self._save_history()
        self.post_message(AnswerReady(card, answer, articles))

    @work(thread=True, exit_on_error=False, exclusive=True, group="engine")
    def _index(self, path: Path) -> None:
        def progress(done: int, total: int, stage: str) -> None:
            counted = f" {done} of {total}" if total else ""
            self.post_message(StatusChanged(f"Indexing{counted}: {stage}…"))

        try:
            if self.assistant is None:  # nothing loaded yet: start the index (in --index DIR when given)
                assistant = self._assistant_class().from_paths([path], index_dir=self.new_index_dir, progress=progress)
                self.post_message(self._opened(assistant, first=False, fresh=True))
                return
            report = self.assistant.index([path], progress=progress)
            stats = self._stats(self.assistant)
        except Exception as exc:
            self.post_message(EngineFailed("index", error_text(exc)))
            return
        self.post_message(IndexFinished(str(path), report, stats))

    @work(thread=True, exit_on_error=False, exclusive=True, group="lookup")
    def _fetch(self, fetch: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """A quick lookup (articles, statistics); a newer lookup replaces one still running."""
        try:
            result = fetch()
        except Exception as exc:
            self.post_message(Notice(error_text(exc), "error"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Fetched(then, result))

    def on_fetched(self, message: Fetched) -> None:
        message.then(message.result)

    def _assistant_class(self) -> Any:
        if self.assistant is not None:
            return type(self.assistant)
        from qa import Assistant

        return Assistant

    # -- engine results --------------------------------------------------------------
    def on_assistant_ready(self, message: AssistantReady) -> None:
        self.assistant = message.assistant
        self.conversation = message.conversation
        self.history_path = self.history_file(message.assistant, first=not message.fresh)
        self.busy = None
        self._ready_text = ready_text(message.stats)
        chat = self.chat
        if message.fresh:
            chat.clear()
            self.notify(f"Opened the index in {message.stats.get('index_dir', 'a new folder')}")
        for question, answer, articles in message.restored:
            card = chat.transcript.add_question(question)
            card.show_answer(answer, articles)
            chat.question_input.remember(question)
        if message.restored:
            chat.select(chat.transcript.answered()[-1])
        if message.suggestions and not self.pending and not chat.transcript.cards():
            chat.show_suggestions(message.suggestions)
        if message.warning:
            self.notify(message.warning, severity="warning")
        self.set_status(self._ready_text)
        self._next_question()

    def on_answer_ready(self, message: AnswerReady) -> None:
        self.busy = None
        if message.card.is_attached:
            message.card.show_answer(message.answer, message.articles)
            self.chat.select(message.card)
            self.chat.transcript.scroll_end(animate=False)
        self.set_status(self._ready_text)
        self._next_question()

    def on_index_finished(self, message: IndexFinished) -> None:
        self.busy = None
        self._ready_text = ready_text(message.stats)
        report = message.report
        summary = (
            f"Indexed {message.path}: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.unchanged} unchanged"
        )
        skipped = list(getattr(report, "skipped", []) or [])
        if skipped:
            summary += "; " + skipped_text(skipped)
        self.notify(summary, severity="warning" if skipped else "information", timeout=8)
        self.set_status(self._ready_text)
        self._next_question()

    def on_engine_failed(self, message: EngineFailed) -> None:
        self.busy = None
        self.notify(message.error, severity="error", timeout=10)
        if message.card is not None and message.card.is_attached:
            message.card.show_failure(message.error)
        if self.conversation is None:
            # Nothing can answer: give the waiting questions up.
            while self.pending:
                _, card = self.pending.popleft()
                card.show_failure("no index is open")
            self._ready_text = "Not ready · Ctrl+O to index a folder · F6 to open an index"
        self.set_status(self._ready_text)
        self._next_question()

    # -- asking ----------------------------------------------------------------------
    def on_question_asked(self, message: QuestionAsked) -> None:
        if self.conversation is None and self.busy is None:
            self.notify("No index is open: Ctrl+O indexes a folder, F6 opens an index.", severity="error")
            return
        card = self.chat.transcript.add_question(message.question)
        self.pending.append((message.question, card))
        self._next_question()

    def _next_question(self) -> None:
        """Start on the oldest waiting question if the engine is free."""
        if self.busy is not None or self.conversation is None or not self.pending:
            if self.pending:
                self.set_status(self._busy_text())
            return
        question, card = self.pending.popleft()
        self.busy = "ask"
        card.set_thinking()
        self.set_status(f"Thinking about: {one_line(question, 50)}")
        self._ask(question, card)

    def _busy_text(self) -> str:
        return {"load": "Loading…", "index": "Indexing…", "switch": "Opening the index…", "ask": "Thinking…"}.get(
            self.busy or "", self._ready_text
        )

    def _refuse_if_busy(self, what: str) -> bool:
        if self.busy is not None or self.pending:
            self.notify(
                f"Still working ({self._busy_text().rstrip('…').lower()}); {what} when it finishes.", severity="warning"
            )
            return True
        return False

    def set_status(self, text: str) -> None:
        waiting = len(self.pending)
        if waiting:
            text += f" · {plural(waiting, 'question')} waiting"
        self.chat.show_status(text)
