"""The question box: an Input whose up/down arrows walk earlier questions."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class HistoryInput(Input):
    """Input with a shell-like history of submitted lines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Ask", show=False, tooltip="ask the question"),
        Binding("up", "history(-1)", "Previous question", show=False, tooltip="walk earlier questions"),
        Binding("down", "history(1)", "Next question", show=False, tooltip="walk earlier questions"),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[str] = []
        #: Keys left to the screen's bindings while the box is empty (the example questions' digits).
        self.keys_when_empty: frozenset[str] = frozenset()
        self._position: int | None = None  # index into history while walking it
        self._draft = ""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if not self.value and key in self.keys_when_empty:
            return False
        return super().check_consume_key(key, character)

    def remember(self, line: str) -> None:
        """Add a submitted line (consecutive duplicates are kept once)."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._position = None
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position is None:
            if step > 0:
                return
            self._draft = self.value
            position = len(self.history) - 1
        else:
            position = self._position + step
        position = max(position, 0)
        if position >= len(self.history):
            self._position = None
            self.value = self._draft
        else:
            self._position = position
            self.value = self.history[position]
        self.cursor_position = len(self.value)
