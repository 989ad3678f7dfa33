"""Each index keeps its own conversation: switching, first indexing and `newsdesk chat PATH` write to the right place."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from chat_helpers import SIZE, ask, notifications, wait_for, wait_ready
from fakes import FakeAssistant

from qa.conversation import conversation_path
from qa.errors import IndexError_
from tests.reliability import guard, tried
from tui.app import NewsdeskApp

ARTEMIS = ("date 2022-08-01 Science\nNASA sets Artemis launch date\n"
           "NASA said the Artemis I rocket will launch on August 29 from Kennedy Space Center.\n")


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def prompt(pilot, key: str, value: str) -> None:
    app = pilot.app
    await pilot.press(key)
    await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen", what="the prompt")
    app.screen.query_one("Input").value = value
    await pilot.press("enter")
    await wait_ready(pilot)


async def test_switching_index_keeps_each_conversation_with_its_index(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "artemis.txt").write_text(ARTEMIS, encoding="utf-8")
    assistant = FakeAssistant(index_dir=first)
    app = NewsdeskApp(lambda: assistant, history_for=conversation_path)
    tried("hostile inputs")
    with guard():
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "Who is the US Secretary of State?")
            await prompt(pilot, "f6", str(second))
            assert app.assistant.index_dir == second and app.transcript.turns() == []
            await ask(pilot, "When will the Artemis rocket launch?")
            await prompt(pilot, "f6", str(first))
            assert [c.answer.text for c in app.transcript.answered()] == ["Antony Blinken"]
    assert [json.loads(x)["question"] for x in lines(conversation_path(first))] == ["Who is the US Secretary of State?"]
    assert [json.loads(x)["question"] for x in lines(conversation_path(second))] == ["When will the Artemis rocket launch?"]


async def test_first_index_from_the_chat_goes_into_the_index_folder_given(tmp_path):
    wanted = tmp_path / "my-index"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "artemis.txt").write_text(ARTEMIS, encoding="utf-8")

    def no_index_yet():
        raise IndexError_(f"no index in {wanted}")

    app = NewsdeskApp(no_index_yet, index_dir=wanted, history_for=conversation_path)
    app._assistant_class = lambda: FakeAssistant  # the app builds the new index with the fake
    tried("hostile inputs")
    with guard():
        async with app.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            await prompt(pilot, "ctrl+o", str(docs))
            assert app.assistant is not None and app.assistant.index_dir == wanted
            await ask(pilot, "When will the Artemis rocket launch?")
    assert len(lines(conversation_path(wanted))) == 1


async def test_one_unreadable_line_never_drops_the_saved_conversation(make_app, history):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for q in ("Who is the US Secretary of State?", "How hot was it in Seville?"):
            await ask(pilot, q)
    good = lines(history)
    deep = "[" * 100_000 + "]" * 100_000
    history.write_text("\n".join([good[0], deep, '{"question": 3}', "not json", good[1]]) + "\n", encoding="utf-8")
    before = history.read_text(encoding="utf-8")
    tried("hostile inputs", 3)
    again = make_app()
    with guard():
        async with again.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            assert [c.answer.text for c in again.transcript.answered()] == ["Antony Blinken", "44 degrees Celsius"]
            assert any("Skipped 3 unreadable turns" in n for n in notifications(again))
            await ask(pilot, "Who did he speak with?")
    after = history.read_text(encoding="utf-8")
    assert after.startswith(before) and len(lines(history)) == 6
    assert json.loads(lines(history)[-1])["question"] == "Who did he speak with?"


class LoggingAssistant(FakeAssistant):
    """Logs each file it indexes, as the engine's converters do."""

    def index(self, paths, progress=None):
        for p in map(Path, paths):
            logging.getLogger("qa").warning("indexing %s", p)
        return super().index(paths, progress=progress)


async def test_escape_sequences_in_file_names_never_reach_the_terminal(tmp_path):
    evil = tmp_path / "news\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07"
    evil.mkdir()
    (evil / "artemis.txt").write_text(ARTEMIS, encoding="utf-8")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    app = NewsdeskApp(lambda: LoggingAssistant(index_dir=tmp_path / "idx"))
    tried("hostile inputs")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            await prompt(pilot, "ctrl+o", str(evil))
            shown = notifications(app)
    finally:
        logging.getLogger().removeHandler(handler)
    assert any("1 added" in n for n in shown), shown
    assert "indexing" in stream.getvalue()
    for text in shown + [stream.getvalue()]:
        assert "\x1b" not in text and "\x07" not in text


def test_chat_with_paths_keeps_its_conversation_beside_the_index_it_built(tmp_path, monkeypatch):
    import qa
    import tui
    from tui.cli import main

    built, opened = [], []

    class Recorder:
        def __init__(self, index_dir, **_kwargs):
            self.index_dir = Path(index_dir)
            built.append(self.index_dir)

        def index(self, paths, remove_missing=True):
            return None

    def run_chat(factory, *, index_dir):
        assistant = factory()
        opened.append((assistant.index_dir, index_dir))

    monkeypatch.setattr(qa, "Assistant", Recorder)
    monkeypatch.setattr(tui, "run_chat", run_chat)
    tried("hostile inputs", 2)
    for argv in (["chat", str(tmp_path)], ["chat", str(tmp_path), "--index", str(tmp_path / "mine")]):
        built.clear()
        opened.clear()
        assert main(argv) == 0
        (assistant_dir, chat_dir), = opened
        assert assistant_dir == chat_dir == built[0]
        assert conversation_path(chat_dir).parent == assistant_dir
