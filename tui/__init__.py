"""The Newsdesk terminal front end: the chat (Textual) and the ``newsdesk`` command line.

The chat is imported on first use so that ``newsdesk ask`` never loads Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.app import NewsdeskApp, run_chat

__all__ = ["NewsdeskApp", "run_chat"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tui import app

        return getattr(app, name)
    raise AttributeError(name)
