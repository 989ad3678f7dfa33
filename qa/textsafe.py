"""Plain text for terminals: no escape sequences, no control characters.

Article text is untrusted. Everything shown in the CLI or the TUI goes through
``plain`` so an article cannot move the cursor, set the title, write the
clipboard (OSC 52) or plant hyperlinks (OSC 8). Markup is never interpreted by
the callers (they print with markup off or build ``rich.text.Text``).
"""

from __future__ import annotations

import re

from qa.converters.text import strip_escape_sequences

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: str | None) -> str:
    """Remove terminal escape sequences and control characters, keep newlines."""
    if not text:
        return ""
    return _UNSAFE.sub("", strip_escape_sequences(str(text)))


def one_line(text: str | None, limit: int | None = None) -> str:
    s = " ".join(plain(text).split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s
