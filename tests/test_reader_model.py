"""The shipped reader: loads offline from models/reader, answers and abstains."""

import json
import os

from qa.readers.extractive import READER_SETTINGS, ExtractiveReader
from qa.resources import reader_path


def test_shipped_files():
    names = set(os.listdir(reader_path()))
    assert {"config.json", "model.safetensors", "tokenizer.json", "MODEL_CARD.md", READER_SETTINGS} <= names
    assert not any(n.endswith((".bin", ".pt", ".pkl", ".pickle")) for n in names)
    assert (reader_path() / "model.safetensors").stat().st_size <= 50 * 2**20
    settings = json.loads((reader_path() / READER_SETTINGS).read_text())
    assert 0 < settings["no_answer_threshold"] < 1


def test_reads_and_abstains():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    r = ExtractiveReader()
    ctx = ("The top US diplomat spoke with Sergey Lavrov on Friday. According to a senior official, "
           "the call lasted approximately 25 minutes.")
    preds = r.predict(["How long did the call last?", "Who did the diplomat speak with?",
                       "What is the capital of Australia?"], [ctx] * 3)
    first = ctx[preds[0].candidates[0].start:preds[0].candidates[0].end]
    second = ctx[preds[1].candidates[0].start:preds[1].candidates[0].end]
    assert "25 minutes" in first
    assert "Lavrov" in second
    t = r.settings.no_answer_threshold
    assert r.confidence(preds[0].best_margin) >= t
    assert r.confidence(preds[2].best_margin) < t


def test_long_context_uses_doc_stride():
    r = ExtractiveReader()
    filler = "The weather was mild and nothing else happened that day. " * 60
    ctx = filler + "The treaty was signed in the city of Tallinn in 1994."
    pred = r.predict(["Where was the treaty signed?"], [ctx])[0]
    c = pred.candidates[0]
    assert "Tallinn" in ctx[c.start:c.end]
