"""The chat with a folder watcher: ``newsdesk chat --watch FOLDER...``.

A ``qa.watch.Watcher`` runs in its own thread and indexes into the chat's own
Assistant, so a new article is answerable as soon as its batch is written,
without a restart. The chat answers questions and indexes with the same
models, one job at a time (``App.busy``), so the watcher asks for the engine
through a gate: a timer on the app's thread hands it over when nothing else
runs and marks the engine busy meanwhile, and questions typed during a batch
wait in the queue as they do during any indexing. When the batch is done the
app is told as for Ctrl+O indexing, and the status line says when the index
was last updated ("12 articles · updated 21:04:13").
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tui.app import NewsdeskApp, plural
from tui.messages import EngineFailed, IndexFinished

if TYPE_CHECKING:
    from qa.assistant import Assistant

#: Seconds between the app's checks for a watcher waiting for the engine or a finished batch.
TICK_S = 0.1


class WatchingApp(NewsdeskApp):
    """The chat, plus a watcher on ``folders`` that starts once the index is open.

    Its own attributes and methods start with ``watch``/``_watch``: Textual's
    App keeps private state under short names (``_closing``) that must not be
    shadowed.
    """

    def __init__(
        self,
        assistant_factory: Callable[[], Any],
        *,
        folders: Sequence[str | Path],
        quiet_s: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(assistant_factory, **kwargs)
        self.watch_folders = [Path(f) for f in folders]
        self.watch_quiet_s = quiet_s
        self.watcher: Any = None
        #: Set by the app's thread when the watcher may index; cleared when it is done.
        self._watch_granted = threading.Event()
        self._watch_wants = threading.Event()
        self._watch_closing = threading.Event()
        self._watch_batch: tuple[Any, dict | None] = (None, None)
        self._watch_finished: list[tuple[Any, dict | None]] = []
        self._watch_lock = threading.Lock()

    def on_ready(self) -> None:
        self.set_interval(TICK_S, self._watch_tick)

    def on_unmount(self) -> None:
        self._watch_closing.set()
        if self.watcher:
            self.watcher.cancel()

    def stop_watching(self) -> None:
        self._watch_closing.set()
        if self.watcher:
            self.watcher.stop(timeout=30)

    # -- the app's thread ---------------------------------------------------------
    def _watch_tick(self) -> None:
        if self.assistant is None:
            return
        if self.watcher is None:
            self._watch_start()
            return
        with self._watch_lock:
            finished, self._watch_finished = self._watch_finished, []
        for batch, stats in finished:
            self._watch_show(batch, stats)
        if self._watch_wants.is_set() and self.busy is None and not self._watch_granted.is_set():
            self.busy = "index"
            self.set_status("Indexing new articles from the watched folders…")
            self._watch_granted.set()

    def _watch_start(self) -> None:
        from qa.watch import QUIET_S, Watcher

        try:
            # The watcher indexes with remove_missing= and reads the index data: a full Assistant, not any Engine.
            self.watcher = Watcher(
                cast("Assistant", self.assistant),
                self.watch_folders,
                on_batch=self._watch_on_batch,
                gate=self._watch_gate,
                quiet_s=self.watch_quiet_s or QUIET_S,
            ).start()
        except (OSError, ValueError) as exc:
            self.watcher = False  # not again
            self.notify(f"Cannot watch: {exc}", severity="error", timeout=10)
            return
        self.notify("Watching " + ", ".join(str(f) for f in self.watch_folders) + " for new articles")

    def _watch_show(self, batch: Any, stats: dict | None) -> None:
        """Hand a finished batch to the app as any indexing run (which frees the engine)."""
        if batch is None or batch.error:
            self.post_message(EngineFailed("index", f"Watching: {batch.error if batch else 'stopped'}"))
            return
        where = ", ".join(str(f) for f in self.watch_folders)
        self.post_message(IndexFinished(f"watched {where}", batch.report, stats or {}))
        self.call_later(self._watch_updated, batch)

    def _watch_updated(self, batch: Any) -> None:
        at = time.strftime("%H:%M:%S", time.localtime(batch.finished))
        self._ready_text = f"Ready · {plural(batch.articles, 'article')} · updated {at} · F1 help"
        if self.busy is None:
            self.set_status(self._ready_text)

    # -- the watcher's thread -----------------------------------------------------
    @contextlib.contextmanager
    def _watch_gate(self) -> Iterator[bool]:
        """Wait until the app hands over the engine (False: the app is closing)."""
        self._watch_wants.set()
        while not self._watch_granted.wait(0.2):
            if self._watch_closing.is_set():
                self._watch_wants.clear()
                yield False
                return
        self._watch_wants.clear()
        self._watch_batch = (None, None)
        try:
            yield True
        finally:
            with self._watch_lock:
                self._watch_finished.append(self._watch_batch)
            self._watch_granted.clear()

    def _watch_on_batch(self, batch: Any) -> None:
        stats = None
        if not batch.error and self.assistant is not None:
            with contextlib.suppress(Exception):
                stats = self.assistant.stats()
        self._watch_batch = (batch, stats)


def run_watching_chat(
    assistant_factory: Callable[[], Any],
    *,
    folders: Sequence[str | Path],
    index_dir: Path | str | None = None,
    quiet_s: float | None = None,
) -> None:
    """``run_chat`` with a watcher on ``folders``; the watcher is stopped when the chat closes."""
    from qa.conversation import conversation_path

    app = WatchingApp(
        assistant_factory, folders=folders, quiet_s=quiet_s, index_dir=index_dir, history_for=conversation_path
    )
    try:
        app.run()
    finally:
        app.stop_watching()
