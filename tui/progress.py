"""Honest progress on the terminal: what is being done, how far, and how long is left.

One line on stderr, redrawn in place and erased when the work is done, so no
blank line is left behind. A rate and a time left are shown only once real
work has been timed (the first update of a stage starts the clock; counts
reported before any work was done never produce a rate). Nothing is drawn
when stderr is not a terminal: logs and pipes get the final summary only.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from qa.textsafe import one_line

#: Redraw at most this often (seconds): a terminal is slower than the work being reported.
REDRAW_EVERY = 0.1


@dataclass
class ProgressLine:
    """``progress(done, total, stage)`` callback for the engine's long jobs."""

    unit: str = "passages"
    #: None: whatever ``sys.stderr`` is at each redraw (a ``--ray`` run points it elsewhere meanwhile).
    stream: TextIO | None = None
    enabled: bool | None = None
    _stage: str | None = field(default=None, init=False)
    _start: float = field(default=0.0, init=False)
    _start_done: int = field(default=0, init=False)
    _drawn: float = field(default=0.0, init=False)
    _width: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.enabled is None:
            self.enabled = bool(getattr(self._out, "isatty", lambda: False)())

    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def __call__(self, done: int, total: int, stage: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if stage != self._stage:
            self._stage, self._start, self._start_done, self._drawn = stage, now, done, 0.0
        elif now - self._drawn < REDRAW_EVERY and done < total:
            return
        self._drawn = now
        self._draw(
            self.describe(
                done=done, total=total, stage=stage, elapsed=now - self._start, done_since_start=done - self._start_done
            )
        )

    def describe(self, *, done: int, total: int, stage: str, elapsed: float, done_since_start: int) -> str:
        """The line for one update (public so it can be tested without a terminal)."""
        text = one_line(stage, 60)
        if total <= 0:
            return f"{text}…"
        text += f": {done:,}/{total:,} {self.unit}"
        if done_since_start > 0 and elapsed >= 0.5 and done < total:
            rate = done_since_start / elapsed
            left = (total - done) / rate
            text += f" · {rate:,.0f}/s · about {_duration(left)} left"
        return text

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self._out.write("\r" + text + " " * pad)
        self._out.flush()
        self._width = len(text)

    def close(self) -> None:
        """Erase the line (the caller prints the summary)."""
        if self.enabled and self._width:
            self._out.write("\r" + " " * self._width + "\r")
            self._out.flush()
        self._width = 0


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
