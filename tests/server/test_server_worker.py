"""The engine thread: batching by options, one bad question not failing a batch, a bounded queue."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import RecordingAssistant

from qa.retrievers.filters import Filters
from qa.server.worker import Busy, EngineWorker


def started(engine, **kwargs) -> EngineWorker:
    worker = EngineWorker(lambda: engine, **kwargs)
    worker.start()
    deadline = time.monotonic() + 10
    while not worker.ready:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return worker


def hold(engine: RecordingAssistant, worker: EngineWorker) -> tuple[threading.Event, object]:
    """Occupy the engine thread until the returned event is set, so later jobs queue up."""
    gate, entered = threading.Event(), threading.Event()

    def block(_):
        entered.set()
        gate.wait(10)

    future = worker.call(block)
    assert entered.wait(10)
    return gate, future


def test_queued_questions_with_the_same_options_share_one_call():
    engine = RecordingAssistant()
    worker = started(engine, max_batch=8)
    try:
        gate, _ = hold(engine, worker)
        sections = Filters(sections=("Weather",))
        futures = [worker.ask("how hot was it?", top_k=None, threshold=None, filters=None),
                   worker.ask("Who is the secretary of state?", top_k=None, threshold=None, filters=None),
                   worker.ask("how hot was it?", top_k=None, threshold=None, filters=sections),
                   worker.ask("how hot was it?", top_k=3, threshold=None, filters=None),
                   worker.ask("how hot was it?", top_k=None, threshold=None, filters=Filters(sections=("Weather",)))]
        gate.set()
        answers = [f.result(10) for f in futures]
    finally:
        worker.stop()
    assert [a.text for a in answers] == ["44 degrees Celsius", "Antony Blinken"] + ["44 degrees Celsius"] * 3
    calls = [(kind, len(qs), opts["top_k"], opts["filters"]) for kind, qs, opts in engine.calls]
    assert sorted(calls, key=repr) == sorted([("ask_many", 2, None, None), ("ask_many", 2, None, sections),
                                              ("ask", 1, 3, None)], key=repr)
    assert worker.batch_sizes == {2: 2, 1: 1}


def test_batches_are_capped():
    engine = RecordingAssistant()
    worker = started(engine, max_batch=3)
    try:
        gate, _ = hold(engine, worker)
        futures = [worker.ask("how hot was it?") for _ in range(7)]
        gate.set()
        [f.result(10) for f in futures]
    finally:
        worker.stop()
    assert [len(qs) for _, qs, _ in engine.calls] == [3, 3, 1]


def test_one_bad_question_does_not_fail_its_batch():
    engine = RecordingAssistant()
    worker = started(engine)
    try:
        gate, _ = hold(engine, worker)
        good, bad = worker.ask("how hot was it?"), worker.ask("explode")
        gate.set()
        assert good.result(10).text == "44 degrees Celsius"
        with pytest.raises(RuntimeError):
            bad.result(10)
    finally:
        worker.stop()


def test_a_full_queue_says_busy_at_once():
    engine = RecordingAssistant()
    worker = started(engine, max_queue=2)
    try:
        gate, _ = hold(engine, worker)
        queued = [worker.ask("how hot was it?"), worker.ask("how hot was it?")]
        with pytest.raises(Busy):
            worker.ask("how hot was it?")
        gate.set()
        assert all(f.result(10).found for f in queued)
    finally:
        worker.stop()


def test_abandoned_requests_are_skipped():
    engine = RecordingAssistant()
    worker = started(engine)
    try:
        gate, _ = hold(engine, worker)
        gone, kept = worker.ask("how hot was it?"), worker.ask("Who is the secretary of state?")
        assert gone.cancel()
        gate.set()
        assert kept.result(10).text == "Antony Blinken"
    finally:
        worker.stop()
    assert [qs for _, qs, _ in engine.calls] == [["Who is the secretary of state?"]]


def test_stop_fails_what_is_still_queued():
    engine = RecordingAssistant()
    worker = started(engine)
    gate, _ = hold(engine, worker)
    queued = worker.ask("how hot was it?")
    threading.Timer(0.2, gate.set).start()
    worker.stop()
    with pytest.raises(Busy):
        queued.result(10)
