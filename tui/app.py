"""Newsdesk chat: ask questions about the indexed news articles in the terminal.

Every engine call (building the assistant, loading models, asking, indexing,
lookups) runs in a thread worker; workers report back with messages, so the
question box keeps taking keystrokes while an answer is being computed.
Questions typed while the engine is busy wait in a queue and are answered in
order.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static

from qa.textsafe import install_plain_logging, plain
from tui.export import conversation_markdown, resolve_export_path
from tui.messages import AnswerReady, AssistantReady, EngineFailed, Fetched, IndexFinished, Notice, StatusChanged
from tui.render import MUTED_STYLE, citation, one_line
from tui.widgets.answer_card import AnswerCard
from tui.widgets.article_browser import ArticleBrowserScreen
from tui.widgets.article_view import ArticleScreen
from tui.widgets.dialogs import HelpScreen, PromptScreen, StatsScreen
from tui.widgets.history_input import HistoryInput
from tui.widgets.sources import SourcesPanel
from tui.widgets.transcript import MAX_TURNS_SHOWN, Transcript

KEYS = [
    ("Enter", "ask the question"),
    ("Up / Down", "walk earlier questions"),
    ("F1", "help"),
    ("F2", "show or hide the sources panel"),
    ("F3", "browse the indexed articles"),
    ("F4", "index statistics"),
    ("F6", "switch to another index folder"),
    ("Ctrl+O", "index a folder or file"),
    ("Ctrl+N", "new conversation"),
    ("Ctrl+S", "export the conversation as Markdown"),
    ("Ctrl+Y", "copy the last answer"),
    ("Ctrl+Up / Down", "select an earlier / later answer"),
    ("Ctrl+T", "dark / light theme"),
    ("Ctrl+P", "command palette"),
    ("Escape", "back (from the sources panel or a screen)"),
    ("Ctrl+Q", "quit"),
]

#: Actions that only make sense on the chat screen.
CHAT_ACTIONS = {
    "toggle_sources", "browse", "stats", "index_path", "switch_index", "new_conversation",
    "export", "copy_answer", "select_answer",
}


def error_text(exc: BaseException) -> str:
    """One line for a person: Newsdesk errors carry their own message; others get their type."""
    text = one_line(str(exc), 300)
    if any(cls.__name__ == "NewsdeskError" for cls in type(exc).__mro__):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def articles_for(assistant: Any, answers: Iterable[Any]) -> dict:
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


def ready_text(stats: dict) -> str:
    articles, passages = stats.get("articles"), stats.get("passages")
    if articles is None:
        return "Ready · F1 help"
    precision = (stats.get("precision") or {}).get("reader", {}).get("precision")
    shown = f" · {precision}" if precision else ""
    return f"Ready · {plural(articles, 'article')}, {plural(passages, 'passage')}{shown} · F1 help"


class NewsdeskApp(App):
    """The chat app. ``assistant_factory`` is called in a worker thread, so it may be slow."""

    CSS_PATH = "app.tcss"
    TITLE = "Newsdesk"
    #: Turns kept on screen; older ones stay in the conversation and its export.
    max_turns_shown = MAX_TURNS_SHOWN
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "toggle_sources", "Sources"),
        Binding("f3", "browse", "Articles"),
        Binding("ctrl+o", "index_path", "Index"),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+s", "export", "Export"),
        Binding("f4", "stats", "Statistics", show=False),
        Binding("f6", "switch_index", "Switch index", show=False),
        Binding("ctrl+y", "copy_answer", "Copy answer", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("ctrl+up", "select_answer(-1)", "Earlier answer", show=False),
        Binding("ctrl+down", "select_answer(1)", "Later answer", show=False),
    ]

    def __init__(self, assistant_factory: Callable[[], Any], history_path: Path | str | None = None, *,
                 index_dir: Path | str | None = None,
                 history_for: Callable[[Path], Path] | None = None) -> None:
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
        self.assistant: Any = None
        self.conversation: Any = None
        #: What the engine is doing now ("load", "ask", "index", "switch") or None.
        self.busy: str | None = None
        self.pending: deque[tuple[str, AnswerCard]] = deque()
        self.selected: AnswerCard | None = None
        self._ready_text = "Starting…"

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """As ``App.notify``, but plain text by default: messages carry paths and engine errors."""
        super().notify(plain(message), title=plain(title), severity=severity, timeout=timeout, markup=markup)

    # -- layout -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # Kept as attributes: App.query_one only searches the active screen, and
        # answers may arrive while another screen (an article, a dialog) is on top.
        self.transcript = Transcript(id="transcript", max_turns=self.max_turns_shown)
        self.sources = SourcesPanel(id="sources")
        self.status_line = Static(id="status")
        self.question_input = HistoryInput(placeholder="Ask a question about the news…", id="question")
        yield Header()
        with Horizontal(id="body"):
            yield self.transcript
            yield self.sources
        yield self.status_line
        yield self.question_input
        yield Footer()

    def on_mount(self) -> None:
        self.sources.display = False
        self.question_input.focus()
        self.busy = "load"
        self.set_status("Opening the index…")
        self._load()

    def set_status(self, text: str) -> None:
        waiting = len(self.pending)
        if waiting:
            text += f" · {plural(waiting, 'question')} waiting"
        self.status_line.update(Content.styled(text, MUTED_STYLE))

    def on_status_changed(self, message: StatusChanged) -> None:
        self.set_status(message.text)

    def on_notice(self, message: Notice) -> None:
        self.notify(message.text, severity=message.severity)

    # -- workers ----------------------------------------------------------------
    def history_file(self, assistant: Any, *, first: bool) -> Path | None:
        """The conversation file of ``assistant``'s index: each index keeps its own conversation."""
        if self.history_for is not None and getattr(assistant, "index_dir", None):
            return Path(self.history_for(Path(assistant.index_dir)))
        return self.first_history_path if first else None

    def _restore(self, assistant: Any, path: Path | None) -> tuple[Any, list, str | None]:
        """A conversation for ``assistant``, continued from ``path`` when it holds one."""
        conversation = assistant.conversation()
        if path is None or not path.exists():
            return conversation, [], None
        try:
            conversation, broken = type(conversation).load(assistant, path)
        except Exception as exc:
            return conversation, [], (f"Could not read the saved conversation ({error_text(exc)}); "
                                       "new turns are added to it.")
        warning = None
        if broken:
            warning = f"Skipped {plural(broken, 'unreadable turn')} in the saved conversation."
        restored = [(q, a, articles_for(assistant, [a])) for q, a in conversation.turns]
        return conversation, restored, warning

    def _save_history(self) -> None:
        if self.history_path is None or self.conversation is None:
            return
        try:
            self.conversation.save(self.history_path)
        except Exception as exc:
            self.post_message(Notice(f"Could not save the conversation: {error_text(exc)}", "warning"))

    def _stats(self, assistant: Any) -> dict:
        try:
            return dict(assistant.stats())
        except Exception:
            return {}

    @work(thread=True, exit_on_error=False, group="engine")
    def _load(self) -> None:
        try:
            assistant = self.assistant_factory()
            self.post_message(StatusChanged("Loading models…"))
            assistant.warm_up()
            conversation, restored, warning = self._restore(assistant, self.history_file(assistant, first=True))
            stats = self._stats(assistant)
        except Exception as exc:
            self.post_message(EngineFailed("load", error_text(exc)))
            return
        self.post_message(AssistantReady(assistant, conversation, restored, stats, fresh=False, warning=warning))

    @work(thread=True, exit_on_error=False, group="engine")
    def _switch(self, folder: Path) -> None:
        try:
            assistant = self._assistant_class().open(folder)
            self.post_message(StatusChanged("Loading models…"))
            assistant.warm_up()
            conversation, restored, warning = self._restore(assistant, self.history_file(assistant, first=False))
            stats = self._stats(assistant)
        except Exception as exc:
            self.post_message(EngineFailed("switch", error_text(exc)))
            return
        self.post_message(AssistantReady(assistant, conversation, restored, stats, fresh=True, warning=warning))

    @work(thread=True, exit_on_error=False, group="engine")
    def _ask(self, question: str, card: AnswerCard) -> None:
        try:
            answer = self.conversation.ask(question)
            articles = articles_for(self.assistant, [answer])
        except Exception as exc:
            self.post_message(EngineFailed("ask", error_text(exc), card))
            return
        self._save_history()
        self.post_message(AnswerReady(card, answer, articles))

    @work(thread=True, exit_on_error=False, group="engine")
    def _index(self, path: Path) -> None:
        def progress(done: int, total: int, stage: str) -> None:
            counted = f" {done} of {total}" if total else ""
            self.post_message(StatusChanged(f"Indexing{counted}: {stage}…"))

        try:
            if self.assistant is None:  # nothing loaded yet: start the index (in --index DIR when given)
                assistant = self._assistant_class().from_paths([path], index_dir=self.new_index_dir,
                                                              progress=progress)
                self.post_message(StatusChanged("Loading models…"))
                assistant.warm_up()
                conversation, restored, warning = self._restore(assistant, self.history_file(assistant, first=False))
                self.post_message(AssistantReady(assistant, conversation, restored, self._stats(assistant),
                                                 fresh=True, warning=warning))
                return
            report = self.assistant.index([path], progress=progress)
            stats = self._stats(self.assistant)
        except Exception as exc:
            self.post_message(EngineFailed("index", error_text(exc)))
            return
        self.post_message(IndexFinished(str(path), report, stats))

    @work(thread=True, exit_on_error=False, group="lookup")
    def _fetch(self, fetch: Callable[[], Any], then: Callable[[Any], None]) -> None:
        try:
            result = fetch()
        except Exception as exc:
            self.post_message(Notice(error_text(exc), "error"))
            return
        self.post_message(Fetched(then, result))

    def on_fetched(self, message: Fetched) -> None:
        message.then(message.result)

    def _assistant_class(self) -> type:
        if self.assistant is not None:
            return type(self.assistant)
        from qa import Assistant

        return Assistant

    # -- engine results -----------------------------------------------------------
    def on_assistant_ready(self, message: AssistantReady) -> None:
        self.assistant = message.assistant
        self.conversation = message.conversation
        self.history_path = self.history_file(message.assistant, first=not message.fresh)
        self.busy = None
        self._ready_text = ready_text(message.stats)
        if message.fresh:
            self._clear_transcript()
            self.notify(f"Opened the index in {message.stats.get('index_dir', 'a new folder')}")
        for question, answer, articles in message.restored:
            card = self.transcript.add_question(question)
            card.show_answer(answer, articles)
            self.question_input.remember(question)
        if message.restored:
            self.select(self.transcript.answered()[-1])
        if message.warning:
            self.notify(message.warning, severity="warning")
        self.set_status(self._ready_text)
        self._next_question()

    def on_answer_ready(self, message: AnswerReady) -> None:
        self.busy = None
        if message.card.is_attached:
            message.card.show_answer(message.answer, message.articles)
            self.select(message.card)
            self.transcript.scroll_end(animate=False)
        self.set_status(self._ready_text)
        self._next_question()

    def on_index_finished(self, message: IndexFinished) -> None:
        self.busy = None
        self._ready_text = ready_text(message.stats)
        report = message.report
        summary = (f"Indexed {message.path}: {report.added} added, {report.updated} updated, "
                   f"{report.removed} removed, {report.unchanged} unchanged")
        skipped = list(getattr(report, "skipped", []) or [])
        if skipped:
            summary += f"; {len(skipped)} skipped: " + "; ".join(one_line(str(s), 80) for s in skipped[:3])
            if len(skipped) > 3:
                summary += "; …"
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

    # -- asking -------------------------------------------------------------------
    def on_input_submitted(self, event: HistoryInput.Submitted) -> None:
        if event.input is not self.question_input:
            return
        question = event.value.strip()
        if not question:
            return
        self.question_input.clear()
        self.question_input.remember(question)
        if self.conversation is None and self.busy is None:
            self.notify("No index is open: Ctrl+O indexes a folder, F6 opens an index.", severity="error")
            return
        card = self.transcript.add_question(question)
        self.pending.append((question, card))
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
        return {"load": "Loading…", "index": "Indexing…", "switch": "Opening the index…",
                "ask": "Thinking…"}.get(self.busy or "", self._ready_text)

    def _refuse_if_busy(self, what: str) -> bool:
        if self.busy is not None or self.pending:
            self.notify(f"Still working ({self._busy_text().rstrip('…').lower()}); {what} when it finishes.",
                        severity="warning")
            return True
        return False

    # -- selection and sources ----------------------------------------------------
    def select(self, card: AnswerCard | None) -> None:
        if self.selected is not None and self.selected.is_attached:
            self.selected.remove_class("-selected")
        self.selected = card
        if card is not None:
            card.add_class("-selected")
        self.sources.show(card)

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

    def on_sources_panel_open_passage(self, message: SourcesPanel.OpenPassage) -> None:
        answer, passage = message.card.answer, message.retrieved.passage
        answer_span = None
        if answer.found and answer.article is not None and answer.article.id == passage.article_id \
                and answer.start is not None and answer.end is not None:
            answer_span = (answer.start, answer.end)

        def show(article: Any) -> None:
            self.push_screen(ArticleScreen(article, answer_span, (passage.start, passage.end)))

        article = message.card.articles.get(passage.article_id)
        if article is not None:
            show(article)
        elif self.assistant is not None:
            self._fetch(lambda: self.assistant.article(passage.article_id), show)

    # -- commands -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHAT_ACTIONS and len(self.screen_stack) > 1:
            return False
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Index a folder or file", "Add articles to the index (Ctrl+O)", self.action_index_path)
        yield SystemCommand("Switch index", "Open another index folder (F6)", self.action_switch_index)
        yield SystemCommand("New conversation", "Forget the questions so far (Ctrl+N)", self.action_new_conversation)
        yield SystemCommand("Export conversation as Markdown", "Write the conversation to a file (Ctrl+S)", self.action_export)
        yield SystemCommand("Copy last answer", "Copy the last answer and its citation (Ctrl+Y)", self.action_copy_answer)
        yield SystemCommand("Toggle sources", "Show or hide the passages behind the answer (F2)", self.action_toggle_sources)
        yield SystemCommand("Browse articles", "List every indexed article (F3)", self.action_browse)
        yield SystemCommand("Index statistics", "Articles, passages, models, size (F4)", self.action_stats)
        yield SystemCommand("Toggle dark/light theme", "Switch between dark and light (Ctrl+T)", self.action_toggle_theme)
        yield SystemCommand("Help", "Keys and commands (F1)", self.action_help)
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(KEYS))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_index_path(self) -> None:
        if self._refuse_if_busy("index"):
            return

        def chosen(typed: str | None) -> None:
            if not typed:
                return
            path = Path(typed).expanduser()
            if not path.exists():
                self.notify(f"No such file or folder: {one_line(typed)}", severity="error")
                return
            if self._refuse_if_busy("index"):
                return
            self.busy = "index"
            self.set_status(f"Indexing {one_line(str(path), 50)}…")
            self._index(path)

        self.push_screen(PromptScreen("Index a folder or file", "path/to/articles", hint="Articles in it are added to the index · Escape to cancel"), chosen)

    def action_switch_index(self) -> None:
        if self._refuse_if_busy("switch"):
            return

        def chosen(typed: str | None) -> None:
            if not typed:
                return
            folder = Path(typed).expanduser()
            if not folder.is_dir():
                self.notify(f"Not a folder: {one_line(typed)}", severity="error")
                return
            if self._refuse_if_busy("switch"):
                return
            self.busy = "switch"
            self.set_status(f"Opening {one_line(str(folder), 50)}…")
            self._switch(folder)

        current = str(getattr(self.assistant, "index_dir", "") or "")
        self.push_screen(PromptScreen("Switch to the index in folder", "path/to/index", value=current), chosen)

    def _clear_transcript(self) -> None:
        self.transcript.clear()
        self.select(None)

    def action_new_conversation(self) -> None:
        if self.busy == "ask":
            self.notify("Wait for the current answer, then start a new conversation.", severity="warning")
            return
        while self.pending:
            self.pending.popleft()
        if self.conversation is not None:
            self.conversation.reset()
        self._clear_transcript()
        if self.history_path is not None:
            try:
                self.history_path.unlink(missing_ok=True)
            except OSError as exc:
                self.notify(f"Could not remove the saved conversation: {error_text(exc)}", severity="warning")
        self.set_status(self._ready_text if self.busy is None else self._busy_text())
        self.notify("New conversation")

    def export_markdown(self, path: Path) -> Path:
        turns = self.transcript.turns()
        index = str(getattr(self.assistant, "index_dir", "") or "") or None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conversation_markdown(turns, index), encoding="utf-8")
        return path

    def action_export(self) -> None:
        if not self.transcript.turns():
            self.notify("Nothing to export yet.", severity="warning")
            return

        def chosen(typed: str | None) -> None:
            if typed is None:
                return
            try:
                path = self.export_markdown(resolve_export_path(typed))
            except Exception as exc:
                self.notify(f"Could not export: {error_text(exc)}", severity="error")
                return
            self.notify(f"Exported the conversation to {path}")

        self.push_screen(PromptScreen("Export the conversation as Markdown", "file.md or folder",
                                      hint="Empty: a new file in the current folder · Escape to cancel"), chosen)

    def action_copy_answer(self) -> None:
        found = [answer for _, answer, _ in self.transcript.turns() if answer.found]
        if not found:
            self.notify("No answer to copy yet.", severity="warning")
            return
        answer = found[-1]
        text = one_line(answer.text)
        if answer.sentence:
            text += f'\n"{one_line(answer.sentence)}"'
        if answer.article is not None:
            text += "\n— " + citation(answer.article.title, answer.article.date, answer.article.section)
        self.copy_to_clipboard(text)
        self.notify("Copied the last answer")

    def action_browse(self) -> None:
        if self.assistant is None:
            self.notify("No index is open yet.", severity="warning")
            return
        assistant = self.assistant
        self._fetch(assistant.articles, lambda articles: self.push_screen(ArticleBrowserScreen(articles)))

    def action_stats(self) -> None:
        if self.assistant is None:
            self.notify("No index is open yet.", severity="warning")
            return
        assistant = self.assistant
        self._fetch(assistant.stats, lambda stats: self.push_screen(StatsScreen(dict(stats))))


def run_chat(assistant_factory: Callable[[], Any], *, index_dir: Path | str | None = None) -> None:
    """Run the chat app until the person quits; each index keeps its conversation (``conversation_path``)."""
    from qa.conversation import conversation_path

    NewsdeskApp(assistant_factory, index_dir=index_dir, history_for=conversation_path).run()
