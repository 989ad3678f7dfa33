"""Keeping an index up to date with folders as article files appear, change or go.

A ``Watcher`` listens to file-system events (watchdog: inotify, FSEvents or
polling, whichever the platform has) and indexes in batches: it waits until
the folders have been quiet for ``quiet_s`` (a file being copied in raises
many events, and a folder being filled many more), then makes one
``Assistant.index`` call, so each batch is one atomic generation as any other
indexing run. A folder that never goes quiet is still indexed every
``max_wait_s``.

A batch of new or changed files indexes just those files (cheap whatever the
folder's size); a batch that removed, moved or renamed anything re-reads the
watched folders, which is what drops the articles whose files are gone (with
the same care as ``newsdesk index``: an unreadable folder keeps its articles).
A failed batch (the index locked by another writer, a full disk) is logged
and tried again a few seconds later; the watcher never stops on it.

``gate`` lets a host run each batch only when it may: the chat uses it to
index while no question is being answered (both use the same models).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.converters import SUPPORTED

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.api import BaseObserver

    from qa.assistant import Assistant, IndexReport

log = logging.getLogger("qa.watch")

#: Seconds without events before a batch is indexed.
QUIET_S = 1.0
#: Longest a change waits when events never stop.
MAX_WAIT_S = 10.0
#: Seconds before a failed batch is tried again.
RETRY_S = 5.0
#: Events that say a file's content is there (or changed); "opened" and "closed_no_write" are ignored.
_CHANGED = {"created", "modified", "closed"}


@dataclass(frozen=True, kw_only=True)
class Batch:
    """What one indexing run of the watcher did."""

    report: IndexReport | None
    #: Changed files in the batch (0 when the folders were re-read).
    files: int
    #: True when the watched folders were re-read (something was removed or moved).
    rescan: bool
    articles: int
    finished: float
    error: str | None = None

    def line(self) -> str:
        """One log line, e.g. ``21:04:13 2 added, 0 updated, 1 removed · 14 articles · 0.8 s``."""
        at = time.strftime("%H:%M:%S", time.localtime(self.finished))
        if self.error or self.report is None:
            return f"{at} indexing failed, will retry: {self.error}"
        r = self.report
        line = (
            f"{at} {r.added} added, {r.updated} updated, {r.removed} removed · "
            f"{self.articles} article{'s' if self.articles != 1 else ''} · {r.seconds:.1f} s"
        )
        if r.skipped:
            line += f" · {len(r.skipped)} skipped ({r.skipped[0]})"
        return " ".join(line.split())


class _Pending:
    """Changes seen since the last batch (filled by the observer thread, taken by the indexing thread)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.files: set[Path] = set()
        self.rescan = False
        self.first = self.last = 0.0

    def add(self, *, file: Path | None = None, rescan: bool = False, at: float | None = None) -> None:
        """Note a change seen ``at`` (monotonic seconds; now unless given)."""
        with self.cond:
            now = time.monotonic() if at is None else at
            if not self.files and not self.rescan:
                self.first = now
            self.last = now
            if file is not None:
                self.files.add(file)
            self.rescan = self.rescan or rescan
            self.cond.notify_all()

    @property
    def empty(self) -> bool:
        return not self.files and not self.rescan

    def take(self) -> tuple[set[Path], bool]:
        files, rescan = self.files, self.rescan
        self.files, self.rescan = set(), False
        return files, rescan


