"""Running a helper script in its own network (loopback only), PID and mount namespaces.

Ray probes outside addresses to find its own unless it has none, and
``ray stop`` finds Ray processes by name machine-wide; inside a fresh
network and PID namespace Ray reports 127.0.0.1 and ``ray stop`` sees only
the helper's processes. When the helper (PID 1 there) ends or is killed,
the kernel ends every process left in the namespace, so no head outlives
a test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

UNSHARE = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]


def unavailable() -> str | None:
    """Why the namespaces cannot be made here (None when they can)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    try:
        r = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if r.returncode != 0:
        return f"unshare is not permitted here (it needs root or user namespaces): {r.stderr.strip()[:120]}"
    return None


def run_helper(script: Path, work: Path, *, timeout: float) -> dict:
    """Run ``script WORK`` in the namespaces; its last stdout line is JSON."""
    cmd = [*UNSHARE, "bash", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, str(script), str(work)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"helper failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def cluster_result(script: Path, work: Path, *, timeout: float) -> dict:
    """``run_helper`` for a test fixture: skipped, with the reason, where Ray or a namespace cannot be had."""
    import pytest

    pytest.importorskip("ray", reason="needs the cluster extra (ray)")
    why = unavailable()
    if why:
        pytest.skip(why)
    return run_helper(script, work, timeout=timeout)
