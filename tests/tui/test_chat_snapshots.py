"""Snapshots of the chat app (fake assistant: deterministic answers)."""

from __future__ import annotations

from chat_helpers import SIZE, ask, wait_for, wait_ready

from tui.widgets.article_browser import ArticleBrowserScreen


def test_main_screen_with_an_answer(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "Who is the US Secretary of State?")
        await ask(pilot, "Who did he speak with?")

    assert snap_compare(make_app(history_path=None), terminal_size=SIZE, run_before=run_before)


def test_no_answer(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "What did firefighters in Portugal fight?")

    assert snap_compare(make_app(history_path=None), terminal_size=SIZE, run_before=run_before)


def test_sources_panel(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f2")
        await pilot.pause()

    assert snap_compare(make_app(history_path=None), terminal_size=SIZE, run_before=run_before)


def test_sources_panel_at_80x24(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f2")
        await pilot.pause()

    assert snap_compare(make_app(history_path=None), terminal_size=(80, 24), run_before=run_before)


def test_article_browser(snap_compare, make_app):
    async def run_before(pilot):
        await wait_ready(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ArticleBrowserScreen), what="the browser")
        await pilot.pause()

    assert snap_compare(make_app(history_path=None), terminal_size=SIZE, run_before=run_before)
