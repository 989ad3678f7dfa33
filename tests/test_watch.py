"""The folder watcher: real file-system events on a tmp folder.

The debounce and event tests use a recording stand-in for the Assistant (fast);
the end-to-end tests use the real Assistant and print the measured latency from
a file landing in the folder to its article being answerable.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa.assistant import IndexReport
from qa.errors import IndexLockedError
from qa.watch import Batch, Watcher


class Recorder:
    """Stands in for Assistant.index: records each call's targets."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[list[Path], bool]] = []
        self.fail_first = fail_first
        self.data = SimpleNamespace(articles={})

    def index(self, targets, *, remove_missing, follow_symlinks):
        self.calls.append(([Path(t) for t in targets], remove_missing))
        if len(self.calls) <= self.fail_first:
            raise IndexLockedError("index is being written by another process; try again when it finishes")
        return IndexReport(added=len(targets))


def batches_of(watcher_kwargs: dict, folder: Path, assistant, *, catch_up: bool = False):
    got: list[Batch] = []
    done = threading.Event()

    def on_batch(b: Batch) -> None:
        got.append(b)
        done.set()

    w = Watcher(assistant, [folder], on_batch=on_batch, **watcher_kwargs).start(catch_up=catch_up)
    return w, got, done


def wait_for(cond, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_debounce_many_files_make_one_batch(tmp_path):
    rec = Recorder()
    w, got, _ = batches_of({"quiet_s": 0.6}, tmp_path, rec)
    try:
        for i in range(5):  # a burst, each file well inside the quiet period of the last
            (tmp_path / f"story{i}.txt").write_text(f"Headline {i}\n\nBody {i}.", encoding="utf-8")
            time.sleep(0.1)
        assert wait_for(lambda: got)
        time.sleep(1.0)  # nothing more arrives
    finally:
        w.stop()
    assert len(rec.calls) == 1
    targets, remove_missing = rec.calls[0]
    assert sorted(t.name for t in targets) == [f"story{i}.txt" for i in range(5)] and not remove_missing
    assert got[0].files == 5 and not got[0].rescan


def test_events_that_matter(tmp_path):
    (tmp_path / "old.txt").write_text("Old\n\nOld story.", encoding="utf-8")
    rec = Recorder()
    w, got, _ = batches_of({"quiet_s": 0.3}, tmp_path, rec)
    try:
        (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
        (tmp_path / "notes.docx").write_bytes(b"x")
        (tmp_path / "draft.txt.part").write_text("Renamed\n\nWritten under another name.", encoding="utf-8")
        os.replace(tmp_path / "draft.txt.part", tmp_path / "renamed.txt")
        assert wait_for(lambda: len(got) >= 1)
        assert [t.name for t in rec.calls[0][0]] == ["renamed.txt"]
        (tmp_path / "old.txt").unlink()  # a removal re-reads the folder, which drops the article
        assert wait_for(lambda: len(got) >= 2)
        assert rec.calls[1] == ([tmp_path.resolve()], True) and got[1].rescan
    finally:
        w.stop()
    assert len(rec.calls) == 2


def test_failed_batch_is_logged_in_one_line_and_retried(tmp_path, monkeypatch):
    monkeypatch.setattr("qa.watch.RETRY_S", 0.2)
    rec = Recorder(fail_first=1)
    w, got, _ = batches_of({"quiet_s": 0.2}, tmp_path, rec)
    try:
        (tmp_path / "a.txt").write_text("A\n\nA story.", encoding="utf-8")
        assert wait_for(lambda: len(got) >= 2)
    finally:
        w.stop()
    assert got[0].error and "another process" in got[0].line() and "\n" not in got[0].line()
    assert got[1].error is None and got[1].rescan


def test_stop_is_prompt_and_leaves_no_thread(tmp_path):
    w = Watcher(Recorder(), [tmp_path], quiet_s=0.2).start()
    t0 = time.perf_counter()
    w.stop()
    assert time.perf_counter() - t0 < 3
    assert not any(t.name == "newsdesk-watch" and t.is_alive() for t in threading.enumerate())


def test_watching_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(NotADirectoryError):
        Watcher(Recorder(), [tmp_path / "nope"]).start()


STORY = ("date 2024-05-02 Science\nHarbour seals return to the estuary\n\n"
         "Marine biologists counted 312 harbour seals in the Kessel estuary on Wednesday, the highest number "
         "since records began in 1988. The survey team credited cleaner water and a ban on fishing nets.\n")


@pytest.mark.slow
def test_dropped_file_is_answerable_within_seconds_then_removed(tmp_path):
    from qa import Assistant

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "first.txt").write_text("First story\n\nThe town fair opened on Saturday with 40 stalls.\n",
                                      encoding="utf-8")
    assistant = Assistant(tmp_path / "index")
    got: list[Batch] = []
    w = Watcher(assistant, [folder], quiet_s=1.0, on_batch=got.append).start()
    try:
        assert wait_for(lambda: got, timeout=300)  # catch-up batch (loads the models)
        assert got[0].articles == 1, got[0].line()
        t0 = time.perf_counter()
        (folder / "seals.txt").write_text(STORY, encoding="utf-8")
        assert wait_for(lambda: len(got) >= 2, timeout=30)
        latency = time.perf_counter() - t0
        print(f"\nwatch latency: file written -> indexed in {latency:.2f} s (quiet period 1.0 s); "
              f"{got[1].line()}")
        assert latency < 10
        assert got[1].report.added == 1 and got[1].articles == 2
        reader = Assistant.open(tmp_path / "index")  # another process's view: the generation is on disk
        answer = reader.ask("How many harbour seals were counted in the Kessel estuary?")
        assert "312" in answer.text and answer.article.date == "2024-05-02"
        (folder / "seals.txt").unlink()
        assert wait_for(lambda: len(got) >= 3, timeout=30)
        assert got[2].report.removed == 1 and got[2].articles == 1
    finally:
        w.stop()