class Watcher:
    """Index ``folders`` into ``assistant``'s index whenever their article files change.

    ``on_batch`` is called (in the watcher's thread) after each batch.
    ``catch_up`` indexes the folders once at start, so files that changed
    while nothing was watching are picked up too. Each batch and its
    ``on_batch`` run inside ``gate()``, which yields False to give up (the host
    is closing).
    """

    def __init__(
        self,
        assistant: Assistant,
        folders: Sequence[str | Path],
        *,
        quiet_s: float = QUIET_S,
        max_wait_s: float = MAX_WAIT_S,
        on_batch: Callable[[Batch], None] | None = None,
        follow_symlinks: bool = False,
        gate: Callable[[], AbstractContextManager[bool]] = lambda: contextlib.nullcontext(True),
    ) -> None:
        self.assistant = assistant
        self.folders = [Path(f).resolve() for f in folders]
        self.quiet_s, self.max_wait_s = quiet_s, max_wait_s
        self.on_batch = on_batch or (lambda batch: log.info("%s", batch.line()))
        self.follow_symlinks = follow_symlinks
        self.gate = gate
        self._pending = _Pending()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------
    def start(self, *, catch_up: bool = True) -> Watcher:
        from watchdog.observers import Observer

        for folder in self.folders:
            if not folder.is_dir():
                raise NotADirectoryError(f"cannot watch {folder}: not a folder")
        observer = Observer()
        handler = _handler(self)
        for folder in self.folders:
            observer.schedule(handler, str(folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        if catch_up:
            self._pending.add(rescan=True, at=0.0)  # long quiet already: indexed at once
        self._thread = threading.Thread(target=self._run, name="newsdesk-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Stop watching; a batch being written is finished first (it is one atomic generation anyway)."""
        self.cancel()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def cancel(self) -> None:
        """Ask the watcher to stop after the batch in hand, without waiting."""
        self._stop.set()
        with self._pending.cond:
            self._pending.cond.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def idle(self) -> bool:
        """True when no change is waiting to be indexed."""
        with self._pending.cond:
            return self._pending.empty

    # -- events -------------------------------------------------------------------
    def relevant(self, path: Path) -> bool:
        """An article file (supported suffix) inside a watched folder, not hidden."""
        return path.suffix.lower() in SUPPORTED and self._visible(path)

    def _visible(self, path: Path) -> bool:
        for folder in self.folders:
            if path == folder or path.is_relative_to(folder):
                return not any(part.startswith(".") for part in path.relative_to(folder).parts)
        return False

    def note(self, *, kind: str, path: Path, is_directory: bool, dest: Path | None = None) -> None:
        """Record one file-system event (called by the observer's thread)."""
        if is_directory:
            if kind in {"created", "deleted", "moved"} and (self._visible(path) or (dest and self._visible(dest))):
                self._pending.add(rescan=True)  # a folder moved in or out brings no event per file
            return
        if kind in _CHANGED and self.relevant(path):
            self._pending.add(file=path)
        elif kind == "deleted" and self.relevant(path):
            self._pending.add(rescan=True)
        elif kind == "moved":
            if self.relevant(path):
                self._pending.add(rescan=True)
            elif dest is not None and self.relevant(dest):  # written under a temporary name, then renamed
                self._pending.add(file=dest)

    # -- batches ------------------------------------------------------------------
    def _run(self) -> None:
        retry_at = 0.0
        while not self._stop.is_set():
            with self._pending.cond:
                now = time.monotonic()
                p = self._pending
                due = max(min(p.last + self.quiet_s, p.first + self.max_wait_s), retry_at)
                if p.empty or now < due:
                    self._pending.cond.wait(timeout=0.1 if p.empty else max(due - now, 0.01))
                    continue
                files, rescan = p.take()
            targets = self.folders if rescan else sorted(f for f in files if f.is_file())
            if not targets:
                continue
            with self.gate() as granted:
                if not granted:
                    break
                batch = self._index(targets, rescan=rescan)
                retry_at = time.monotonic() + RETRY_S if batch.error else 0.0
                if batch.error:
                    self._pending.add(rescan=True)
                try:
                    self.on_batch(batch)
                except Exception:  # a display callback must not stop the watching
                    log.exception("watch callback failed")

    def _index(self, targets: list[Path], *, rescan: bool) -> Batch:
        from qa.errors import NewsdeskError

        try:
            report = self.assistant.index(targets, remove_missing=rescan, follow_symlinks=self.follow_symlinks)
            articles = len(self.assistant.data.articles)
            return Batch(
                report=report,
                files=0 if rescan else len(targets),
                rescan=rescan,
                articles=articles,
                finished=time.time(),
            )
        except (NewsdeskError, OSError) as exc:
            error = " ".join(str(exc).split())[:300] or type(exc).__name__
        except Exception as exc:  # keep watching; the next batch may well succeed
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        return Batch(report=None, files=len(targets), rescan=rescan, articles=0, finished=time.time(), error=error)


def _handler(watcher: Watcher) -> FileSystemEventHandler:
    """A watchdog handler that passes events to ``watcher`` as plain paths.

    Defined here so that watchdog is imported only when a folder is watched.
    """
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def dispatch(self, event: FileSystemEvent) -> None:
            dest = getattr(event, "dest_path", "") or None
            watcher.note(
                kind=event.event_type,
                path=Path(_text(event.src_path)),
                is_directory=event.is_directory,
                dest=Path(_text(dest)) if dest else None,
            )

    return Handler()


def _text(path: str | bytes) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path
