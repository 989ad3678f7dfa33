"""While the chat draws the terminal, log lines go to Textual's log instead of over the screen.

``newsdesk`` sets up logging to the terminal before the chat starts, and a
handler keeps the stream it was given: its lines would land in the middle of
the chat's screen, where Textual's own capture of ``print`` cannot catch
them. For as long as the app runs, handlers that write to the terminal are
set aside and their records go to the app's log (``textual console``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any


class ToAppLog(logging.Handler):
    """Sends each record to an app's log (seen with ``textual console``, never on screen)."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.app.log.logging(self.format(record))
        except Exception:  # a log line must never break the chat
            self.handleError(record)


def writes_to_terminal(handler: logging.Handler) -> bool:
    """A stream handler (not a file) whose stream is the terminal."""
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    stream = handler.stream
    if stream in (sys.__stderr__, sys.__stdout__):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def set_aside_terminal_logging(app: Any) -> Callable[[], None]:
    """Move the root logger's terminal handlers aside for ``app``; returns what puts them back."""
    root = logging.getLogger()
    aside = [h for h in root.handlers if writes_to_terminal(h)]
    if not aside:
        return lambda: None
    sink = ToAppLog(app)
    for handler in aside:
        root.removeHandler(handler)
    root.addHandler(sink)

    def restore() -> None:
        root.removeHandler(sink)
        for handler in aside:
            root.addHandler(handler)

    return restore
