"""Follow-up rewriting scored on its own (gold answers as history, no model)."""

from pathlib import Path

from qa.conversation import rewrite_all, same_question
from qa.evaluation.rewrites import RewriteTurn, format_report, load_rewrite_set, problems, score_rewrites

REWRITES = Path(__file__).parent / "gold" / "rewrites.jsonl"
REWRITE_FLOOR = 90.0


def test_rewrite_set_scores_above_the_floor():
    convs = load_rewrite_set(REWRITES)
    assert len(convs) >= 30
    report = score_rewrites(convs)
    print(format_report(report))
    assert report.accuracy >= REWRITE_FLOOR, format_report(report)


def test_checks_words_excluded_words_and_wording():
    turn = RewriteTurn("And what did he say about it?", contains=("strike",), excludes=("Whitfield", "he"),
                       like=r"What did .+ say about the strike\?")
    assert problems("What did Tom Reyes say about the strike?", turn) == []
    assert problems("What did Dana Whitfield say about the election?", turn) == [
        "lacks 'strike'", "has 'Whitfield'", "not like 'What did .+ say about the strike\\\\?'"]
    assert problems("What did the union say about the strike?", turn) == []  # "he" only as a whole word


def test_he_after_a_change_of_topic_does_not_reach_back():
    out = rewrite_all(["Who won the Westmark mayoral election?", "Why did the dockworkers go on strike?",
                       "And what did he say about it?"], ["Dana Whitfield", "over a pay freeze", ""])
    assert out[1] == "Why did the dockworkers go on strike?"
    assert "Whitfield" not in out[2] and "the strike" in out[2]


def test_gender_and_two_people():
    out = rewrite_all(["Who did President Mbeki meet in Lagos?", "What did he promise her?"],
                      ["Chancellor Ingrid Holm", ""])
    assert out[1] == "What did President Mbeki promise Chancellor Ingrid Holm?"


def test_say_that_is_grammatical():
    out = rewrite_all(["What did Blinken press the Kremlin to accept?", "What did Lavrov say about it?",
                       "When did he say that?"], ["the substantive proposal", "x", ""])
    assert out[2] == "When did Lavrov say that about the substantive proposal?"


def test_same_question_ignores_case_spacing_and_punctuation():
    assert same_question("who did  Blinken speak with", "Who did Blinken speak with?")
    assert not same_question("And who won?", "Who won?")
