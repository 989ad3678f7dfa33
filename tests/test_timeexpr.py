"""Time words in questions and day names in article text (no model involved)."""

from __future__ import annotations

import datetime as dt

import pytest

from qa.errors import InvalidInputError
from qa.retrievers.filters import Filters
from qa.timeexpr import Order, newest_date, question_time, read_time, resolve_day
from qa.types import Article

#: A Thursday.
ANCHOR = "2023-02-09"


@pytest.mark.parametrize("question, date_from, date_to", [
    ("What did the governor say on Monday?", "2023-02-06", "2023-02-08"),
    ("What did the governor say on Thursday?", "2023-02-09", "2023-02-09"),   # the anchor day itself
    ("What did the governor say last Thursday?", "2023-02-02", "2023-02-04"),
    ("What was approved yesterday?", "2023-02-08", "2023-02-09"),
    ("What was approved today?", "2023-02-09", "2023-02-09"),
    ("What happened this week?", "2023-02-06", "2023-02-09"),
    ("What happened last week?", "2023-01-30", "2023-02-05"),
    ("What happened in the past week?", "2023-02-03", "2023-02-09"),
    ("What happened last month?", "2023-01-01", "2023-01-31"),
    ("What happened this month?", "2023-02-01", "2023-02-09"),
    ("What happened last year?", "2022-01-01", "2022-12-31"),
    ("What did the port offer in July?", "2022-07-01", "2022-07-31"),   # July not yet come: last year's
    ("What happened in January?", "2023-01-01", "2023-01-31"),
    ("What happened in July 2021?", "2021-07-01", "2021-07-31"),
    ("What happened in 2022?", "2022-01-01", "2022-12-31"),
    ("What happened on July 29?", "2022-07-29", "2022-07-31"),
    ("What happened on 29 July 2022?", "2022-07-29", "2022-07-31"),
    ("What happened on 2022-07-29?", "2022-07-29", "2022-07-31"),
    ("What has changed since Monday?", "2023-02-06", "2023-02-09"),
    ("What has changed since July?", "2022-07-01", "2023-02-09"),
    ("What happened in the last 3 days?", "2023-02-07", "2023-02-09"),
])
def test_windows_relative_to_the_anchor(question, date_from, date_to):
    q = read_time(question, anchor=ANCHOR)
    assert q.found and (q.date_from, q.date_to) == (date_from, date_to), q
    assert q.order is None


@pytest.mark.parametrize("question, order", [
    ("What is the latest death toll?", Order.NEWEST),
    ("What is the most recent figure?", Order.NEWEST),
    ("How many have died so far?", Order.NEWEST),
    ("How many ships are waiting now?", Order.NEWEST),
    ("Who is currently in charge?", Order.NEWEST),
    ("What did the union originally demand?", Order.OLDEST),
    ("What was initially offered?", Order.OLDEST),
])
def test_orderings(question, order):
    q = read_time(question, anchor=ANCHOR)
    assert q.order is order and q.date_from is None and q.date_to is None


def test_time_words_are_taken_out_of_the_search_text_only():
    q = read_time("What is the latest death toll from the storm?", anchor=ANCHOR)
    assert q.search_text == "What is death toll from the storm?"
    assert q.words == ("the latest",)
    assert read_time("What happened yesterday?", anchor=ANCHOR).search_text == "What happened?"
    # Nothing but time words: the whole question stays.
    assert read_time("Yesterday?", anchor=ANCHOR).search_text == "Yesterday?"


@pytest.mark.parametrize("question", [
    "Who is the president of the union?",
    "How many people known to be missing?",        # "now" inside a word
    "What did the Mayday Parade sing?",            # a month inside a word
    "Who won the May election?",                   # a month without "in"
])
def test_questions_without_time_words(question):
    q = read_time(question, anchor=ANCHOR)
    assert not q.found and q.search_text == question


def test_windows_that_exclude_each_other_keep_the_first():
    q = read_time("What happened on Monday in July?", anchor=ANCHOR)
    assert (q.date_from, q.date_to) == ("2023-02-06", "2023-02-08")
    q = read_time("What happened in July on Monday?", anchor=ANCHOR)
    assert (q.date_from, q.date_to) == ("2022-07-01", "2022-07-31")


