"""Answers across time: unit tests with made-up spans, and the developing-stories corpus end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.readers.timeline import (
    MAX_BOOST,
    agreement_confidence,
    agrees,
    on_story,
    place_in_time,
    question_names,
    timeline_line,
)
from qa.types import Answer, AnswerSpan, ArticleRef, TimelineEntry, answer_from_json, answer_to_json

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpora" / "developing"
GOLD = ROOT / "tests" / "gold" / "developing.jsonl"
READER = ROOT / "models" / "reader" / "model.safetensors"
needs_reader = pytest.mark.skipif(not READER.is_file(), reason="models/reader is not exported yet")


def span(text: str, confidence: float, date: str | None, *, article: str | None = None, sentence: str = "",
         start: int = 10) -> AnswerSpan:
    ref = ArticleRef(id=article or f"art-{date}", title=f"Report of {date}", date=date)
    s = AnswerSpan(text=text, confidence=confidence, start=start, end=start + len(text), article=ref,
                   passage_id=f"{ref.id}:0", reader_margin=0.0, retrieval_score=1.0)
    SENTENCES[(ref.id, start)] = sentence or f"{text} according to the report of {date}."
    return s


SENTENCES: dict[tuple[str, int], str] = {}


def sentence_of(s: AnswerSpan) -> tuple[str, str]:
    return SENTENCES[(s.article.id, s.start)], ""


def test_agreement_of_answers():
    assert agrees("at least 12 dead", "12 people")
    assert agrees("twelve", "12")
    assert not agrees("5 dead", "12 dead")
    assert agrees("Governor Elena Ruiz", "Elena Ruiz")
    assert not agrees("Elena Ruiz", "Marcus Okafor")
    assert not agrees("$4.5 million", "$6 million")
    assert agrees("3,200", "about 3200 dockworkers")


def test_one_article_gives_no_timeline():
    best = span("14", 0.8, "2023-02-09")
    other = span("fourteen people", 0.5, "2023-02-09", article=best.article.id, start=40)
    t = place_in_time(ranked=[best, other], threshold=0.2, sentence_of=sentence_of)
    assert t.lead is best and t.entries == [] and t.confidence == 0.8


def test_newest_well_supported_answer_leads_and_earlier_figures_are_listed():
    ranked = [span("5 dead", 0.7, "2023-02-06"), span("at least 12 dead", 0.6, "2023-02-07"),
              span("two", 0.55, "2023-02-05")]
    t = place_in_time(ranked=ranked, threshold=0.2, sentence_of=sentence_of)
    assert t.lead is ranked[1]
    assert [e.text for e in t.entries] == ["at least 12 dead", "5 dead", "two"]
    assert [e.agrees_with_best for e in t.entries] == [True, False, False]
    assert t.confidence == 0.6  # disagreement is shown, not counted against the answer
    assert timeline_line(t.entries) == "at least 12 dead (2023-02-07) · earlier: 5 dead (2023-02-06), two (2023-02-05)"


def test_a_much_weaker_newer_answer_does_not_lead_unless_the_question_asks_for_the_latest():
    ranked = [span("12-kilometre", 0.42, "2022-09-12"), span("six weeks", 0.29, "2022-09-16"),
              span("$6 million", 0.15, "2022-09-23")]
    t = place_in_time(ranked=ranked, threshold=0.2, sentence_of=sentence_of)
    assert t.lead is ranked[0] and [e.text for e in t.entries] == ["12-kilometre", "six weeks"]
    assert timeline_line(t.entries) == "12-kilometre (2022-09-12) · later: six weeks (2022-09-16)"
    latest = place_in_time(ranked=ranked, threshold=0.2, sentence_of=sentence_of, order="newest")
    assert latest.lead is ranked[1]  # below the threshold, $6 million is no answer at all
    oldest = place_in_time(ranked=ranked[::-1], threshold=0.1, sentence_of=sentence_of, order="oldest")
    assert oldest.lead.text == "12-kilometre"


def test_agreement_raises_confidence_boundedly_and_copies_count_once():
    same = "Marcus Okafor, the union president, said the deal was fair."
    ranked = [span("Marcus Okafor", 0.7, "2022-08-03", sentence="Union president Marcus Okafor said on Tuesday."),
              span("Marcus Okafor", 0.6, "2022-07-31", sentence=same),
              span("union president Marcus Okafor", 0.6, "2022-07-30", sentence=same)]
    t = place_in_time(ranked=ranked, threshold=0.2, sentence_of=sentence_of)
    assert all(e.agrees_with_best for e in t.entries)
    # Two agreeing articles, but their sentences are one report copied: one witness.
    assert t.confidence == pytest.approx(agreement_confidence(0.7, [0.6]))
    assert 0.7 < t.confidence <= 0.7 + MAX_BOOST
    assert timeline_line(t.entries) == "Marcus Okafor (2022-08-03), also in 2 other articles"


@pytest.mark.parametrize("confidence, witnesses", [(0.1, [0.99] * 20), (0.5, [0.9, 0.9]), (0.95, [0.9]),
                                                   (0.7, []), (0.0, [0.0])])
def test_agreement_boost_is_bounded(confidence, witnesses):
    c = agreement_confidence(confidence, witnesses)
    assert confidence <= c <= min(1.0, confidence + MAX_BOOST)
    assert c <= 1.0
    if not witnesses:
        assert c == confidence


def test_timeline_entries_resolve_day_names_and_undated_articles_sort_last():
    ranked = [span("Saturday", 0.5, "2022-09-12"), span("Monday", 0.6, None)]
    t = place_in_time(ranked=ranked, threshold=0.2, sentence_of=sentence_of)
    assert t.lead.text == "Saturday" and t.entries[0].resolved_date == "2022-09-10"
    assert t.entries[1].date is None and t.entries[1].resolved_date is None
    assert timeline_line(t.entries) == "Saturday (2022-09-10, reported 2022-09-12) · earlier: Monday (undated)"


def test_timeline_and_time_fields_survive_the_json_form():
    entry = TimelineEntry(text="14", article=ArticleRef(id="a", title="t", date="2023-02-09"), date="2023-02-09",
                          confidence=0.5, start=1, end=3, agrees_with_best=True)
    from qa.types import TimeScope

    answer = Answer(question="What is the latest toll?", text="14", timeline=[entry], resolved_date=None,
                    time=TimeScope(words=("the latest",), anchor="2023-02-09", order="newest"))
    data = json.loads(json.dumps(answer_to_json(answer)))
    assert data["version"] == 1 and data["timeline"][0]["agrees_with_best"] is True
    back = answer_from_json(data)
    assert back.timeline == [entry] and back.time == answer.time
    # Older files without the fields still read.
    old = {k: v for k, v in data.items() if k not in ("timeline", "resolved_date", "time")}
    assert answer_from_json(old).timeline == [] and answer_from_json(old).time is None


# -- the developing-stories corpus with the real Assistant ---------------------

@pytest.fixture(scope="module")
def developing(tmp_path_factory):
    from qa import Assistant

    return Assistant.from_paths([CORPUS], index_dir=tmp_path_factory.mktemp("developing-index"))


@needs_reader
@pytest.mark.slow
def test_latest_question_gets_the_newest_figure_with_earlier_ones_listed(developing):
    answer = developing.ask("What is the latest death toll from Storm Maren?")
    assert answer.text == "14" and answer.article.date == "2023-02-09"
    assert answer.time.order == "newest" and answer.time.anchor == "2023-02-09"
    assert answer.timeline[0].text == "14"
    earlier = [e for e in answer.timeline[1:] if not e.agrees_with_best]
    assert earlier and all(e.date < "2023-02-09" for e in earlier)
    assert timeline_line(answer.timeline).startswith("14 (2023-02-09) · earlier: ")


@needs_reader
@pytest.mark.slow
def test_day_name_answers_resolve_against_their_article(developing):
    answer = developing.ask("When did the union and the Port Authority reach a deal to end the strike?")
    assert answer.text.endswith("Friday") and answer.article.date == "2022-07-31"
    assert answer.resolved_date == "2022-07-29"


@needs_reader
@pytest.mark.slow
def test_day_in_question_narrows_the_search_and_as_of_moves_the_anchor(developing):
    answer = developing.ask("What did Governor Ruiz ask the federal government for on Monday?")
    assert answer.text == "disaster aid" and answer.time.date_from == "2023-02-06"
    dates = {developing.article(rp.passage.article_id).date for rp in answer.passages}
    assert dates and all("2023-02-06" <= d <= "2023-02-08" for d in dates)
    # As of 2022-07-31 (a Sunday) "latest" means the newest article up to that day.
    then = developing.ask("What is the latest pay offer in the Bellmare strike?", as_of="2022-07-31")
    assert then.time.anchor == "2022-07-31" and then.time.date_to == "2022-07-31"
    assert all(developing.article(rp.passage.article_id).date <= "2022-07-31" for rp in then.passages)


@needs_reader
@pytest.mark.slow
def test_ask_many_answers_time_questions_as_ask_does(developing):
    """A batch (scripts, the HTTP server's micro-batching) reads time words too: same answers as ``ask``."""
    from qa.types import answer_to_json

    questions = [
        "What is the latest death toll from Storm Maren?",
        "How many people had died from Storm Maren?",
        "What did Governor Ruiz ask the federal government for on Monday?",
        "What is the latest pay offer in the Bellmare strike?",
    ]
    batched = list(developing.ask_many(questions))
    alone = [developing.ask(q) for q in questions]
    assert [a.text for a in batched] == [a.text for a in alone]
    for b, a in zip(batched, alone):
        b.timings = a.timings = {}
        assert answer_to_json(b) == answer_to_json(a)
    assert batched[0].time is not None and batched[0].time.order == "newest"
    assert batched[1].time is None


def _developing_answer() -> Answer:
    from qa.types import TimeScope

    day = ArticleRef(id="b", title="Dock strike ends", date="2022-07-31", section="Business")
    earlier = ArticleRef(id="c", title="Port raises offer", date="2022-07-28", section="Business")
    return Answer(question="When was the latest deal reached?", text="Friday", confidence=0.74, article=day,
                  start=60, end=66, sentence="The union reached a deal on Friday.", sentence_start=30,
                  resolved_date="2022-07-29",
                  timeline=[TimelineEntry(text="Friday", article=day, date=day.date, confidence=0.74, start=60,
                                          end=66, agrees_with_best=True, resolved_date="2022-07-29"),
                            TimelineEntry(text="Wednesday", article=earlier, date=earlier.date, confidence=0.4,
                                          start=5, end=14, agrees_with_best=False, resolved_date="2022-07-27")],
                  time=TimeScope(words=("the latest",), anchor="2023-02-09", order="newest"))


def test_command_line_shows_the_resolved_day_the_timeline_and_the_time_scope():
    from tui.cli import format_answer

    text = format_answer(_developing_answer())
    assert "Answer: Friday (2022-07-29)" in text
    assert ("Timeline: Friday (2022-07-29, reported 2022-07-31) · earlier: Wednesday (2022-07-27, reported "
            "2022-07-28)") in text
    assert "When: “the latest” · newest answer first · as of 2023-02-09" in text


def test_answer_card_shows_a_compact_timeline_line():
    from tui.widgets.answer_card import AnswerCard

    shown = AnswerCard.render_answer(_developing_answer(), {}).plain
    assert "Friday (2022-07-29)" in shown
    assert "Over time: Friday (2022-07-29, reported 2022-07-31) · earlier: Wednesday" in shown
    assert "When: “the latest”" in shown
    plain = AnswerCard.render_answer(Answer(question="Who?", text="Lavrov", confidence=0.8,
                                            article=ArticleRef(id="a", title="t")), {}).plain
    assert "Over time" not in plain and "When:" not in plain


def test_only_articles_on_the_questions_story_take_part():
    texts = {"art-2022-09-16": "Repairs to the Hollins Bridge will cost $4.5 million.",
             "art-2023-02-07": "Storm Maren damage would cost $300 million to repair."}
    ranked = [span("$4.5 million", 0.55, "2022-09-16"), span("$300 million", 0.2, "2023-02-07")]
    question = "What is the latest cost estimate for repairing the Hollins Bridge?"
    assert question_names(question) == {"hollins", "bridge"}
    t = place_in_time(ranked=ranked, threshold=0.2, sentence_of=sentence_of, order="newest", question=question,
                      text_of=lambda s: texts[s.article.id])
    assert t.lead is ranked[0] and t.entries == []
    assert on_story("anything at all", set()) and not on_story("Storm Maren", {"hollins", "bridge"})


# Quality floors on the developing-stories gold, a few points under what the shipped reader measured
# (open mode): EM 81.0 / F1 85.0 / recall@5 100 over 42 questions (35 answerable, 7 not).
DEVELOPING_EM_FLOOR = 76.0
DEVELOPING_F1_FLOOR = 80.0
DEVELOPING_RECALL5_FLOOR = 95.0


def test_developing_gold_is_well_formed():
    from qa.evaluation.gold import load_gold

    items = load_gold(GOLD)
    assert len(items) >= 40 and sum(not g.answerable for g in items) >= 5
    assert len({g.id for g in items}) == len(items)
    for g in items:
        if g.answerable:
            text = (CORPUS / g.article).read_text(encoding="utf-8")
            assert all(a in text for a in g.answers), g.id


@needs_reader
@pytest.mark.slow
def test_developing_gold_floor_open_mode(developing):
    from qa import evaluate

    report = evaluate(developing, GOLD, mode="open")
    assert report.retrieval["recall@5"] >= DEVELOPING_RECALL5_FLOOR, report.retrieval
    assert report.f1 >= DEVELOPING_F1_FLOOR, report.metrics
    assert report.exact_match >= DEVELOPING_EM_FLOOR, report.metrics


def test_a_window_without_articles_gives_way_to_the_callers_dates():
    """An event's date in a question ("met in Geneva in June 2021") need not be any article's date."""
    from qa.retrievers.filters import Filters
    from qa.timeexpr import question_time, scope_line, without_window

    question = "Which presidents met in Geneva in June 2021?"
    when, narrowed = question_time(question, filters=None, as_of=None, newest=lambda: "2022-07-31")
    assert (narrowed.date_from, narrowed.date_to) == ("2021-06-01", "2021-06-30")
    wide, filters = without_window(when, question, filters=None, as_of=None)
    assert wide.widened and (filters.date_from, filters.date_to) == (None, None)
    assert wide.search_text == question  # the words now describe the event: searched with it
    assert "no article dated in that window, so the question searched every date" in scope_line(wide.scope())
    # The caller's own dates (and as_of) still hold.
    when, _ = question_time(question, filters=Filters(date_from="2020-01-01"), as_of="2022-12-31", newest=lambda: None)
    wide, filters = without_window(when, question, filters=Filters(date_from="2020-01-01"), as_of="2022-12-31")
    assert (filters.date_from, filters.date_to) == ("2020-01-01", "2022-12-31")
    assert "searched articles dated 2020-01-01 to 2022-12-31" in scope_line(wide.scope())
    # Nothing to widen when the question only orders ("latest") or only as_of bounds it.
    latest, _ = question_time("What is the latest toll?", filters=None, as_of=None, newest=lambda: "2023-02-09")
    assert without_window(latest, "What is the latest toll?", filters=None, as_of=None) is None
    anchored, _ = question_time("Who resigned?", filters=None, as_of="2023-01-01", newest=lambda: None)
    assert without_window(anchored, "Who resigned?", filters=None, as_of="2023-01-01") is None


def test_a_widened_scope_survives_the_json_form_and_later_fields_are_ignored():
    from qa.types import TimeScope

    answer = Answer(question="q", time=TimeScope(words=("in June 2021",), anchor="2022-07-31", widened=True))
    data = json.loads(json.dumps(answer_to_json(answer)))
    assert data["time"]["widened"] is True and answer_from_json(data).time == answer.time
    data["time"]["added_later"] = 1
    data["article"] = {"id": "a", "title": "t", "added_later": 2}
    back = answer_from_json(data)
    assert back.time == answer.time and back.article == ArticleRef(id="a", title="t")


@needs_reader
@pytest.mark.slow
def test_an_event_date_no_article_carries_still_finds_the_article_that_reports_it(seed_assistant):
    answer = seed_assistant.ask("Which presidents met in Geneva in June 2021?")
    assert answer.passages, "the question searched nothing"
    assert answer.time.widened and answer.time.date_from is None
    assert all(seed_assistant.article(rp.passage.article_id).date > "2021-06-30" for rp in answer.passages)
