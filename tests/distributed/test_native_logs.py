"""During a ``--ray`` run, Ray's C++ log lines (written to descriptor 2) go to a file; Python's stderr does not."""

from __future__ import annotations

import os
import sys

from qa.distributed.cluster import native_logs_to


def test_native_lines_go_to_the_file_and_python_output_stays(tmp_path, capfd):
    log = tmp_path / "logs" / "ray-driver.log"
    with native_logs_to(log):
        os.write(2, b"[2026-11-30 00:16:38,704 W 1450 1450] network_util.cc:330: no outside network\n")
        print("progress and the error line", file=sys.stderr)
    print("after the block", file=sys.stderr)
    os.write(2, b"native again\n")
    err = capfd.readouterr().err
    assert "network_util.cc" not in err and "network_util.cc" in log.read_text()
    assert "progress and the error line" in err and "after the block" in err and "native again" in err
    assert "progress" not in log.read_text()


def test_an_unwritable_log_leaves_stderr_as_it_was(tmp_path, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("")
    stderr = sys.stderr
    with native_logs_to(blocker / "logs" / "ray-driver.log"):  # a file where the folder should be
        os.write(2, b"native\n")
    assert sys.stderr is stderr and "native" in capfd.readouterr().err
