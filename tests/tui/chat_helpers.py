"""Helpers for driving the chat app in pilot tests."""

from __future__ import annotations

import asyncio
from typing import Callable

#: Terminal size of the pilot and snapshot tests.
SIZE = (100, 34)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def wait_ready(pilot, timeout: float = 15.0) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.busy is None and not app.pending, timeout, "the engine to be idle")
    await pilot.pause()


async def ask(pilot, question: str, timeout: float = 15.0) -> None:
    """Type ``question`` into the question box, submit it and wait for the answer (or failure)."""
    app = pilot.app
    await wait_ready(pilot, timeout)
    app.question_input.focus()
    app.question_input.value = question
    await pilot.press("enter")
    card = last_card(app)
    await wait_for(pilot, lambda: not card.has_class("-pending") and app.busy is None, timeout, "an answer")
    await pilot.pause()


def last_card(app):
    return app.transcript.cards()[-1]


def card_text(card) -> str:
    return str(card.content)


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]
