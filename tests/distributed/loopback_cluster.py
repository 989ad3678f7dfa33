"""A two-node Ray cluster on 127.0.0.1 for the helper scripts (run inside their own namespaces).

Both nodes have one CPU; Ray's session files go to a short folder of their
own; ``ray stop`` at the end only sees the processes of the PID namespace
the helper runs in.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).parent / "ray")
#: Loopback only, so Ray's token auth (on by default) is off; models offline and in fp32 on every side.
ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "NEWSDESK_PRECISION": "fp32",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def cli(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "tui.cli", *args, env=env, timeout=timeout)


def environment(work: Path) -> dict[str, str]:
    env = {**os.environ, **ENV, "NEWSDESK_HOME": str(work / "home")}
    env.pop("NEWSDESK_API_KEY", None)
    os.environ.update(env)
    return env


@contextmanager
def two_nodes(env: dict[str, str], *, dashboard: bool = False) -> Iterator[str]:
    """Head and worker node (one CPU each) on 127.0.0.1; yields the address; always stops both.

    ``dashboard`` starts the head's dashboard, which serves Ray's state API
    (``ray.util.state``: which actor runs in which process); off otherwise,
    as it costs a process and memory.
    """
    port = free_port()
    temp = tempfile.mkdtemp(prefix="nd-ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    try:
        head = run(
            RAY,
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--num-cpus=1",
            f"--include-dashboard={'true' if dashboard else 'false'}",
            "--dashboard-host=127.0.0.1",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
            env=env,
        )
        assert head.returncode == 0, head.stderr[-2000:]
        node = run(
            RAY,
            "start",
            f"--address=127.0.0.1:{port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=1",
            f"--temp-dir={temp}",
            env=env,
        )
        assert node.returncode == 0, node.stderr[-2000:]
        yield f"127.0.0.1:{port}"
    finally:
        run(RAY, "stop", "--force", env=env, timeout=120)  # this PID namespace's Ray processes only
        shutil.rmtree(temp, ignore_errors=True)
