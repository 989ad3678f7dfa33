"""Checks that an index folder holds exactly what was written, and one-line reasons when it cannot.

Sizes alone miss damage that keeps the size (random bytes over ``vectors.f32``
read as plausible floats and give wrong answers silently), so every file of a
generation has its SHA-256 in the manifest. Opening checks sizes always and
hashes the vectors and metadata: at once for indexes up to
``EAGER_VERIFY_BYTES``, in a background thread above that (so a large index
opens quickly). A writer always checks at once: a new generation is never
written from data that was not checked.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import DiskFullError, IndexError_, IndexWriteError, NewsdeskError

log = logging.getLogger("qa")

#: Vectors and metadata up to this size are hashed before an index opens; larger ones in the background.
EAGER_VERIFY_BYTES = 256 * 2**20
#: The files whose damage cannot be repaired from others (FAISS and BM25 are rebuilt from them).
PRIMARY_FILES = ("metadata.sqlite", "vectors.f32")
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def generation_files(gen: Path) -> dict[str, Path]:
    """Every file of a generation but its manifest, by path relative to the generation."""
    return {
        p.relative_to(gen).as_posix(): p for p in sorted(gen.rglob("*")) if p.is_file() and p.name != "manifest.json"
    }


def describe(gen: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Sizes and SHA-256 of every file, as kept in the manifest."""
    files = generation_files(gen)
    return ({n: p.stat().st_size for n, p in files.items()}, {n: file_sha256(p) for n, p in files.items()})


# -- the manifest ----------------------------------------------------------------


def validate_manifest(man: object, *, where: Path, hint: str) -> dict:
    """The manifest if its fields have the right types, else one line naming the rebuild."""

    def bad(what: str) -> IndexError_:
        return IndexError_(f"index manifest in {where} is corrupt ({what}): {hint}")

    if not isinstance(man, dict):
        raise bad("not an object")
    dim = man.get("dimension")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
        raise bad("dimension")
    passages = man.get("passages")
    if isinstance(passages, bool) or not isinstance(passages, int) or passages < 0:
        raise bad("passage count")
    files = man.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in files.values()):
        raise bad("file sizes")
    sums = man.get("sha256", {})
    if not isinstance(sums, dict) or not all(isinstance(v, str) for v in sums.values()):
        raise bad("checksums")
    if not isinstance(man.get("embedder", ""), str) or not isinstance(man.get("faiss", "flat"), str):
        raise bad("embedder or FAISS kind")
    return man


def check_sizes(gen: Path, files: dict[str, int], *, hint: str) -> None:
    """The primary files exist and have the sizes written."""
    for name in PRIMARY_FILES:
        p = gen / name
        if not p.is_file():
            raise IndexError_(f"index file {name} is missing in {gen}: {hint}")
        if name in files and p.stat().st_size != files[name]:
            raise IndexError_(f"index file {name} in {gen} is truncated or changed: {hint}")


def mismatched(gen: Path, sums: dict[str, str], names) -> list[str]:
    """Which of ``names`` (that have a checksum) differ from it."""
    return [n for n in names if n in sums and (not (gen / n).is_file() or file_sha256(gen / n) != sums[n])]


def check_finite(vectors: np.ndarray, *, where: Path, hint: str) -> None:
    if vectors.size and not np.isfinite(vectors).all():
        raise IndexError_(f"index vectors in {where} hold NaN or infinite values: {hint}")


# -- checking hashes now or in the background --------------------------------------


@dataclass
class Verification:
    """The outcome of hashing an index's primary files, possibly still running."""

    error: NewsdeskError | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def pending(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Block until checked; raise the one-line error if the files are damaged."""
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error


def primary_bytes(gen: Path) -> int:
    return sum((gen / n).stat().st_size for n in PRIMARY_FILES if (gen / n).is_file())


def verify_primary(gen: Path, sums: dict[str, str], *, hint: str, background: bool) -> Verification:
    """Hash the vectors and metadata against the manifest, now or in a daemon thread."""

    def damage() -> IndexError_ | None:
        bad = mismatched(gen, sums, PRIMARY_FILES)
        if bad:
            return IndexError_(f"index file {bad[0]} in {gen} does not match its checksum: {hint}")
        return None

    if not background:
        error = damage()
        if error is not None:
            raise error
        return Verification()
    result = Verification()

    def run() -> None:
        result.error = damage()
        if result.error is not None:
            log.error("%s", result.error)

    result._thread = threading.Thread(target=run, name="newsdesk-verify", daemon=True)
    result._thread.start()
    return result


# -- one line for a failed write ------------------------------------------------------

_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
_FULL_WORDS = ("disk is full", "no space left", "database or disk is full", "write error")


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return bool(_SHORT_WRITE.search(text)) or any(w in text for w in _FULL_WORDS)


def write_failure(exc: BaseException, root: Path) -> NewsdeskError:
    """The one-line error for an exception raised while writing an index folder."""
    if is_disk_full(exc):
        return DiskFullError(f"disk full while writing the index in {root}; the previous index is unchanged")
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
        return IndexError_(f"index folder {root} is read-only: choose another --index folder")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return IndexError_(f"index folder {root} is a file or lies under one: choose another --index folder")
    reason = " ".join(str(getattr(exc, "strerror", None) or exc or type(exc).__name__).split())[:200]
    return IndexWriteError(f"could not write the index in {root} ({reason}); the previous index is unchanged")


def is_write_failure(exc: BaseException) -> bool:
    """Errors from the file system, SQLite or FAISS while writing (others are bugs, raised as they are)."""
    return isinstance(exc, (OSError, sqlite3.Error, RuntimeError, MemoryError))
