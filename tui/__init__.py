"""The Newsdesk terminal chat (Textual)."""

from tui.app import NewsdeskApp, run_chat

__all__ = ["NewsdeskApp", "run_chat"]
