"""The chat's commands (keys and palette): index, switch index, new conversation, export, copy, browse.

Each asks what it needs in a dialog, refuses politely while the engine is
busy, and hands anything slow to a worker of :class:`tui.actions.engine.EngineWork`.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from qa.types import Article
from tui.actions.engine import EngineWork, error_text
from tui.export import conversation_markdown, resolve_export_path
from tui.render import citation, one_line
from tui.widgets.article_browser import ArticleBrowserScreen
from tui.widgets.article_view import ArticleScreen
from tui.widgets.dialogs import PromptScreen, StatsScreen
from tui.widgets.sources import SourcesPanel


class Commands(EngineWork):
    """The app's command layer: the actions behind the chat screen's keys and the command palette."""

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

        self.push_screen(
            PromptScreen(
                "Index a folder or file",
                "path/to/articles",
                hint="Articles in it are added to the index · Escape to cancel",
            ),
            chosen,
        )

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

    def action_new_conversation(self) -> None:
        if self.busy == "ask":
            self.notify("Wait for the current answer, then start a new conversation.", severity="warning")
            return
        self.pending.clear()
        if self.conversation is not None:
            self.conversation.reset()
        self.chat.clear()
        if self.history_path is not None:
            try:
                self.history_path.unlink(missing_ok=True)
            except OSError as exc:
                self.notify(f"Could not remove the saved conversation: {error_text(exc)}", severity="warning")
        self.set_status(self._ready_text if self.busy is None else self._busy_text())
        self.notify("New conversation")

    def export_markdown(self, path: Path) -> Path:
        turns = self.chat.transcript.turns()
        index = str(getattr(self.assistant, "index_dir", "") or "") or None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conversation_markdown(turns, index), encoding="utf-8")
        return path

    def action_export(self) -> None:
        if not self.chat.transcript.turns():
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

        self.push_screen(
            PromptScreen(
                "Export the conversation as Markdown",
                "file.md or folder",
                hint="Empty: a new file in the current folder · Escape to cancel",
            ),
            chosen,
        )

    def action_copy_answer(self) -> None:
        found = [answer for _, answer, _ in self.chat.transcript.turns() if answer.found]
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
        assistant = self.assistant
        if assistant is None:
            self.notify("No index is open yet.", severity="warning")
            return
        self._fetch(assistant.articles, lambda articles: self.push_screen(ArticleBrowserScreen(articles)))

    def action_stats(self) -> None:
        assistant = self.assistant
        if assistant is None:
            self.notify("No index is open yet.", severity="warning")
            return
        self._fetch(assistant.stats, lambda stats: self.push_screen(StatsScreen(dict(stats))))

    def on_sources_panel_open_passage(self, message: SourcesPanel.OpenPassage) -> None:
        """Open a passage's article, with the answer and the passage marked."""
        answer, passage = message.card.answer, message.retrieved.passage
        if answer is None:
            return
        answer_span = None
        if (
            answer.found
            and answer.article is not None
            and answer.article.id == passage.article_id
            and answer.start is not None
            and answer.end is not None
        ):
            answer_span = (answer.start, answer.end)

        def show(article: Article) -> None:
            self.push_screen(ArticleScreen(article, answer_span, (passage.start, passage.end)))

        article = cast("Article | None", message.card.articles.get(passage.article_id))
        assistant = self.assistant
        if article is not None:
            show(article)
        elif assistant is not None:
            self._fetch(lambda: assistant.article(passage.article_id), show)
