"""The no-answer decision: features, fitting, the stored file and the answer-builder hook."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from qa.readers.decision import (
    ALL_FEATURES,
    DECISION_FILE,
    FEATURE_VERSION,
    NoAnswerDecision,
    expected_type,
    span_features,
)
from qa.readers.spans import SpanCandidate
from qa.training.decision_fit import fit_and_report, fit_logistic, operating_point, pair_table
from qa.training.heldout_pairs import ReadPair, ReadSpan, load_pairs, save_pairs

CONTEXT = ("Blinken spoke with Lavrov on Friday. The call lasted approximately 25 minutes. "
           "Lavrov was visiting Uzbekistan at the time.")


def _features(question: str, answer: str, margin: float = 2.0) -> dict[str, float]:
    start = CONTEXT.index(answer)
    return span_features(question=question, context=CONTEXT, start=start, end=start + len(answer),
                         score=margin, null_score=0.0, log_prob=-1.0)


def test_features_see_missing_names_terms_types_and_negation():
    ok = _features("How long did the call last?", "approximately 25 minutes")
    assert set(ok) == set(ALL_FEATURES)
    assert ok["missing_name"] == 0 and ok["type_mismatch"] == 0 and ok["negation_mismatch"] == 0
    assert ok["sentence_coverage"] == 1.0
    swapped = _features("How long did the call with Zelensky last?", "approximately 25 minutes")
    assert swapped["missing_name"] == 1.0
    wrong_type = _features("How many prisoners were exchanged?", "Uzbekistan")
    assert wrong_type["type_mismatch"] == 1.0
    negated = _features("Who did Blinken not speak with on Friday?", "Lavrov")
    assert negated["negation_mismatch"] == 1.0
    off_topic = _features("Which city hosted the grain talks?", "Uzbekistan")
    assert off_topic["sentence_coverage"] < 0.5


@pytest.mark.parametrize("question,kind", [
    ("How many people died?", "number"), ("When did he speak?", "date"), ("What year was it?", "date"),
    ("Who said that?", "person"), ("Where was Lavrov?", "place"), ("What did Blinken say?", None),
])
def test_expected_answer_type(question, kind):
    assert expected_type(question) == kind


def test_logistic_fit_separates_and_stays_finite_on_separable_data():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(2, 1, (200, 2)), rng.normal(-2, 1, (200, 2))])
    x[:, 1] = 1.0  # a constant column must not break the standardisation
    y = np.r_[np.ones(200), np.zeros(200)]
    w, b, mean, scale = fit_logistic(x, y)
    assert np.all(np.isfinite(w)) and w[0] > 0 and scale[1] == 1.0
    p = 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))
    assert np.mean((p > 0.5) == (y == 1)) > 0.95


def test_operating_point_keeps_answerable_declines_under_the_cap():
    kinds = ["answerable"] * 100 + ["squad20"] * 100
    conf = np.r_[np.linspace(0.2, 1.0, 100), np.linspace(0.0, 0.5, 100)]
    t = operating_point(kinds, conf, max_declined=0.08)
    assert np.mean(conf[:100] < t) <= 0.08 and np.mean(conf[:100] < t) >= 0.07


def _synthetic_pairs(n: int = 120) -> list[ReadPair]:
    """Answerable pairs with a confident, on-topic span; unanswerables with a swapped name."""
    rng = random.Random(0)
    out = []
    for i in range(n):
        answerable = i % 2 == 0
        q = "How long did the call last?" if answerable else "How long did the call with Zelensky last?"
        a = "approximately 25 minutes"
        s = CONTEXT.index(a)
        margin = rng.gauss(3, 2) if answerable else rng.gauss(1, 2)
        out.append(ReadPair("answerable" if answerable else "entity_swap", f"t{i % 10}", q, CONTEXT,
                            (a,) if answerable else (), (ReadSpan(s, s + len(a), margin, 0.0, -1.0),)))
    return out


def test_fit_and_report_on_pairs_and_round_trip(tmp_path):
    pairs = _synthetic_pairs()
    save_pairs(pairs, tmp_path / "pairs.jsonl")
    assert load_pairs(tmp_path / "pairs.jsonl") == pairs
    decision, report = fit_and_report(pairs)
    chosen = report["chosen"]
    assert chosen["declined"]["answerable"] <= 8.0
    assert chosen["declined"]["entity_swap"] > report["ablation"]["margin only (old rule)"]["declined"]["entity_swap"]
    decision.save(tmp_path)
    raw = json.loads((tmp_path / DECISION_FILE).read_text())
    assert raw["version"] == FEATURE_VERSION and raw["features"] == list(ALL_FEATURES)
    assert NoAnswerDecision.load(tmp_path) == decision
    table = pair_table(pairs)
    assert table.x.shape == (len(pairs), len(ALL_FEATURES))


def test_a_decision_of_another_version_is_not_used(tmp_path):
    NoAnswerDecision(features=["margin"], weights=[1.0], bias=0.0, mean=[0.0], scale=[1.0], threshold=0.5,
                     version=FEATURE_VERSION + 1).save(tmp_path)
    assert NoAnswerDecision.load(tmp_path) is None
    assert NoAnswerDecision.load(tmp_path / "absent") is None


def test_build_answer_uses_the_decision_when_given():
    from qa.readers.answers import build_answer
    from qa.readers.extractive import ContextPrediction
    from qa.types import Article, Passage, RetrievedPassage

    art = Article(id="a1", title="Call", text=CONTEXT, date="2022-07-29")
    passage = Passage(id="a1:0", article_id="a1", text=CONTEXT, start=0, end=len(CONTEXT))
    a = "approximately 25 minutes"
    s = CONTEXT.index(a)
    pred = ContextPrediction([SpanCandidate(0, s, s + len(a), 3.0, 0.0, -0.5)], 3.0)
    retrieved = [RetrievedPassage(passage=passage, score=1.0, rank=1)]
    strict = NoAnswerDecision(features=["missing_name"], weights=[-5.0], bias=0.0, mean=[0.0], scale=[1.0],
                              threshold=0.5)
    plain = build_answer("How long did the call with Zelensky last?", retrieved, [pred], {"a1": art},
                         lambda m: 0.9, 0.5)
    assert plain.text == a
    declined = build_answer("How long did the call with Zelensky last?", retrieved, [pred], {"a1": art},
                            lambda m: 0.9, 0.5, decision=strict)
    assert not declined.text and declined.confidence < 0.5
    answered = build_answer("How long did it last?", retrieved, [pred], {"a1": art}, lambda m: 0.9, 0.5,
                            decision=strict, read_as="How long did the call last?")
    assert answered.text == a


def test_a_whole_quoted_clause_fits_under_the_answer_length_cap():
    """News answers are often a clause or a quote: ~25 tokens must decode as one span."""
    from qa.readers.extractive import ReaderSettings
    from qa.readers.spans import Window, decode_window

    n = 40
    offsets = [None] + [(5 * i, 5 * i + 4) for i in range(n - 2)] + [None]
    window = Window(0, list(range(n)), [0] * n, offsets)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    start[3], end[3 + 26] = 8.0, 8.0  # a 27-token span
    [best] = decode_window(window, start, end, ReaderSettings().max_answer_tokens, top_k=1)
    assert (best.start, best.end) == offsets[3][0:1] + offsets[29][1:2]
