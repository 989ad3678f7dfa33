"""Newsdesk chat: ask questions about the indexed news articles in the terminal.

The app is thin: it holds the engine and the conversation, opens the chat
screen (``tui.screens.chat``) and pushes the others (articles, dialogs,
help) on top of it. What it does lives in two mixins: ``tui.actions.engine``
(workers and their results) and ``tui.actions.commands`` (the commands).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static

from qa.contract import Engine, EngineConversation
from qa.textsafe import install_plain_logging, plain
from tui.actions.commands import Commands
from tui.actions.engine import articles_for, error_text, plural, ready_text
from tui.keys import key_table
from tui.logs import set_aside_terminal_logging
from tui.messages import Notice, StatusChanged
from tui.screens.chat import ChatScreen
from tui.widgets.answer_card import AnswerCard
from tui.widgets.dialogs import HelpScreen
from tui.widgets.history_input import HistoryInput
from tui.widgets.sources import SourcesPanel
from tui.widgets.transcript import MAX_TURNS_SHOWN, Transcript

__all__ = ["NewsdeskApp", "articles_for", "error_text", "help_keys", "plural", "ready_text", "run_chat"]


class NewsdeskApp(Commands):
    """The chat app. ``assistant_factory`` is called in a worker thread, so it may be slow."""

    CSS_PATH = "app.tcss"
    TITLE = "Newsdesk"
    #: Turns kept on screen; older ones stay in the conversation and its export.
    max_turns_shown = MAX_TURNS_SHOWN
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),  # on every screen; the chat screen lists it first
        Binding("ctrl+t", "toggle_theme", "Theme", show=False, tooltip="dark or light theme"),
        Binding(
            "ctrl+p",
            "command_palette",
            "palette",
            show=False,
            priority=True,
            tooltip="command palette: every command by name",
        ),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, tooltip="quit"),
    ]

    def __init__(
        self,
        assistant_factory: Callable[[], Engine],
        history_path: Path | str | None = None,
        *,
        index_dir: Path | str | None = None,
        history_for: Callable[[Path], Path] | None = None,
    ) -> None:
        """``history_path`` keeps the conversation with the factory's index; ``history_for`` maps any
        index folder to its conversation file (used after switching index); ``index_dir`` is where
        Ctrl+O builds an index when none could be opened."""
        super().__init__()
        install_plain_logging()
        self.assistant_factory = assistant_factory
        self.first_history_path = Path(history_path) if history_path else None
        self.history_for = history_for
        self.new_index_dir = Path(index_dir) if index_dir else None
        #: The conversation file of the open index (None: not kept).
        self.history_path: Path | None = None
        self.assistant: Engine | None = None
        self.conversation: EngineConversation | None = None
        self.busy: str | None = None
        self.pending: deque[tuple[str, AnswerCard]] = deque()
        self._ready_text = "Starting…"
        self.chat = ChatScreen(max_turns=self.max_turns_shown)
        self._restore_logging: Callable[[], None] = lambda: None

    def get_default_screen(self) -> Screen:
        self.chat.transcript.max_turns = max(1, self.max_turns_shown)  # may be set after __init__
        return self.chat

    def on_mount(self) -> None:
        self._restore_logging = set_aside_terminal_logging(self)

    def on_unmount(self) -> None:
        self._restore_logging()

    def on_chat_screen_started(self) -> None:
        self.busy = "load"
        self.set_status("Opening the index…")
        self._load()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """As ``App.notify``, but plain text by default: messages carry paths and engine errors."""
        super().notify(plain(message), title=plain(title), severity=severity, timeout=timeout, markup=markup)

    def on_status_changed(self, message: StatusChanged) -> None:
        self.set_status(message.text)

    def on_notice(self, message: Notice) -> None:
        self.notify(message.text, severity=message.severity)

    # -- the chat screen's parts (tests and the watcher reach them through the app) --
    @property
    def transcript(self) -> Transcript:
        return self.chat.transcript

    @property
    def sources(self) -> SourcesPanel:
        return self.chat.sources

    @property
    def question_input(self) -> HistoryInput:
        return self.chat.question_input

    @property
    def status_line(self) -> Static:
        return self.chat.status_line

    @property
    def selected(self) -> AnswerCard | None:
        return self.chat.selected

    def select(self, card: AnswerCard | None) -> None:
        self.chat.select(card)

    def action_focus_question(self) -> None:
        self.chat.action_focus_question()

    # -- app-wide commands ---------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette holds the app's own commands (not Textual's keys, maximize or screenshot)."""
        if screen is self.chat:
            yield SystemCommand("Ask a question", "Go to the question box (Enter asks)", self.action_focus_question)
            yield SystemCommand(
                "Sources", "Show or hide the passages behind the answer (F2)", self.chat.action_toggle_sources
            )
            yield SystemCommand("Article browser", "List every indexed article (F3)", self.action_browse)
            yield SystemCommand("Index statistics", "Articles, passages, models, size (F4)", self.action_stats)
            yield SystemCommand("Index a folder or file", "Add articles to the index (Ctrl+O)", self.action_index_path)
            yield SystemCommand("Switch index", "Open another index folder (F6)", self.action_switch_index)
            yield SystemCommand(
                "New conversation", "Forget the questions so far (Ctrl+N)", self.action_new_conversation
            )
            yield SystemCommand(
                "Export conversation as Markdown", "Write the conversation to a file (Ctrl+S)", self.action_export
            )
            yield SystemCommand(
                "Copy last answer", "Copy the last answer and its citation (Ctrl+Y)", self.action_copy_answer
            )
        yield SystemCommand(
            "Toggle dark/light theme", "Switch between dark and light (Ctrl+T)", self.action_toggle_theme
        )
        yield SystemCommand("Help", "Keys and commands (F1)", self.action_help)
        yield SystemCommand("Quit", "Leave Newsdesk (Ctrl+Q)", self.action_quit)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_keys()))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def help_keys() -> list[tuple[str, str]]:
    """Every key the chat binds for people, with what it does: the help screen and the README's table."""
    return key_table([HistoryInput, ChatScreen, SourcesPanel, NewsdeskApp])


def run_chat(assistant_factory: Callable[[], Engine], *, index_dir: Path | str | None = None) -> None:
    """Run the chat app until the person quits; each index keeps its conversation (``conversation_path``)."""
    from qa.conversation import conversation_path

    NewsdeskApp(assistant_factory, index_dir=index_dir, history_for=conversation_path).run()
