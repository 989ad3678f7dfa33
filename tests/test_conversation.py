from qa.conversation import Conversation, rewrite_all, rewrite_question


def test_pronoun_and_topic():
    qs = ["What did Blinken say about the grain deal?", "And what did Lavrov say about it?", "When did he say that?"]
    out = rewrite_all(qs, ["they are looking to see it move forward", "US sanctions", "Friday"])
    assert out[0] == qs[0]
    assert "Lavrov" in out[1] and "grain deal" in out[1] and " it" not in out[1]
    assert "Lavrov" in out[2] and "grain deal" in out[2]


def test_who_answer_becomes_he():
    out = rewrite_all(["Who is the US Secretary of State?", "Who did he speak with?"], ["Antony Blinken", "x"])
    assert out[1] == "Who did Antony Blinken speak with?"


def test_what_about_swaps_subject():
    out = rewrite_all(["What did Blinken say about the grain deal?", "What about Lavrov?"], ["a", "b"])
    assert out[1] == "What did Lavrov say about the grain deal?"


def test_standalone_question_untouched():
    q = "How long did the call last?"
    assert rewrite_question(q, [("Who is the US Secretary of State?", "Antony Blinken")]) == q
    assert rewrite_question(q, []) == q


def test_possessive():
    out = rewrite_all(["Who is the US Secretary of State?", "What was his message to Lavrov?"], ["Antony Blinken", ""])
    assert "Antony Blinken's message" in out[1]


def test_round_trip_dict():
    from qa.types import Answer

    conv = Conversation(assistant=None, turns=[("q?", Answer(question="q?", text="a", confidence=0.5))])
    again = Conversation.from_dict(None, conv.to_dict())
    assert again.turns[0][1].text == "a"
    assert "**Q:** q?" in again.to_markdown()


def test_it_after_when_question_is_the_noun_phrase():
    out = rewrite_all(["At what time did the call between Blinken and Lavrov take place?", "How long did it last?"],
                      ["shortly after noon", ""])
    assert out[1] == "How long did the call last?"


def test_it_after_what_question_is_the_answer_and_carries_on():
    out = rewrite_all(["What did Blinken press the Kremlin to accept?", "Since when has it been on the table?",
                       "Which arms dealer does it offer to exchange?"],
                      ["the substantive proposal", "since June", ""])
    assert "the substantive proposal" in out[1] and "the substantive proposal" in out[2]


def test_save_appends_one_line_per_turn_and_load_round_trips(tmp_path):
    from qa.types import Answer

    path = tmp_path / "talk.jsonl"
    conv = Conversation(assistant=None)
    for i in range(3):
        conv.turns.append((f"q{i}?", Answer(question=f"q{i}?", text=f"a{i}", confidence=0.5)))
        conv.save(path)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3
    again, broken = Conversation.load(None, path)
    assert broken == 0 and [a.text for _, a in again.turns] == ["a0", "a1", "a2"]
    again.reset()
    again.save(path)
    assert path.read_text(encoding="utf-8") == ""
