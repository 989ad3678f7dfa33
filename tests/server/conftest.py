"""Fixtures for the HTTP API tests: the app over the chat tests' FakeAssistant."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from fakes import FakeAssistant
from fastapi.testclient import TestClient

from qa.server import create_app


class RecordingAssistant(FakeAssistant):
    """The fake, also noting each engine call and its options (to see batching and option passing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, list[str], dict[str, Any]]] = []
        self.threads: set[str] = set()

    def ask(self, question: str, **options: Any):
        self.threads.add(threading.current_thread().name)
        if options.get("history") is None:
            self.calls.append(("ask", [question], {k: v for k, v in options.items() if k != "history"}))
        return super().ask(question, **options)

    def ask_many(self, questions, **options: Any):
        self.threads.add(threading.current_thread().name)
        questions = list(questions)
        self.calls.append(("ask_many", questions, options))
        if any("explode" in q for q in questions):
            raise RuntimeError("one bad question spoils the batch")
        return [FakeAssistant.ask(self, q, **options) for q in questions]


def wait_ready(client: TestClient, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/v1/health").status_code != 200:
        assert time.monotonic() < deadline, "the app never became ready"
        time.sleep(0.01)


@pytest.fixture
def engine() -> RecordingAssistant:
    return RecordingAssistant()


@pytest.fixture
def make_client(engine) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**create_app_kwargs)``: a started, ready client over ``engine``."""
    opened: list[TestClient] = []

    def make(factory: Callable[[], Any] | None = None, *, ready: bool = True, **kwargs: Any) -> TestClient:
        client = TestClient(create_app(factory or (lambda: engine), **kwargs))
        client.__enter__()
        opened.append(client)
        if ready:
            wait_ready(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
