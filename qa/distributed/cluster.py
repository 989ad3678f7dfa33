"""Joining a Ray cluster (or starting one in-process) with the settings workers need.

Workers import Newsdesk from their own install (every node needs the same
version); what they must share with the driver is the environment that
decides model loading and precision, passed through the job's runtime env.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import NewsdeskError

#: Environment the workers must see as the driver does (offline models, precision, data folder).
SHARED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM", "NEWSDESK_PRECISION", "NEWSDESK_HOME")


class ClusterError(NewsdeskError):
    """The cluster could not be reached or the job failed; nothing was written."""


def require_ray():
    """``ray``, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "ray":
            raise
        raise ClusterError("--ray needs Ray: pip install 'newsdesk[cluster]'") from None
    return ray


@contextmanager
def connect(address: str) -> Iterator[None]:
    """Connected to ``address`` for the block: ``local`` (a runtime in this process), ``auto``, or host:port.

    Leaves an existing connection alone (and open), so a caller that
    already joined a cluster (a test, a notebook) keeps it.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")  # the driver's own core worker: no C++ chatter
    for name in ("ray", "ray.data", "ray.serve"):
        logging.getLogger(name).setLevel(logging.ERROR)
    env = {k: os.environ[k] for k in SHARED_ENV if k in os.environ}
    kwargs = {
        "runtime_env": {"env_vars": env},
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "configure_logging": True,
    }
    if address not in ("local", "auto"):
        _check_listening(address)
    try:
        if address == "local":
            ray.init(include_dashboard=False, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError: all mean "no cluster there"
        raise ClusterError(f"cannot join the Ray cluster at {address!r}: {_first_line(exc)}") from None
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def native_logs_to(path: Path) -> Iterator[None]:
    """Ray's C++ log lines go to ``path`` for the block; Python's own stderr output stays on the terminal.

    Ray's core writes its lines (no outside network found, the log level
    it read, actor restart warnings) straight to file descriptor 2, past
    Python's logging, so they would bury the one line a failed job is
    reported in. Descriptor 2 is pointed at ``path`` and ``sys.stderr`` at
    a copy of the old descriptor, so progress, warnings and the error line
    (anything that looks ``sys.stderr`` up when it writes) still show.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 to keep apart (closed, embedded)
        yield
        return
    python_stderr = sys.stderr
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
    except OSError:  # an unwritable data folder: Ray's lines stay on the terminal
        os.close(saved)
        yield
        return
    encoding = getattr(python_stderr, "encoding", None) or "utf-8"
    sys.stderr = terminal = open(os.dup(saved), "w", encoding=encoding, errors="backslashreplace", buffering=1)  # noqa: SIM115
    try:
        yield
    finally:
        terminal.flush()
        sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)
        terminal.close()


def _check_listening(address: str) -> None:
    """Fail in a second, not after Ray's minutes of retries, when nothing listens at host:port."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray wants local, auto or host:port, not {address[:80]!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ClusterError(f"no Ray cluster at {address}: {exc.strerror or type(exc).__name__}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
