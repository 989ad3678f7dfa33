"""Finding and reading article files without hanging and without losing track.

Only regular files are read. A named pipe blocks an open or a read until a
writer comes, and a device such as ``/dev/zero`` never ends, so every entry is
checked with ``os.stat`` (after resolving links) before it is opened, and again
on the open descriptor in case it was swapped in between. Files are opened
with ``O_NONBLOCK`` so even a pipe that slips through cannot block the open,
and each open and whole-file read runs under a timeout, so a stalled mount
costs one skipped file rather than a hung run.

A folder or file that cannot be listed or read is reported as skipped, never
as gone: the index keeps the articles it already has from it.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: Seconds one open (or one whole-file read) may take before the file is skipped.
READ_TIMEOUT_S = 30.0
#: Bytes read at a time while skipping the rest of an over-long line.
_CHUNK = 1 << 16


@dataclass
class Skipped:
    """A file or folder that was not read, and why (one line)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


def reason_of(exc: OSError) -> str:
    """A short reason for an OS error, the same words whatever the platform says."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    return exc.strerror or type(exc).__name__


# -- walking ---------------------------------------------------------------------------


def iter_files(
    paths: Iterable[str | Path],
    *,
    suffixes: set[str],
    follow_symlinks: bool = False,
    skip: Callable[[Skipped], None] = lambda s: None,
) -> Iterator[Path]:
    """Regular files under ``paths`` with one of ``suffixes``, sorted, staying inside the roots.

    A root given as a file is taken whatever its suffix. Hidden entries are
    ignored; links are not followed out of a root (nor into loops) unless
    ``follow_symlinks`` is set. Everything not read is passed to ``skip``.
    """
    for raw in paths:
        root = Path(raw)
        try:
            mode = os.stat(root).st_mode
        except OSError as exc:
            skip(Skipped(str(root), reason_of(exc)))
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(root, suffixes=suffixes, follow_symlinks=follow_symlinks, skip=skip)
        elif stat.S_ISREG(mode):
            yield root
        else:
            skip(Skipped(str(root), _not_regular(mode)))


def _walk(root: Path, *, suffixes: set[str], follow_symlinks: bool, skip: Callable[[Skipped], None]) -> Iterator[Path]:
    """Depth first, files of a folder before its subfolders, like ``os.walk``."""
    real_root = os.path.realpath(root)
    seen: set[str] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        try:
            with os.scandir(folder) as it:
                entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            skip(Skipped(folder, reason_of(exc)))
            continue
        subfolders = []
        for entry in entries:
            kind = _classify(entry, suffixes=suffixes, follow_symlinks=follow_symlinks, real_root=real_root, skip=skip)
            if kind == "folder":
                subfolders.append(entry.path)
            elif kind == "file":
                yield Path(entry.path)
        stack.extend(reversed(subfolders))


def _classify(
    entry: os.DirEntry, *, suffixes: set[str], follow_symlinks: bool, real_root: str, skip: Callable[[Skipped], None]
) -> str | None:
    """'folder' to descend into, 'file' to read, or None (skipped or not an article)."""
    try:
        if entry.is_dir(follow_symlinks=False):
            return "folder"
        link = entry.is_symlink()
        if link and entry.is_dir():
            return "folder" if follow_symlinks else None
        if Path(entry.name).suffix.lower() not in suffixes:
            return None
        if link and not follow_symlinks and not _inside(os.path.realpath(entry.path), real_root):
            skip(Skipped(entry.path, "symbolic link out of the folder"))
            return None
        mode = os.stat(entry.path).st_mode
    except OSError as exc:
        skip(Skipped(entry.path, reason_of(exc)))
        return None
    if not stat.S_ISREG(mode):
        skip(Skipped(entry.path, _not_regular(mode)))
        return None
    return "file"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _not_regular(mode: int) -> str:
    kind = (
        "named pipe"
        if stat.S_ISFIFO(mode)
        else "socket"
        if stat.S_ISSOCK(mode)
        else "device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "special file"
    )
    return f"not a regular file ({kind})"


# -- reading ---------------------------------------------------------------------------


def read_regular(path: Path, *, limit: int, timeout: float | None = None) -> tuple[bytes, int]:
    """At most ``limit`` bytes of a regular file and its full size, or OSError."""

    def read() -> tuple[bytes, int]:
        fd = _open_fd(path)
        try:
            size = os.fstat(fd).st_size
            with os.fdopen(fd, "rb", closefd=False) as fh:
                return fh.read(limit), size
        finally:
            os.close(fd)

    return _call_with_timeout(read, seconds=READ_TIMEOUT_S if timeout is None else timeout, path=path)


def open_regular(path: Path, *, timeout: float | None = None) -> BinaryIO:
    """A binary file object on a regular file (the open itself under a timeout)."""
    fd = _call_with_timeout(
        lambda: _open_fd(path), seconds=READ_TIMEOUT_S if timeout is None else timeout, path=path, cleanup=os.close
    )
    return os.fdopen(fd, "rb")


def _open_fd(path: Path) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, _not_regular(mode))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _call_with_timeout(fn, *, seconds: float, path: Path, cleanup=None):
    """Run ``fn`` in a daemon thread; after ``seconds`` give up on it with an OSError.

    A call that finishes after it was given up on hands its result to
    ``cleanup`` (an open descriptor is closed, not leaked).
    """
    box: dict = {}
    lock = threading.Lock()

    def work() -> None:
        try:
            value = fn()
        except BaseException as exc:  # handed to the caller below
            with lock:
                box["error"] = exc
            return
        with lock:
            if "abandoned" not in box:
                box["value"] = value
                return
        if cleanup is not None:
            cleanup(value)

    worker = threading.Thread(target=work, name=f"newsdesk-read {path.name}", daemon=True)
    worker.start()
    worker.join(seconds)
    with lock:
        if "value" in box:
            return box["value"]
        if "error" in box:
            raise box["error"]
        box["abandoned"] = True
    raise OSError(errno.ETIMEDOUT, f"read timed out after {seconds:g} s")


def bounded_lines(fh: BinaryIO, *, limit: int, too_long: Callable[[int], None]) -> Iterator[bytes]:
    """Lines of ``fh``, never holding more than ``limit`` bytes of one.

    An over-long line is read past in fixed chunks, reported to ``too_long``
    with its line number, and yielded as an empty line so numbering holds.
    """
    n = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := fh.readline(_CHUNK)) and not rest.endswith(b"\n"):
                pass
            too_long(n)
            line = b""
        yield line
