"""Plain text for terminals: no escape sequences, no control characters.

Article text is untrusted. Everything shown in the CLI or the TUI goes through
``plain`` so an article cannot move the cursor, set the title, write the
clipboard (OSC 52) or plant hyperlinks (OSC 8). Markup is never interpreted by
the callers (they print with markup off or build ``rich.text.Text``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.converters.text import strip_escape_sequences

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: str | None) -> str:
    """Remove terminal escape sequences and control characters, keep newlines."""
    if not text:
        return ""
    return _UNSAFE.sub("", strip_escape_sequences(str(text)))


def one_line(text: str | None, limit: int | None = None, *, clean: Callable[[str], str] | None = None) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``limit`` characters with an ellipsis.

    ``clean`` makes it safe for a terminal: by default control and bidi
    characters are removed (``plain``); the chat passes a function that shows
    them as visible stand-ins instead.
    """
    s = " ".join((clean or plain)(text or "").split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def _plain_record_factory(make):
    def factory(*args, **kwargs):
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: keep its parts, made safe
            message = f"{record.msg} {record.args}"
        record.msg, record.args = plain(message), None
        return record

    factory.newsdesk_plain = True  # type: ignore[attr-defined]
    return factory


def install_plain_logging() -> None:
    """Make every log and warning line plain text, whichever logger or handler shows it.

    File names and article text reach log lines ("skipped evil\\x1b]52;...:
    binary"); an escape sequence there would write the clipboard or retitle
    the terminal under ``-v`` or in the chat. Records are cleaned when they
    are made, so handlers added later (by the chat, by libraries) are covered
    too; warnings are routed through logging. Safe to call more than once.
    """
    import logging

    make = logging.getLogRecordFactory()
    if not getattr(make, "newsdesk_plain", False):
        logging.setLogRecordFactory(_plain_record_factory(make))
    logging.captureWarnings(True)
