"""End to end on the bundled article with the shipped reader."""

import json

import pytest

from qa.errors import EmptyQuestionError
from qa.types import ANSWER_FORMAT_VERSION, answer_from_json, answer_to_json
from tests.reliability import guard, tried


def check_cited(answer, seed_assistant):
    art = seed_assistant.article(answer.article.id)
    assert art.text[answer.start:answer.end] == answer.text
    assert answer.text in answer.sentence
    assert art.text[answer.sentence_start:answer.sentence_start + len(answer.sentence)] == answer.sentence
    assert answer.article.title.startswith("Blinken says")
    assert answer.article.date == "2022-07-31"
    assert 0.0 <= answer.confidence <= 1.0


def test_secretary_of_state(seed_assistant):
    a = seed_assistant.ask("Who is the US Secretary of State?")
    assert "Blinken" in a.text
    check_cited(a, seed_assistant)


def test_call_length(seed_assistant):
    a = seed_assistant.ask("How long did the call last?")
    assert "25 minutes" in a.text
    check_cited(a, seed_assistant)


def test_russian_official(seed_assistant):
    a = seed_assistant.ask("Which Russian official did Blinken speak with?")
    assert "Lavrov" in a.text
    check_cited(a, seed_assistant)


@pytest.mark.parametrize("question", [
    "Who won the 2018 World Cup?",
    "What is the boiling point of water at sea level?",
])
def test_no_answer(seed_assistant, question):
    a = seed_assistant.ask(question)
    assert not a.found and a.text == ""
    assert a.passages, "the closest passages are still returned"


def test_answer_fields_and_alternatives(seed_assistant):
    a = seed_assistant.ask("Who did Blinken press for the release of Paul Whelan and Brittney Griner?")
    d = answer_to_json(a)
    assert d["version"] == ANSWER_FORMAT_VERSION and d["text"] == a.text and d["article"]["id"] == a.article.id
    assert d["sentence"][d["start"] - d["sentence_start"]:d["end"] - d["sentence_start"]] == a.text
    assert answer_from_json(json.loads(json.dumps(d))) == a
    spans = [(s.article.id, s.start, s.end) for s in a.alternatives] + [(a.article.id, a.start, a.end)]
    assert len(spans) == len(set(spans)), "the same span is never listed twice"
    assert [p.rank for p in a.passages] == list(range(1, len(a.passages) + 1))


def test_ask_many(seed_assistant):
    answers = list(seed_assistant.ask_many(["Who is the US Secretary of State?", "   ", "Who won the 2018 World Cup?"]))
    assert len(answers) == 3 and "Blinken" in answers[0].text and not answers[1].found


@pytest.mark.parametrize("q", ["", "   ", "?!..", "\x1b[31m"])
def test_empty_questions_get_a_clear_error(seed_assistant, q):
    tried("hostile inputs")
    with pytest.raises(EmptyQuestionError, match="question"):
        seed_assistant.ask(q)


@pytest.mark.parametrize("q", ["x" * 10000, "Кто госсекретарь США?", "布林肯是谁？", "who\x00 is\x07 Blinken"])
def test_odd_questions_do_not_crash(seed_assistant, q):
    tried("hostile inputs")
    with guard():
        a = seed_assistant.ask(q)
    assert isinstance(a.text, str)


def test_follow_up_conversation(seed_assistant):
    conv = seed_assistant.conversation()
    first = conv.ask("Who is the US Secretary of State?")
    assert "Blinken" in first.text
    second = conv.ask("Who did he speak with?")
    assert second.understood_as and "Blinken" in second.understood_as
    assert "Lavrov" in second.text
