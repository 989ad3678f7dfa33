"""Snapshots of the chat app (fake assistant: deterministic answers)."""

from __future__ import annotations

from chat_helpers import SIZE, ask, wait_for, wait_ready
from fakes import FakeAssistant
from textual.command import CommandPalette
from textual.widgets import Input

from tui.widgets.article_browser import ArticleBrowserScreen
from tui.widgets.dialogs import HelpScreen


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


class NothingMatches(FakeAssistant):
    """A fake whose retrieval finds no passage at all, as when no article passes the question's filters."""

    def _retrieve(self, question: str, k: int = 3) -> list:
        return []


def test_first_start_suggests_example_questions(snap_compare, make_app):
    async def run_before(pilot):
        await wait_ready(pilot)
        await wait_for(pilot, lambda: pilot.app.chat.suggestions is not None, what="the suggestions")
        pilot.app.question_input.cursor_blink = False  # idle for a while: the cursor would blink at random
        await pilot.pause()

    assert snap_compare(make_app(history_path=None), terminal_size=SIZE, run_before=run_before)


def test_no_article_matches(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "What did the mayor say in 1999?")

    assert snap_compare(make_app(NothingMatches(), history_path=None), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="the help screen")
        await pilot.pause()

    assert snap_compare(make_app(history_path=None), terminal_size=(100, 40), run_before=run_before)


def test_command_palette(snap_compare, make_app):
    async def run_before(pilot):
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the palette")
        pilot.app.screen.query_one(Input).cursor_blink = False  # a blinking cursor is drawn at random
        await pilot.pause(0.5)

    assert snap_compare(make_app(history_path=None), terminal_size=SIZE, run_before=run_before)
