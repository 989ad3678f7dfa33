"""Wire copies: near-duplicate articles grouped at indexing and answered once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.dedup import THRESHOLD, copies_of, one_per_group, wire_groups
from qa.types import Answer, AnswerSpan, Article, ArticleRef, answer_from_json, answer_to_json

WIRE = ("Rescue teams in southern Turkey pulled more survivors from collapsed buildings on Tuesday as the death "
        "toll from Monday's earthquake rose to at least 5,000 people, the country's disaster agency said. The "
        "magnitude 7.8 quake struck before dawn near the city of Gaziantep and was followed by a second strong "
        "tremor in the afternoon. Thousands of buildings were destroyed across ten provinces, and freezing "
        "temperatures hampered the search for people trapped under the rubble. More than 24,000 emergency "
        "workers were deployed, and teams from over twenty countries, including search dogs and medical units, "
        "were on their way. Hospitals in the region were overwhelmed, and many survivors spent the night in "
        "cars or around fires in the streets. The government declared seven days of national mourning and a "
        "state of emergency in the worst affected provinces, where schools will stay closed for a week.")

# (file name, date, outlet's headline, small edits the outlet made)
COPIES = [
    ("courier.txt", "2023-02-07", "Turkey quake toll passes 5,000", []),
    ("gazette.txt", "2023-02-07", "Earthquake: thousands dead as rescuers race the cold",
     [("the country's disaster agency said", "according to the disaster agency")]),
    ("herald.txt", "2023-02-08", "Death toll climbs in Turkey",
     [("over twenty countries", "more than 20 countries")]),
]
FOURTH = ("tribune.txt", "2023-02-06", "Turkey earthquake: the latest", [("Tuesday", "Tuesday evening")])
SAME_EVENT = ("2023-02-07", "A town under the rubble",
              "In Antakya, whole streets of apartment blocks have collapsed. Residents dug with their hands on "
              "Tuesday, calling the names of neighbours, while volunteers handed out blankets and soup. A "
              "teacher said she had lost her home and her school in the earthquake, and did not know where "
              "her pupils were. Aid trucks reached the city centre only late in the day, and the survivors "
              "said they felt forgotten as the cold set in over the ruined province.")


def article(name: str, date: str, title: str, edits: list[tuple[str, str]]) -> Article:
    body = WIRE
    for old, new in edits:
        assert old in body
        body = body.replace(old, new)
    return Article(id=name.split(".")[0], title=title, text=f"{title}\n\n{body}", date=date, path=name)


def write(folder: Path, name: str, date: str, title: str, body: str) -> None:
    (folder / name).write_text(f"date {date} World\n{title}\n\n{body}\n", encoding="utf-8")


def copy_body(edits) -> str:
    body = WIRE
    for old, new in edits:
        body = body.replace(old, new)
    return body


def test_copies_grouped_under_the_earliest_article_and_others_left_alone():
    arts = {a.id: a for a in [article(*c) for c in COPIES]}
    arts["antakya"] = Article(id="antakya", title=SAME_EVENT[1], text=SAME_EVENT[1] + "\n\n" + SAME_EVENT[2],
                              date=SAME_EVENT[0])
    arts["stub"] = Article(id="stub", title="Brief", text="Brief\n\nRescue teams in southern Turkey.")
    groups = wire_groups(arts)
    assert groups == {"courier": "courier", "gazette": "courier", "herald": "courier"}
    assert wire_groups(arts) == groups  # the same articles always give the same groups
    assert 0.5 < THRESHOLD < 1


def test_group_ids_are_stable_when_copies_come_and_go():
    arts = {a.id: a for a in [article(*c) for c in COPIES]}
    first = wire_groups(arts)
    earlier = article(*FOURTH)  # dated before the others, yet joins their group under its old id
    more = wire_groups({**arts, earlier.id: earlier}, previous=first)
    assert set(more.values()) == {"courier"} and more["tribune"] == "courier"
    fewer = {k: v for k, v in arts.items() if k != "courier"}  # the article the group is named after goes
    assert set(wire_groups(fewer, previous=more).values()) == {"courier"}
    assert wire_groups(fewer) == {"gazette": "gazette", "herald": "gazette"}  # a fresh index names it anew


def _span(aid: str, text: str, conf: float) -> AnswerSpan:
    return AnswerSpan(text=text, confidence=conf, start=0, end=len(text), passage_id=f"{aid}:0",
                      article=ArticleRef(id=aid, title=aid), reader_margin=1.0, retrieval_score=1.0)


def test_one_span_per_group_and_copies_listed():
    groups = {"a": "a", "b": "a", "c": "a"}
    spans = [_span("b", "at least 5,000", 0.9), _span("a", "At least  5,000", 0.8), _span("x", "at least 5,000", 0.7),
             _span("c", "Gaziantep", 0.5)]
    kept = one_per_group(spans, groups=groups)
    assert [(s.article.id, s.text) for s in kept] == [("b", "at least 5,000"), ("x", "at least 5,000"),
                                                      ("c", "Gaziantep")]
    arts = {a.id: a for a in [article(*c) for c in COPIES]}
    refs = copies_of("gazette", groups=wire_groups(arts), articles=arts)
    assert [r.id for r in refs] == ["courier", "herald"]
    assert copies_of("nowhere", groups={}, articles=arts) == []


def test_copies_survive_the_json_form_and_older_answers_have_none():
    answer = Answer(question="q", text="5,000", copies=[ArticleRef(id="b", title="B", date="2023-02-07")])
    again = answer_from_json(json.loads(json.dumps(answer_to_json(answer))))
    assert again.copies == answer.copies
    old = answer_to_json(answer)
    del old["copies"]
    assert answer_from_json(old).copies == []


@pytest.mark.slow
def test_three_wire_copies_answer_once_citing_the_group(tmp_path):
    from qa import Assistant
    from qa.store.index_store import IndexStore
    from tui.cli import format_answer

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, date, title, edits in COPIES:
        write(docs, name, date, title, copy_body(edits))
    write(docs, "antakya.txt", *SAME_EVENT)
    assistant = Assistant(tmp_path / "index")
    assistant.index([docs])
    groups = IndexStore(tmp_path / "index").load().groups  # kept in the generation's metadata
    by_path = {Path(a.path).name: a.id for a in assistant.articles()}
    wire_ids = {by_path[c[0]] for c in COPIES}
    assert set(groups) == wire_ids and len(set(groups.values())) == 1
    gid = next(iter(groups.values()))
    assert gid == min(by_path["courier.txt"], by_path["gazette.txt"])  # the earliest (by date, then id)

    answer = assistant.ask("What magnitude was the earthquake near Gaziantep?")
    assert "7.8" in answer.text
    cited = {answer.article.id, *(c.id for c in answer.copies)}
    assert cited == wire_ids and len(answer.copies) == 2
    assert not [s for s in answer.alternatives if "7.8" in s.text]  # answered once, not once per copy
    printed = format_answer(answer)
    assert "and 2 other outlets" in printed, printed

    write(docs, *FOURTH[:3], copy_body(FOURTH[3]))  # a fourth outlet joins the same group
    assistant.index([docs])
    again = IndexStore(tmp_path / "index").load().groups
    assert len(again) == 4 and set(again.values()) == {gid}
    assert len(assistant.ask("What magnitude was the earthquake near Gaziantep?").copies) == 3
