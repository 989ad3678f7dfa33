"""Pilot tests of the chat app against the fake assistant."""

from __future__ import annotations

import threading
from dataclasses import replace

from chat_helpers import SIZE, ask, card_text, last_card, notifications, wait_for, wait_ready
from fakes import BLINKEN, HEATWAVE, FakeAssistant

from qa.types import Article
from tui.render import ANSWER_STYLE
from tui.widgets.article_browser import ArticleBrowserScreen
from tui.widgets.article_view import ArticleScreen, Paragraph


async def test_answer_shows_sentence_highlight_citation_and_confidence(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        card = last_card(app)
        assert card.answer.text == "Antony Blinken"
        text = card_text(card)
        assert "US Secretary of State Antony Blinken spoke with Russian Foreign Minister" in text
        assert "Blinken says he had a ‘frank’ discussion with Lavrov · 2022-07-31 · International" in text
        assert "high ▮▮▮▮▯ 82%" in text
        highlighted = [text[s.start:s.end] for s in card.content.spans if s.style == ANSWER_STYLE]
        assert highlighted == ["Antony Blinken"]
        assert "Understood as" not in text


async def test_follow_up_shows_understood_as(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await ask(pilot, "Who did he speak with?")
        card = last_card(app)
        assert "Understood as: Who did Antony Blinken speak with?" in card_text(card)
        assert card.answer.text == "Sergey Lavrov"


async def test_no_answer_lists_closest_passages(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "What did firefighters in Portugal fight?")
        text = card_text(last_card(app))
        assert "I found no answer in the articles." in text
        assert "Closest passages:" in text
        assert "• Heatwave grips southern Europe" in text
        assert "Firefighters in Portugal and Spain battled wildfires" in text


async def test_source_opens_article_with_answer_highlighted_and_in_view(make_app):
    filler = "\n".join(f"Paragraph {i} says nothing of note about anything at all." for i in range(60))
    long = replace(BLINKEN, text=filler + "\n" + BLINKEN.text)
    app = make_app(FakeAssistant([long, HEATWAVE]))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f2")
        assert app.sources.display
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleScreen), what="the article screen")
        await pilot.pause(0.1)
        screen = app.screen
        marked = screen.query_one(".-answer", Paragraph)
        content = marked.content
        assert [str(content)[s.start:s.end] for s in content.spans if s.style == ANSWER_STYLE] == ["Antony Blinken"]
        body = screen.query_one("#article-body")
        assert body.scroll_y > 0
        assert body.region.contains_region(marked.region) or body.region.overlaps(marked.region)
        await pilot.press("escape")
        assert not isinstance(app.screen, ArticleScreen)


async def test_command_palette_indexes_a_folder_and_answers_from_it(make_app, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "artemis.txt").write_text(
        "date 2022-08-01 Science\nNASA sets Artemis launch date\n"
        "NASA said the Artemis I rocket will launch on August 29 from Kennedy Space Center.\n",
        encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "When will the Artemis rocket launch?")
        assert not last_card(app).answer.found
        await pilot.press("ctrl+p")
        await pilot.press(*"index a folder")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the path prompt")
        app.screen.query_one("Input").value = str(folder)
        await pilot.press("enter")
        await wait_ready(pilot)
        assert any("1 added" in n and "1 skipped" in n for n in notifications(app))
        await ask(pilot, "When will the Artemis rocket launch?")
        card = last_card(app)
        assert card.answer.text == "August 29"
        assert "NASA sets Artemis launch date · 2022-08-01 · Science" in card_text(card)


