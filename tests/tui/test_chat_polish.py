"""The chat explains itself: one confidence rule, its own palette, keys as documented, honest notices."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from pathlib import Path

from chat_helpers import SIZE, ask, last_card, notifications, wait_for, wait_ready
from fakes import BLINKEN, HEATWAVE, FakeAssistant

from qa.converters.files import Skipped
from qa.types import Answer, Article, Passage, RetrievedPassage
from tui.actions.engine import skipped_text
from tui.app import NewsdeskApp, help_keys
from tui.render import HIGH_FROM, MEDIUM_FROM, confidence_label, confidence_percent, confidence_words
from tui.screens.chat import ChatScreen
from tui.suggestions import base_form, suggest
from tui.widgets.answer_card import AnswerCard
from tui.widgets.article_view import ArticleScreen, Paragraph
from tui.widgets.suggestions import Suggestions

README = Path(__file__).resolve().parents[2] / "README.md"


def test_confidence_label_follows_the_shown_percentage():
    """75% is "high" every time: the label is decided on the number printed beside it."""
    for thousandths in range(1001):
        c = thousandths / 1000
        label, percent = confidence_words(c), confidence_percent(c)
        expected = "high" if percent >= HIGH_FROM else "medium" if percent >= MEDIUM_FROM else "low"
        assert label == expected, c
        assert confidence_label(c).startswith(f"{label} ") and confidence_label(c).endswith(f" {percent}%")
    assert confidence_words(0.749) == confidence_words(0.751) == "high"
    assert confidence_words(0.744) == "medium"


def test_understood_as_only_when_the_question_changed():
    same = Answer(question="who is the us secretary of state", understood_as="Who is the US Secretary of State?")
    changed = Answer(question="Who did he speak with?", understood_as="Who did Antony Blinken speak with?")
    assert "Understood as" not in str(AnswerCard.render_answer(same, {}))
    assert "Understood as: Who did Antony Blinken speak with?" in str(AnswerCard.render_answer(changed, {}))


def test_no_match_says_so_instead_of_an_empty_list():
    text = str(AnswerCard.render_answer(Answer(question="What happened on Mars?"), {}))
    assert "I found no answer in the articles." in text
    assert "Closest passages" not in text
    assert "No indexed article matches the question's filters" in text


def test_closest_passages_show_each_headline_once_and_not_inside_the_passage():
    article = replace(BLINKEN, text=BLINKEN.title + "\n\n" + BLINKEN.text)
    first = Passage(id="b#0", article_id=article.id, start=0, end=200, text=article.text[:200])
    second = Passage(id="b#1", article_id=article.id, start=200, end=300, text=article.text[200:300])
    answer = Answer(question="q", passages=[RetrievedPassage(passage=p, score=0.1, rank=r)
                                            for r, p in enumerate((first, second), 1)])
    text = str(AnswerCard.render_answer(answer, {article.id: article}))
    assert text.count(article.title) == 1
    assert "• " + article.title in text
    assert "US Secretary of State Antony Blinken spoke" in text


def test_skipped_files_are_named_once_with_their_reason():
    text = skipped_text([Skipped("/news/photo.jpg", "not a supported file"), Skipped("/news/x.bin", "binary")])
    assert text == "2 skipped (photo.jpg: not a supported file; x.bin: binary)"
    assert "skipped photo" not in text and "skipped: skipped" not in text


def test_readme_key_table_is_the_help_screen():
    """One source of truth: the README's chat keys are the app's bindings with their help text."""
    section = README.read_text(encoding="utf-8").split("## The chat", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", section, flags=re.M)
    rows = [r for r in rows if r != ("key", "action") and not set(r[0]) <= set("-")]
    assert rows == help_keys()
    keys = {k.lower() for shown, _ in rows for k in re.split(r" / ", shown)}
    assert {"ctrl+q", "ctrl+up", "down", "f1", "ctrl+p", "escape", "enter"} <= keys | {"ctrl+down"}


def test_suggestions_come_from_the_articles_text():
    mayor = Article(id="m", title="Harbour plan approved", date="2023-05-02", section="Local", path="m.txt",
                    text="Harbour plan approved\n\nCity Mayor Jane Okafor met with Port Director Luis Brandt on "
                         "Monday to sign the harbour agreement.\nDockworkers welcomed the plan after weeks of talks.")
    questions = suggest([mayor, HEATWAVE])
    assert questions[:2] == ["Who is the City Mayor?", "Who did Jane Okafor meet with?"]
    assert len(questions) == 3
    assert suggest([Article(id="x", title="t", text="Too short.", path="x")]) == []
    assert [base_form(v) for v in ("battled", "reached", "stopped", "raised", "agreed", "tried")] == \
        ["battle", "reach", "stop", "raise", "agree", "try"]


async def test_first_start_suggests_three_questions_and_a_digit_asks_one(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        shown = app.chat.suggestions
        assert shown is not None and len(shown.questions) == 3
        assert shown.questions[0] == "Who is the US Secretary of State?"
        await pilot.press("1")
        await wait_for(pilot, lambda: app.transcript.answered(), what="the answer")
        await wait_ready(pilot)
        assert last_card(app).answer.text == "Antony Blinken"
        assert app.chat.suggestions is None and not app.query(Suggestions)
        await pilot.press("2")  # no suggestions now: the digit is typed
        assert app.question_input.value == "2"


async def test_digits_type_normally_into_a_question(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"Who won in 2018")
        assert app.question_input.value == "Who won in 2018"
        assert app.transcript.cards() == []


async def test_no_suggestions_when_the_conversation_has_turns_or_the_index_is_large(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert again.chat.suggestions is None
    many = [replace(HEATWAVE, id=f"h{i}") for i in range(30)]
    big = make_app(FakeAssistant(many), history_path=None)
    async with big.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert big.chat.suggestions is None


async def test_palette_holds_the_apps_commands_only(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.chat)]
        for wanted in ("Ask a question", "Sources", "Article browser", "Index statistics", "Index a folder or file",
                       "Switch index", "New conversation", "Export conversation as Markdown", "Copy last answer",
                       "Toggle dark/light theme", "Help"):
            assert wanted in titles
        assert not {"Keys", "Maximize", "Screenshot", "Theme"} & set(titles)


async def test_toasts_never_cover_the_question_box(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        for n in range(3):
            app.notify(f"Notice number {n} with a fairly long text to take some room", timeout=30)
        await pilot.pause(0.2)
        toasts = list(app.screen.query("Toast"))
        assert toasts
        for toast in toasts:
            assert not toast.region.overlaps(app.question_input.region)


async def test_article_view_does_not_repeat_the_headline(make_app):
    article = replace(BLINKEN, text=BLINKEN.title + "\n\n" + BLINKEN.text)
    app = make_app(FakeAssistant([article, HEATWAVE]))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f2", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleScreen), what="the article")
        paragraphs = [str(p.content) for p in app.screen.query(Paragraph)]
        assert paragraphs[0].startswith("US Secretary of State")
        assert not any(p == article.title for p in paragraphs)


async def test_index_notice_names_skipped_files_once(make_app, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the prompt")
        app.screen.query_one("Input").value = str(folder)
        await pilot.press("enter")
        await wait_ready(pilot)
        notice = next(n for n in notifications(app) if n.startswith("Indexed"))
        assert "1 skipped (photo.jpg: not a text file)" in notice
        assert notice.count("skipped") == 1


class TerminalStream(io.StringIO):
    """Stands in for the terminal a command line's log handler writes to."""

    def isatty(self) -> bool:
        return True


class NoisyAssistant(FakeAssistant):
    def warm_up(self) -> None:
        logging.getLogger("transformers").error("Loading weights 103/103")
        super().warm_up()


async def test_log_lines_never_write_over_the_chat():
    terminal = TerminalStream()
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        app = NewsdeskApp(lambda: NoisyAssistant())
        async with app.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            assert handler not in root.handlers
        assert handler in root.handlers
        logging.getLogger("qa").error("after the chat")
    finally:
        root.removeHandler(handler)
    assert "Loading weights" not in terminal.getvalue()
    assert "after the chat" in terminal.getvalue()


def test_the_chat_screen_is_the_apps_first_screen():
    app = NewsdeskApp(lambda: FakeAssistant())
    assert isinstance(app.get_default_screen(), ChatScreen)


async def test_escape_leaves_the_sources_panel_for_the_question_box(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f2")
        assert app.focused is not app.question_input
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.question_input
