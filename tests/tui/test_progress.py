"""The command line's progress line: honest rates, nothing left behind."""

import io

from tui.progress import ProgressLine


def test_no_rate_before_work_has_been_timed():
    line = ProgressLine(enabled=True, stream=io.StringIO())
    # A stage that reports everything at once (counted, not worked through) has no rate.
    assert line.describe(done=5, total=5, stage="writing index", elapsed=0.0, done_since_start=0) == \
        "writing index: 5/5 passages"
    assert line.describe(done=0, total=0, stage="reading files", elapsed=3.0, done_since_start=0) == "reading files…"


def test_rate_and_time_left_from_work_done_since_the_stage_began():
    line = ProgressLine(enabled=True, stream=io.StringIO())
    text = line.describe(done=300, total=1000, stage="embedding passages", elapsed=2.0, done_since_start=200)
    assert text == "embedding passages: 300/1,000 passages · 100/s · about 7 s left"


def test_line_is_erased_and_silent_when_not_a_terminal():
    out = io.StringIO()
    line = ProgressLine(enabled=True, stream=out)
    line(0, 10, "embedding passages")
    line(10, 10, "embedding passages")
    line.close()
    assert out.getvalue().endswith("\r") and "\n" not in out.getvalue()
    quiet = io.StringIO()
    piped = ProgressLine(stream=quiet)  # StringIO is not a terminal
    piped(1, 2, "embedding passages")
    piped.close()
    assert quiet.getvalue() == ""
