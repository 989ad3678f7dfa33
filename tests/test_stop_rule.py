"""Choosing the early-stop rule on held-out articles, and shipping it with the reader."""

from __future__ import annotations

import json
import shutil

from qa.readers.extractive import READER_SETTINGS
from qa.readers.staged import StopRule
from qa.training.stop_rule import CachedReader, RuleScore, choose
from tests.conftest import ROOT


def _score(first, bar, f1, declined, read):
    return RuleScore(
        first=first,
        confidence=bar,
        f1=f1,
        declined_unanswerable=declined,
        declined_answerable=5.0,
        passages_read=read,
    )


def test_choose_reads_least_within_tolerance_of_full_reading():
    full = _score(0, None, 70.0, 60.0, 5.0)
    cheap_but_worse = _score(1, 0.3, 68.0, 60.0, 1.5)  # F1 drops 2 points
    declines_less = _score(1, 0.4, 70.0, 58.0, 1.8)  # abstention drops 2 points
    fine = _score(1, 0.6, 69.6, 59.7, 2.4)
    finer_but_dearer = _score(2, 0.6, 70.0, 60.0, 3.0)
    picked = choose(full, [cheap_but_worse, declines_less, fine, finer_but_dearer], tolerance=0.5)
    assert picked == fine


def test_choose_falls_back_to_full_reading_when_nothing_is_close_enough():
    full = _score(0, None, 70.0, 60.0, 5.0)
    assert choose(full, [_score(1, 0.3, 60.0, 50.0, 1.0)], tolerance=0.5) == full


def test_cached_reader_reads_each_pair_once_and_counts_what_was_asked():
    calls = []

    class Reader:
        model_name = "probe"

        def predict(self, questions, contexts):
            calls.append(list(zip(questions, contexts)))
            return [f"{q}|{c}" for q, c in zip(questions, contexts)]

    cached = CachedReader(Reader())
    assert cached.predict(["q1", "q1"], ["a", "b"]) == ["q1|a", "q1|b"]
    assert cached.predict(["q1", "q2"], ["a", "a"]) == ["q1|a", "q2|a"]
    assert calls == [[("q1", "a"), ("q1", "b")], [("q2", "a")]]
    assert cached.pairs == 4
    assert cached.model_name == "probe"


def test_assistant_reads_with_the_rule_shipped_in_the_reader_settings(tmp_path):
    """The rule travels with the model: a reader folder whose settings carry one is read with it."""
    from qa.readers.extractive import ExtractiveReader
    from qa.readers.staged import stop_rule_for

    shipped = ROOT / "models" / "reader"
    reader_dir = tmp_path / "reader"
    reader_dir.mkdir()
    for f in shipped.iterdir():
        if f.name != READER_SETTINGS:
            (reader_dir / f.name).symlink_to(f)
    settings = json.loads((shipped / READER_SETTINGS).read_text())
    settings["early_stop"] = {"first": 1, "confidence": 0.55}
    (reader_dir / READER_SETTINGS).write_text(json.dumps(settings))
    assert stop_rule_for(ExtractiveReader(reader_dir)) == StopRule(first=1, confidence=0.55)

    settings.pop("early_stop")
    (reader_dir / READER_SETTINGS).write_text(json.dumps(settings))
    assert stop_rule_for(ExtractiveReader(reader_dir)) == StopRule()
    shutil.rmtree(reader_dir)


def test_cached_reads_round_trip_through_a_file(tmp_path):
    """Scoring the rules again reuses the reads saved in JSONL instead of reading again."""
    from qa.readers.extractive import ContextPrediction
    from qa.readers.spans import SpanCandidate

    pred = ContextPrediction(
        candidates=[SpanCandidate(context_index=0, start=3, end=9, score=7.5, null_score=1.25, log_prob=-0.5)],
        best_margin=6.25,
    )

    class Reader:
        def predict(self, questions, contexts):
            return [pred for _ in questions]

    first = CachedReader(Reader())
    first.predict(["Who spoke?"], ["Lavrov spoke."])
    first.save(tmp_path / "reads.jsonl")

    class Refuses:
        def predict(self, questions, contexts):
            raise AssertionError("read again")

    again = CachedReader(Refuses())
    again.load(tmp_path / "reads.jsonl")
    assert again.predict(["Who spoke?"], ["Lavrov spoke."]) == [pred]


def test_passages_of_another_date_are_always_read():
    """A sure span does not stop reading while an unread passage comes from a differently dated article."""
    from qa.readers.extractive import ContextPrediction
    from qa.readers.staged import read_ranked

    class Reader:
        def __init__(self):
            self.read = []

        def confidence(self, margin):
            return 0.99 if margin > 0 else 0.01

        def predict(self, questions, contexts):
            self.read += contexts
            return [
                ContextPrediction(candidates=[], best_margin=5.0 if c.startswith("sure") else -1.0) for c in contexts
            ]

    rule = StopRule(first=1, confidence=0.5)
    passages = [["sure 1", "other 2", "other 3"]] * 3
    dates = [
        ["2023-02-07", "2023-02-07", None],  # same date or undated: settled by the first passage
        ["2023-02-07", "2023-02-09", None],  # a newer article is unread: read on
        [None, None, None],
    ]
    for ds, expect in zip(dates, (1, 3, 1)):
        reader = Reader()
        preds = read_ranked(reader, ["q"], passages[:1], rule, dates=[ds])[0]
        assert len(preds) == len(reader.read) == expect, ds
    unsure = Reader()
    assert len(read_ranked(unsure, ["q"], [["not sure", "sure 2", "x"]], rule, dates=[[None] * 3])[0]) == 3
