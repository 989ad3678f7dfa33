"""Shared fixtures for the chat app's tests."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Callable

import pytest

from fakes import FakeAssistant
from tui.app import NewsdeskApp


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests here in a fresh event loop (no asyncio plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        params = inspect.signature(pyfuncitem.obj).parameters
        kwargs = {name: pyfuncitem.funcargs[name] for name in params}
        asyncio.run(pyfuncitem.obj(**kwargs))
        return True
    return None


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return tmp_path / "history" / "conversation.jsonl"


@pytest.fixture
def make_app(history: Path) -> Callable[..., NewsdeskApp]:
    def make(assistant=None, history_path: Path | None = history) -> NewsdeskApp:
        assistant = assistant if assistant is not None else FakeAssistant()
        return NewsdeskApp(lambda: assistant, history_path=history_path)

    return make
