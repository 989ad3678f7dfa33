"""Each kind of unanswerable pair: built as described, seeded, and split by article."""

import json

import pytest

from qa.training.data import QAExample
from tests.conftest import SHARED

SQUAD20 = SHARED / "data" / "squad20"

CTX = ("Chopin was born in Warsaw in 1810. He moved to Paris in 1831, where he taught the piano. "
       "He was the first Polish composer to become famous in France.")
OTHER = "Liszt admired Chopin. In 1836 Chopin met George Sand in Paris. Sand wrote novels."


def row(q, answer, ctx=CTX, title="Chopin"):
    return QAExample(q, ctx, title, answer, ctx.index(answer), (answer,))


def test_mentions_finds_dates_numbers_and_names():
    from qa.training.negatives import mentions

    m = mentions("When did Frédéric Chopin move to Paris in March 1831 with 2,000 francs?")
    assert m["date"] == ["March 1831"]
    assert m["number"] == ["2,000"]
    assert "Frédéric Chopin" in m["entity"] and "Paris" in m["entity"] and "When" not in m["entity"]


def test_entity_swap_replaces_a_mention_in_the_paragraph_with_one_from_elsewhere_in_the_article():
    from qa.training.negatives import make_entity_swaps

    q = "In which year did Chopin move to Paris?"
    rows = [row(q, "1831"), QAExample(q, OTHER, "Chopin", None, None)]
    neg = next(n for n in make_entity_swaps(rows, 1.0, seed=3) if n.context == CTX)
    assert neg.answer_start is None and neg.question != q
    # One mention changed; the new one comes from the other paragraph and is absent from this one.
    new = [w for w in neg.question.rstrip("?").split() if w not in q]
    assert new and all(w in OTHER and w not in CTX for w in new)


def test_entity_swap_skips_questions_with_nothing_to_swap():
    from qa.training.negatives import make_entity_swaps

    assert make_entity_swaps([row("what did he teach?", "the piano")], 1.0, seed=1) == []


def test_antonym_flip_needs_the_positive_in_the_paragraph():
    from qa.training.negatives import flip_antonym, make_negation_flips

    assert flip_antonym("Who was the first Polish composer?", CTX) == "Who was the last Polish composer?"
    assert flip_antonym("Who was the first one?", "He was first and last.") is None
    [neg] = make_negation_flips([row("Who was the first Polish composer to become famous in France?", "He")],
                                1.0, seed=1)
    assert neg.question.startswith("Who was the last") and neg.answer_start is None


def test_negation_inserts_not_after_the_auxiliary():
    from qa.training.negatives import make_negation_flips, negate

    assert negate("Who was born in Warsaw?") == "Who was not born in Warsaw?"
    assert negate("Where did Chopin teach the piano?") == "Where did Chopin not teach the piano?"
    assert negate("How many pianos?") is None
    negated_ctx = "Chopin did not teach in Warsaw. He taught in Paris."
    assert make_negation_flips([row("Where did Chopin teach?", "Warsaw", negated_ctx)], 1.0, 1) == []


def test_same_article_negative_is_another_paragraph_without_the_answer():
    from qa.training.negatives import make_same_article_negatives

    third = "Chopin died in Paris. 1831 was his year of arrival."
    rows = [row("When did Chopin move to Paris?", "1831"), row("Who did Chopin meet?", "George Sand", OTHER),
            QAExample("q?", third, "Chopin", "x", 0)]
    negs = make_same_article_negatives(rows[:1] + rows[1:], 1.0, seed=2)
    first = [n for n in negs if n.question == rows[0].question]
    assert first and first[0].context == OTHER  # the third paragraph holds "1831"
    assert all(n.answer_start is None and n.title == "Chopin" for n in negs)


def test_build_negatives_is_deterministic_and_keyed_by_kind():
    from qa.training.negatives import KINDS, NegativeMix, build_negatives

    rows = [row("When did Chopin move to Paris?", "1831"), row("Who was the first Polish composer?", "He"),
            row("Who did Chopin meet in 1836?", "George Sand", OTHER, "Chopin")]
    rows += [QAExample("Who ruled Rome?", "Augustus ruled Rome. It was large.", "Rome", "Augustus", 0)]
    mix = NegativeMix(1.0, 1.0, 1.0, 1.0, 1.0, 0.0)
    a, b = build_negatives(rows, mix, 5), build_negatives(rows, mix, 5)
    assert tuple(a) == KINDS and a == b
    assert all(n.answer_start is None for kind in a.values() for n in kind)


def test_held_out_titles_is_a_fixed_count_by_seeded_hash():
    from qa.training.negatives import held_out_titles, split_squad20

    titles = [f"t{i}" for i in range(14)]
    held = held_out_titles(titles, 4, 13)
    assert len(held) == 4 and held == held_out_titles(list(reversed(titles)), 4, 13)
    rows = [QAExample("q", "c", t, None, None) for t in titles for _ in range(3)]
    train, test = split_squad20(rows, 4, 13)
    assert len(test) == 12 and not ({r.title for r in train} & {r.title for r in test})


@pytest.mark.skipif(not (SQUAD20 / "dev-half-14-articles-unanswerable.json").is_file(),
                    reason="../shared/data/squad20 is not present")
def test_squad20_unanswerables_load_and_split_by_article():
    from qa.training.negatives import load_squad20_unanswerable, split_squad20

    rows = load_squad20_unanswerable(SQUAD20 / "dev-half-14-articles-unanswerable.json")
    assert len(rows) == 2835 and all(r.answer_start is None for r in rows)
    train, held = split_squad20(rows, 4, 13)
    assert len({r.title for r in held}) == 4 and len({r.title for r in train}) == 10
    first10 = load_squad20_unanswerable(SQUAD20 / "train-first-10-articles.json")
    assert len(first10) == 348


def test_squad20_loader_keeps_only_impossible_questions(tmp_path):
    from qa.training.negatives import load_squad20_unanswerable

    data = {"data": [{"title": "T", "paragraphs": [{"context": "abc", "qas": [
        {"question": "a?", "answers": [{"text": "abc", "answer_start": 0}], "is_impossible": False},
        {"question": "b?", "answers": [], "is_impossible": True}]}]}]}
    p = tmp_path / "s.json"
    p.write_text(json.dumps(data))
    assert [r.question for r in load_squad20_unanswerable(p)] == ["b?"]
