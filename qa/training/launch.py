"""Start a campaign in the background, at low priority, and find it again.

The training process is detached (its own session, ``nohup``-like: stdin
closed, output to ``train.log``) and ``nice``d, so it outlives the terminal
that started it and interactive work on the shared CPU goes first. Its PID is
kept in ``train.pid`` beside the checkpoints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NICENESS = 10


def pid_file(run_dir: Path) -> Path:
    return Path(run_dir) / "train.pid"


def running_pid(run_dir: Path) -> int | None:
    """The PID in ``train.pid`` when that process is still alive, else None."""
    p = pid_file(run_dir)
    try:
        pid = int(p.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"qa.training" not in cmdline.read_bytes():
        return None  # the PID was reused by something else
    return pid


def campaign_command(config: str, extra: list[str] | None = None) -> list[str]:
    """The foreground command the background process runs."""
    return [
        "nice",
        "-n",
        str(NICENESS),
        sys.executable,
        "-m",
        "qa.training",
        "campaign",
        "--config",
        config,
        "--foreground",
        *(extra or []),
    ]


def start_background(config: str, run_dir: Path, extra: list[str] | None = None) -> int:
    """Launch the campaign detached; refuses when one is already running in ``run_dir``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    pid = running_pid(run_dir)
    if pid is not None:
        raise RuntimeError(f"a campaign is already running in {run_dir} (PID {pid})")
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    with open(run_dir / "train.log", "ab") as log, open(os.devnull, "rb") as null:
        proc = subprocess.Popen(
            campaign_command(config, extra),
            stdin=null,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=os.getcwd(),
        )
    tmp = pid_file(run_dir).with_suffix(".tmp")
    tmp.write_text(f"{proc.pid}\n")
    tmp.replace(pid_file(run_dir))
    return proc.pid
