"""Small modal screens: a one-line prompt, index statistics, help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.render import MUTED_STYLE, one_line


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line (e.g. a path). Enter returns it, Escape returns None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(
                Content.styled(self.hint or "Enter to confirm · Escape to cancel", MUTED_STYLE), classes="dialog-hint"
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


STAT_LABELS = {
    "articles": "Articles",
    "passages": "Passages",
    "embedder": "Embedder",
    "reader": "Reader",
    "index_dir": "Index folder",
    "index_bytes": "Index size",
}


class StatsScreen(ModalScreen[None]):
    """Index statistics from ``Assistant.stats()``."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, stats: dict) -> None:
        super().__init__()
        self.stats = stats

    def compose(self) -> ComposeResult:
        rows = []
        for key, value in self.stats.items():
            label = STAT_LABELS.get(key, key.replace("_", " ").capitalize())
            shown = human_bytes(value) if key == "index_bytes" and isinstance(value, int) else one_line(str(value))
            rows.append(Content.assemble((f"{label:<14}", MUTED_STYLE), shown))
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Index statistics", "bold"), classes="dialog-title")
            yield Static(Content("\n").join(rows), id="stats-body")
            yield Static(Content.styled("Escape to close", MUTED_STYLE), classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """What the keys do."""

    BINDINGS = [Binding("escape,enter,q,f1", "close", "Close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in self.keys) + 2
        rows = [Content.assemble((f"{k:<{width}}", "bold $text-accent"), what) for k, what in self.keys]
        with VerticalScroll(classes="dialog"):
            yield Static(Content.styled("Newsdesk help", "bold"), classes="dialog-title")
            yield Static(
                Content(
                    "Type a question and press Enter. Answers quote the sentence they come from "
                    "and cite the article. Follow-up questions may refer to earlier answers.\n"
                )
            )
            yield Static(Content("\n").join(rows), id="help-keys")
            yield Static(Content.styled("Escape to close", MUTED_STYLE), classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
