"""One thread that owns the engine: it loads the models, then runs every engine call.

Why one thread: the models are not made to run concurrently (two forward
passes on 2 cores only slow each other down, and the engine's lazy loading is
not meant to race), so the server never calls the engine from two threads.
Requests wait in a bounded queue instead; a full queue is answered with 503
at once rather than left to time out.

Why a micro-batcher: while one question is being read, others arrive. The
worker takes every question waiting (up to ``max_batch``, after at most
``max_wait_s`` for more) and answers those with the same options in one
``Engine.ask_many`` call, which embeds the questions together and reads
their passages in shared forward passes. A batch of one goes to
``Engine.ask``, so a lone request is answered exactly as ``newsdesk ask`` would.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from qa.contract import Engine
from qa.errors import NewsdeskError
from qa.textsafe import one_line

log = logging.getLogger("qa.server")

_STOP = object()


@dataclass
class _Ask:
    """One question waiting to be answered with the engine's ask/ask_many."""

    question: str
    options: dict[str, Any]
    future: Future = field(default_factory=Future)

    @property
    def key(self) -> tuple:
        """Questions with equal keys may share one ask_many call (Filters is frozen, so hashable)."""
        o = self.options
        return (o.get("top_k"), o.get("threshold"), o.get("filters"), o.get("as_of"))


@dataclass
class _Call:
    """Any other engine call (stats, a conversation turn), run alone and in order."""

    fn: Callable[[Engine], Any]
    future: Future = field(default_factory=Future)


class Busy(Exception):
    """The queue is full: the server is answering as fast as it can."""


class EngineWorker:
    """Loads the engine in the background and then answers from one thread."""

    def __init__(
        self, factory: Callable[[], Engine], *, max_batch: int = 8, max_wait_s: float = 0.002, max_queue: int = 256
    ) -> None:
        self._factory = factory
        self.max_batch = max(1, int(max_batch))
        self.max_wait_s = max(0.0, float(max_wait_s))
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="newsdesk-engine", daemon=True)
        self.engine: Engine | None = None
        #: ``loading`` until the models are loaded, then ``ready``; ``failed`` (with ``failure``) if loading failed.
        self.state = "loading"
        self.failure: str | None = None
        #: Filled once loaded: article and passage counts, the articles' metadata (the server never changes the index).
        self.counts: dict[str, int] = {}
        self.articles: list[Any] = []
        self.articles_by_id: dict[str, Any] = {}
        #: Engine calls by how many questions each carried (for the benchmark and tests).
        self.batch_sizes: Counter[int] = Counter()

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Finish the job in hand, fail the ones still queued, and end the thread."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP and job.future.set_running_or_notify_cancel():
                job.future.set_exception(Busy("the server is shutting down"))
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def report(self) -> dict[str, Any]:
        """Queue length and how many questions each engine call carried, so batching can be seen working."""
        sizes = dict(sorted(self.batch_sizes.items()))
        calls = sum(sizes.values())
        return {
            "queued": self._queue.qsize(),
            "max_batch": self.max_batch,
            "engine_calls_by_batch_size": {str(k): v for k, v in sizes.items()},
            "mean_batch": round(sum(k * v for k, v in sizes.items()) / calls, 2) if calls else None,
        }

    # -- submitting --------------------------------------------------------------
    def ask(self, question: str, **options: Any) -> Future:
        return self._submit(_Ask(question, options))

    def call(self, fn: Callable[[Engine], Any]) -> Future:
        return self._submit(_Call(fn))

    def _submit(self, job: _Ask | _Call) -> Future:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise Busy("the server is busy; try again in a moment") from None
        return job.future

    # -- the thread ----------------------------------------------------------------
    def _run(self) -> None:
        if not self._load():
            return
        carry = None
        while True:
            job = carry if carry is not None else self._queue.get()
            carry = None
            if job is _STOP:
                return
            if isinstance(job, _Call):
                self._run_call(job)
                continue
            batch, carry = self._collect(job)
            self._answer(batch)

    def _load(self) -> bool:
        try:
            engine = self._factory()
            engine.warm_up()
            stats = engine.stats()
            self.articles = list(engine.article_refs())
            self.articles_by_id = {a.id: a for a in self.articles}
            self.counts = {
                "articles": int(stats.get("articles", len(self.articles))),
                "passages": int(stats.get("passages", 0)),
            }
            self.engine = engine
            self.state = "ready"
            log.info("models loaded: %(articles)d articles, %(passages)d passages", self.counts)
            return True
        except Exception as exc:  # reported by /v1/health; the thread keeps failing queued jobs
            self.failure = one_line(str(exc), 300) or type(exc).__name__
            self.state = "failed"
            log.error("could not start the engine: %s", self.failure, exc_info=not isinstance(exc, NewsdeskError))
            self._fail_forever(exc)
            return False

    def _fail_forever(self, exc: Exception) -> None:
        while (job := self._queue.get()) is not _STOP:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(exc)

    def _collect(self, first: _Ask) -> tuple[list[_Ask], Any]:
        """``first`` and the questions queued behind it, up to ``max_batch``; a non-question is carried over."""
        batch = [first]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                nxt = (
                    self._queue.get(timeout=max(deadline - time.monotonic(), 0))
                    if deadline > time.monotonic()
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if not isinstance(nxt, _Ask):
                return batch, nxt
            batch.append(nxt)
        return batch, None

    def _run_call(self, job: _Call) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        assert self.engine is not None  # calls are only run once loading succeeded
        try:
            job.future.set_result(job.fn(self.engine))
        except Exception as exc:  # handed to the waiting request
            job.future.set_exception(exc)

    def _answer(self, batch: list[_Ask]) -> None:
        live = [job for job in batch if job.future.set_running_or_notify_cancel()]  # skip abandoned requests
        groups: dict[tuple, list[_Ask]] = {}
        for job in live:
            groups.setdefault(job.key, []).append(job)
        for jobs in groups.values():
            self._answer_group(jobs)

    def _answer_group(self, jobs: list[_Ask]) -> None:
        engine = self.engine
        assert engine is not None
        if len(jobs) > 1 and not jobs[0].options.get("as_of"):  # ask_many has no as_of: one by one
            try:
                answers = list(engine.ask_many([j.question for j in jobs], **jobs[0].options))
                if len(answers) != len(jobs):
                    raise RuntimeError(f"ask_many gave {len(answers)} answers for {len(jobs)} questions")
            except Exception:  # one bad question must not fail the others: ask them one by one
                log.warning("a batch of %d questions failed; answering them one at a time", len(jobs), exc_info=True)
            else:
                self.batch_sizes[len(jobs)] += 1
                for job, answer in zip(jobs, answers):
                    job.future.set_result(answer)
                return
        for job in jobs:
            self.batch_sizes[1] += 1
            try:
                job.future.set_result(engine.ask(job.question, **job.options))
            except Exception as exc:  # handed to the waiting request
                job.future.set_exception(exc)
