"""The chat app over the real engine and the bundled article (loads the models: slow)."""

from __future__ import annotations

import pytest
from chat_helpers import SIZE, ask, card_text, last_card, notifications, wait_for, wait_ready

from tui.app import NewsdeskApp
from tui.widgets.article_view import ArticleScreen, Paragraph



def reader_present() -> bool:
    from qa.resources import reader_path

    return reader_path().exists()


# A string condition is evaluated when each test starts, before the (session) fixtures load models.
pytestmark = [pytest.mark.slow, pytest.mark.skipif("not reader_present()", reason="no trained reader in models/reader yet")]


async def test_real_answer_follow_up_no_answer_and_source(seed_assistant, tmp_path):
    app = NewsdeskApp(lambda: seed_assistant, history_path=tmp_path / "conversation.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot, timeout=120)
        await ask(pilot, "Who is the US Secretary of State?", timeout=120)
        card = last_card(app)
        assert "Blinken" in card.answer.text
        text = card_text(card)
        assert "Blinken says" in text and "2022-07-31" in text
        assert card.answer.text in text and "%" in text

        await ask(pilot, "Who did he speak with on Friday?", timeout=120)
        assert "Understood as:" in card_text(last_card(app))

        await ask(pilot, "Who won the 2018 World Cup?", timeout=120)
        assert "I found no answer in the articles." in card_text(last_card(app))

        app.select(app.transcript.answered()[0])
        await pilot.press("f2", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArticleScreen), what="the article screen")
        await pilot.pause()
        marked = app.screen.query(".-answer")
        assert marked, "the answer's paragraph is marked"
        para = marked.first(Paragraph)
        assert any("Blinken" in str(para.content)[s.start:s.end] for s in para.content.spans)
    assert (tmp_path / "conversation.jsonl").exists()


async def test_real_palette_indexes_a_folder_and_answers_from_it(tmp_path):
    from qa import Assistant

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "launch.txt").write_text(
        "date 2022-08-03 Science\nSpace agency names the commander of its lunar mission\n"
        "The space agency said on Wednesday that Colonel Maria Okonkwo will command the lunar mission.\n"
        "The launch is planned for next spring from the coastal spaceport.\n",
        encoding="utf-8")
    app = NewsdeskApp(lambda: Assistant(tmp_path / "index"), history_path=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None and app.busy is None, timeout=120, what="models")
        await pilot.press("ctrl+p")
        await pilot.press(*"index a folder")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the path prompt")
        app.screen.query_one("Input").value = str(folder)
        await pilot.press("enter")
        await wait_ready(pilot, timeout=120)
        assert any("1 added" in n for n in notifications(app)), notifications(app)
        await ask(pilot, "Who will command the lunar mission?", timeout=120)
        card = last_card(app)
        assert "Okonkwo" in card.answer.text
        assert "Space agency names the commander" in card_text(card)


async def test_real_200_questions_in_a_row(seed_assistant, tmp_path):
    """The app stays as fast at the 200th question as at the 20th, and memory stays bounded."""
    import time
    import tracemalloc

    questions = ["Who is the US Secretary of State?", "How long did the call last?",
                 "Who won the 2018 World Cup?", "Where did Putin and Biden meet in June 2021?"]
    app = NewsdeskApp(lambda: seed_assistant, history_path=tmp_path / "conversation.jsonl")
    times: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot, timeout=120)
        tracemalloc.start()
        for i in range(200):
            t = time.perf_counter()
            await ask(pilot, questions[i % len(questions)], timeout=60)
            times.append(time.perf_counter() - t)
            if i == 19:
                base, _ = tracemalloc.get_traced_memory()
        end, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(app.transcript.cards()) >= 1
        assert not [n for n in notifications(app) if "rror" in n]
    first = sorted(times[10:30])[10]
    last = sorted(times[-20:])[10]
    print(f"200 questions: median {first * 1000:.0f} ms early, {last * 1000:.0f} ms late; "
          f"traced memory growth {(end - base) / 2**20:.1f} MB")
    assert last < first * 2 + 0.2, (first, last)
    assert end - base < 150 * 2**20
