"""Killing a Ray worker mid-batch during ``newsdesk index --ray`` (run inside the helper's namespaces).

The embedding actors are found with Ray's state API (``list_actors``: Ray
Data names their class ``MapWorker(MapBatches(Embed))``; conversion runs
as plain tasks),
and a process is killed only while it embeds a batch: Ray titles a worker
``ray::<actor>.submit`` while it runs Ray Data's ``submit``. Each kill is
a SIGKILL to one PID, as the OOM killer or a lost machine would end it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from loopback_cluster import ROOT


@dataclass
class Killed:
    """What a killed run did: the command's exit status and output, the PIDs killed, what was seen."""

    rc: int
    stdout: list[str]
    stderr: list[str]
    pids: list[int] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # process titles the embedding workers showed
    state_api_errors: list[str] = field(default_factory=list)


def embedding_pids(*, address: str, errors: list[str]) -> set[int]:
    """PIDs of the embedding actors not dead (an actor has one while it loads its model, too)."""
    from ray.util.state import list_actors

    try:
        actors = list_actors(
            address=address,
            filters=[("state", "!=", "DEAD")],
            raise_on_missing_output=False,
        )
    except Exception as exc:  # the dashboard still starting: asked again on the next round
        errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        return set()
    return {int(a.pid) for a in actors if a.pid and _embedding(a.class_name)}


def _embedding(class_name: str | None) -> bool:
    """Ray Data names its actor class after the stage: ``MapWorker(MapBatches(Embed))``."""
    return "MapWorker" in (class_name or "") and "Embed" in (class_name or "")


def embedding_restarts(*, address: str) -> int:
    """Restarts of every embedding actor the cluster has run so far."""
    from ray.util.state import list_actors

    actors = list_actors(address=address, detail=True, raise_on_missing_output=False)
    return sum(int(a.num_restarts or 0) for a in actors if _embedding(a.class_name))


def title(pid: int) -> str:
    """Process ``pid``'s title: Ray's ``ray::<actor>.<method>`` while it runs a method ("" once gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def index_killing_workers(
    *args: str, address: str, env: dict[str, str], work: Path, name: str, kills: int, timeout: float = 400
) -> Killed:
    """``newsdesk index ARGS --ray ADDRESS``, SIGKILLing an embedding worker mid-batch up to ``kills`` times.

    The state API is asked for the embedding workers' PIDs twice a second
    (a batch can take well under a second, longer than one answer), and
    their titles are read every few milliseconds: a PID is killed the
    moment it runs ``submit``, once (its restart is a new process).
    """
    out, err = work / f"{name}.out", work / f"{name}.err"
    killed = Killed(rc=-1, stdout=[], stderr=[])
    titles: set[str] = set()
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "index", *args, "--ray", address],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        deadline, asked, pids = time.monotonic() + timeout, 0.0, set()
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if len(killed.pids) < kills and time.monotonic() - asked > 0.5:
                    pids = embedding_pids(address=address, errors=killed.state_api_errors) - set(killed.pids)
                    asked = time.monotonic()
                for pid in sorted(pids):
                    seen = title(pid)
                    titles.add(seen)
                    if ".submit" in seen and len(killed.pids) < kills:
                        os.kill(pid, signal.SIGKILL)
                        killed.pids.append(pid)
                        pids.discard(pid)
                        break
                time.sleep(0.005)
            killed.rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    killed.stdout = out.read_text().strip().splitlines()
    killed.stderr = err.read_text().strip().splitlines()
    killed.titles = sorted(titles)
    killed.state_api_errors = killed.state_api_errors[:3]
    return killed
