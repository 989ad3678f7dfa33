import pytest

from qa import Filters


@pytest.mark.parametrize("question,needle", [
    ("Who pressed the Kremlin about Paul Whelan and Brittney Griner?", "Whelan"),
    ("Where did Putin and Biden meet in June 2021?", "Geneva"),
    ("How long did the call last?", "25 minutes"),
    ("What would Russia face if it annexed more of Ukraine?", "annex"),
])
def test_right_passage_first(seed_assistant, question, needle):
    hits = seed_assistant.retrieve(question, top_k=3)
    assert needle in hits[0].passage.text
    assert hits[0].rank == 1 and hits[0].score >= hits[-1].score


def test_filters(seed_assistant):
    assert seed_assistant.retrieve("Blinken", filters=Filters(sections=("Sport",))) == []
    assert seed_assistant.retrieve("Blinken", filters=Filters(date_from="2022-07-01", date_to="2022-07-31"))
    assert seed_assistant.retrieve("Blinken", filters=Filters(date_from="2023-01-01")) == []