async def test_export_writes_markdown(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await ask(pilot, "What is the price of bread?")
        target = tmp_path / "out" / "talk.md"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the export prompt")
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        text = target.read_text(encoding="utf-8")
        assert "## Who is the US Secretary of State?" in text
        assert "**Antony Blinken**" in text
        assert "> US Secretary of State **Antony Blinken** spoke with" in text
        assert "Confidence: high ▮▮▮▮▯ 82%" in text
        assert "I found no answer in the articles." in text
        assert any(str(target) in n for n in notifications(app))
        # Empty answer to the prompt: a new file in the current folder.
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the export prompt")
        await pilot.press("enter")
        await pilot.pause()
        assert len(list(tmp_path.glob("newsdesk-conversation-*.md"))) == 1


async def test_markup_and_escapes_in_articles_display_literally(make_app):
    odd = Article(
        id="odd", title="[b]Odd[/b] article \x1b]0;pwned\x07", date="2022-08-02", section="[red]Tech",
        text="An odd article: [bold]not bold[/bold] then \x1b[31mred\x1b[0m and [link=http://x]click[/link].",
        path="odd.txt")
    app = make_app(FakeAssistant([odd, HEATWAVE]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, "What is in the odd article?")
        card = last_card(app)
        text = card_text(card)
        assert "[bold]not bold[/bold]" in text
        assert "␛[31mred␛[0m" in text
        assert "[link=http://x]click[/link]" in text
        assert "[b]Odd[/b] article ␛]0;pwned␇" in text
        assert "\x1b" not in text
        assert not any("link" in str(s.style) for s in card.content.spans)
        await pilot.press("f2", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleScreen), what="the article screen")
        para = app.screen.query_one(Paragraph)
        assert "[link=http://x]click[/link]" in str(para.content)
        assert "\x1b" not in str(para.content)
        await pilot.press("escape", "f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleBrowserScreen), what="the browser")
        await pilot.pause()
        assert "[b]Odd[/b]" in app.export_screenshot().replace("&#160;", " ")
        await pilot.press("escape", "ctrl+o")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the path prompt")
        app.screen.query_one("Input").value = "[/x]nowhere[link=http://x]"
        await pilot.press("enter")
        await pilot.pause()
        assert "No such file or folder: [/x]nowhere[link=http://x]" in notifications(app)
        await pilot.pause(0.1)
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("[/x]nowhere[link=http://x]" in t for t in toasts), toasts


async def test_typing_is_accepted_while_a_slow_answer_is_computed(make_app):
    gate = threading.Event()
    fake = FakeAssistant(gate=gate)
    app = make_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.question_input.value = "Who is the US Secretary of State?"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.busy == "ask", what="the ask to start")
        await pilot.press(*"How hot")
        assert app.question_input.value == "How hot"
        assert "Thinking" in str(app.status_line.content)
        await pilot.press(*" was Seville?", "enter")
        await pilot.pause()
        assert len(app.pending) == 1
        assert "1 question waiting" in str(app.status_line.content)
        await pilot.press(*"still typing")
        assert app.question_input.value == "still typing"
        gate.set()
        await wait_ready(pilot)
        answers = [c.answer.text for c in app.transcript.answered()]
        assert answers == ["Antony Blinken", "44 degrees Celsius"]
        assert fake.asked == ["Who is the US Secretary of State?", "How hot was Seville?"]


async def test_engine_error_is_a_notification_and_the_app_goes_on(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Why did it explode?")
        assert "RuntimeError: the reader fell over" in notifications(app)
        assert "Not answered" in card_text(last_card(app))
        await ask(pilot, "Who is the US Secretary of State?")
        assert last_card(app).answer.text == "Antony Blinken"


async def test_factory_failure_is_reported_without_crashing(history):
    from qa.errors import IndexError_

    from tui.app import NewsdeskApp

    def factory():
        raise IndexError_("no index in /nowhere: run `newsdesk index PATH`")

    app = NewsdeskApp(factory, history)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert "no index in /nowhere: run `newsdesk index PATH`" in notifications(app)
        app.question_input.value = "Anyone there?"
        await pilot.press("enter")
        await pilot.pause()
        assert any("No index is open" in n for n in notifications(app))
        assert "Not ready" in str(app.status_line.content)


async def test_conversation_persists_and_new_conversation_clears_it(make_app, history):
    fake = FakeAssistant()
    app = make_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
    assert history.exists()

    again = make_app(fake)
    async with again.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        cards = again.transcript.answered()
        assert [c.answer.text for c in cards] == ["Antony Blinken"]
        await pilot.press("up")
        assert again.question_input.value == "Who is the US Secretary of State?"
        await pilot.press("down")
        assert again.question_input.value == ""
        await ask(pilot, "Who did he speak with?")
        assert "Understood as: Who did Antony Blinken speak with?" in card_text(last_card(again))
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert again.transcript.cards() == []
        assert again.conversation.turns == []
        assert not history.exists()


async def test_article_browser_filters_and_opens(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleBrowserScreen), what="the browser")
        browser = app.screen
        assert [a.id for a in browser.shown] == ["blinken-lavrov", "heatwave"]
        await pilot.press(*"weather")
        assert [a.id for a in browser.shown] == ["heatwave"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleScreen), what="the article")
        assert app.screen.article.id == "heatwave"