def test_question_time_merges_with_the_callers_filters():
    newest = lambda: ANCHOR  # noqa: E731
    q, f = question_time("What happened last week?", filters=Filters(sections=("Weather",)), as_of=None,
                         newest=newest)
    assert (f.date_from, f.date_to, f.sections) == ("2023-01-30", "2023-02-05", ("Weather",))
    # The caller's dates narrow further ...
    _, f = question_time("What happened last week?", filters=Filters(date_from="2023-02-01"), as_of=None,
                         newest=newest)
    assert (f.date_from, f.date_to) == ("2023-02-01", "2023-02-05")
    # ... and win when they exclude the question's window.
    _, f = question_time("What happened last week?", filters=Filters(date_from="2022-07", date_to="2022-07"),
                         as_of=None, newest=newest)
    assert (f.date_from, f.date_to) == ("2022-07-01", "2022-07-31")
    # No time words, no as_of: nothing changes and the newest date is never looked up.
    q, f = question_time("Who is the governor?", filters=None, as_of=None, newest=lambda: 1 / 0)
    assert q is None and f is None


def test_as_of_moves_the_anchor_and_caps_the_search():
    q, f = question_time("What did the union say on Friday?", filters=None, as_of="2022-07-31",
                         newest=lambda: ANCHOR)
    assert q.anchor == "2022-07-31" and (f.date_from, f.date_to) == ("2022-07-29", "2022-07-31")
    q, f = question_time("What is the latest offer?", filters=None, as_of="2022-07", newest=lambda: ANCHOR)
    assert q.order is Order.NEWEST and f.date_to == q.date_to == "2022-07-31" and f.date_from is None
    q, f = question_time("Who leads the union?", filters=None, as_of="2022-07-28", newest=lambda: ANCHOR)
    assert not q.found and f.date_to == "2022-07-28"
    assert q.scope().anchor == "2022-07-28"
    with pytest.raises(InvalidInputError, match="as-of"):
        question_time("What now?", filters=None, as_of="last Tuesday", newest=lambda: ANCHOR)


def test_anchor_falls_back_when_no_article_has_a_usable_date():
    q, _ = question_time("What happened yesterday?", filters=None, as_of=None, newest=lambda: None)
    assert q.anchor == dt.date.today().isoformat()
    q, _ = question_time("What happened yesterday?", filters=None, as_of=None, newest=lambda: "2022-13-45")
    assert q.anchor == dt.date.today().isoformat()


def test_newest_date():
    arts = [Article(id="a", title="t", text="x", date="2022-07-31"), Article(id="b", title="t", text="x"),
            Article(id="c", title="t", text="x", date="2023-02-09T10:00:00")]
    assert newest_date(arts) == "2023-02-09"
    assert newest_date([Article(id="b", title="t", text="x")]) is None


@pytest.mark.parametrize("span, before, article_date, resolved", [
    ("Friday", "", "2022-07-31", "2022-07-29"),                 # a Sunday article: the Friday before
    ("on Friday", "reached a deal", "2022-07-29", "2022-07-29"),  # the article's own day
    ("Sunday", "", "2022-07-31", "2022-07-31"),
    ("on Monday", "work at the port will resume", "2022-07-31", "2022-08-01"),   # future cue
    ("next Tuesday", "", "2022-07-31", "2022-08-02"),
    ("last Sunday", "", "2022-07-31", "2022-07-24"),
    ("yesterday", "", "2022-07-31", "2022-07-30"),
    ("late on Saturday", "came ashore near Port Alder", "2023-02-05", "2023-02-04"),
    ("Tuesday", "Members will vote on the deal on", "2022-07-31", "2022-08-02"),
])
def test_day_names_in_articles_resolve_against_the_article_date(span, before, article_date, resolved):
    assert resolve_day(span, article_date=article_date, before=before) == resolved


@pytest.mark.parametrize("span, article_date", [
    ("12 dead", "2022-07-31"), ("Friday", None), ("Friday", "not a date"), ("", "2022-07-31"),
])
def test_no_day_no_date_no_resolution(span, article_date):
    assert resolve_day(span, article_date=article_date) is None


@pytest.mark.parametrize("before, resolved", [
    ("The Hollins Bridge will reopen to cars in one lane on", "2022-09-26"),   # cue far back in the clause
    ("The city said it will decide soon, and the bridge closed on", "2022-09-23"),  # cue in another clause
    ("Commissioner Mehta said on", "2022-09-23"),
])
def test_tense_is_read_from_the_clause_before_the_day(before, resolved):
    # 2022-09-23 is a Friday; "Monday"/"Friday" below resolve forwards only after a future cue.
    day = "Monday" if "will reopen" in before else "Friday"
    assert resolve_day(day, article_date="2022-09-23", before=before) == resolved