async def test_stats_copy_theme_and_help(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "StatsScreen", what="statistics")
        body = str(app.screen.query_one("#stats-body").content)
        assert "Articles" in body and "12.1 KB" in body
        await pilot.press("escape")
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("Antony Blinken\n")
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark != dark
        await pilot.press("f1")
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        assert app.focused is app.question_input


async def test_small_terminal(make_app):
    size = (80, 24)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await pilot.press("f2")
        await pilot.pause()
        assert app.question_input.region.bottom <= size[1] - 1
        assert app.sources.region.width >= 30
        assert app.transcript.region.width >= 40


async def test_answer_arriving_under_another_screen(make_app):
    gate = threading.Event()
    app = make_app(FakeAssistant(gate=gate))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.question_input.value = "Who is the US Secretary of State?"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.busy == "ask", what="the ask to start")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleBrowserScreen), what="the browser")
        gate.set()
        await wait_for(pilot, lambda: app.busy is None, what="the answer")
        await pilot.pause()
        assert isinstance(app.screen, ArticleBrowserScreen)
        await pilot.press("escape")
        assert last_card(app).answer.text == "Antony Blinken"
        assert "Ready" in str(app.status_line.content)


async def test_long_conversation_keeps_recent_turns_on_screen_and_all_in_export(make_app, history, tmp_path):
    """Old turns leave the screen (the layout cost grows with every widget) but not the conversation."""
    app = make_app()
    app.max_turns_shown = 3
    questions = ["Who is the US Secretary of State?", "How hot was it in Seville?", "What is the price of bread?",
                 "Who did he speak with?", "Who is the US Secretary of State?"]
    async with app.run_test(size=SIZE) as pilot:
        for q in questions:
            await ask(pilot, q)
        assert [c.question for c in app.transcript.cards()] == questions[-3:]
        assert "2 earlier turns not shown" in str(app.transcript.note.content)
        assert app.transcript.note.display
        assert [q for q, _, _ in app.transcript.turns()] == questions
        text = app.export_markdown(tmp_path / "all.md").read_text(encoding="utf-8")
        assert all(f"## {q}" in text for q in questions[:3])
    assert sum(1 for line in history.read_text(encoding="utf-8").splitlines() if line) == len(questions)

    again = make_app()
    again.max_turns_shown = 3
    async with again.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert len(again.conversation.turns) == len(questions)
        assert len(again.transcript.cards()) == 3
        assert len(again.transcript.turns()) == len(questions)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert again.transcript.turns() == [] and not again.transcript.note.display


async def test_torn_last_line_of_saved_conversation_keeps_earlier_turns(make_app, history):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "Who is the US Secretary of State?")
        await ask(pilot, "How hot was it in Seville?")
    with history.open("a", encoding="utf-8") as f:
        f.write('{"question": "cut off mid-wr')  # a crash while appending
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert [c.answer.text for c in again.transcript.answered()] == ["Antony Blinken", "44 degrees Celsius"]
        assert any("Skipped 1 unreadable turn" in n for n in notifications(again))
        await ask(pilot, "Who did he speak with?")
    lines = [line for line in history.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) == 3 and all(line.startswith("{") and line.endswith("}") for line in lines)


def test_the_fake_and_the_assistant_keep_one_contract():
    """The chat is tested against a fake: both must implement the engine contract."""
    import inspect

    from qa import Assistant
    from qa.contract import Engine

    fake = FakeAssistant()
    assert isinstance(fake, Engine)
    for name in ("ask", "ask_many", "index", "add"):
        real = inspect.signature(getattr(Assistant, name)).parameters
        faked = inspect.signature(getattr(FakeAssistant, name)).parameters
        assert [p for p in real if p != "remove_missing"] == list(faked), name
        promised = inspect.signature(getattr(Engine, name)).parameters
        assert [p for p in real if p != "remove_missing"] == [p for p in promised if p != "remove_missing"], name
