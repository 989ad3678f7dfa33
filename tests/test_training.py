"""The training script runs a few steps on a tiny slice, and resumes."""

import gzip
import json

import pytest

from tests.conftest import SQUAD_TRAIN

pytestmark = pytest.mark.skipif(not SQUAD_TRAIN.is_file(), reason="../shared/data/squad11 is not present")


@pytest.fixture()
def tiny_config(tmp_path):
    rows = []
    with gzip.open(SQUAD_TRAIN, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 400 == 0:
                rows.append(line)
    train = tmp_path / "tiny.jsonl.gz"
    with gzip.open(train, "wt", encoding="utf-8") as fh:
        fh.writelines(rows)
    cfg = json.loads(open("qa/training/configs/reader-minilm.json").read())
    cfg.update({"train_file": str(train), "output_dir": str(tmp_path / "run"), "limit": None,
                "holdout_fraction": 0.2, "batch_size": 8, "checkpoint_every": 2, "eval_every": 0,
                "eval_questions": 6, "max_length": 128, "stride": 32})
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(cfg))
    return path, tmp_path / "run"


def test_train_and_resume(tiny_config):
    from qa.training.__main__ import main

    cfg, run = tiny_config
    assert main(["train", "--config", str(cfg), "--max-steps", "2"]) == 0
    state = json.loads((run / "checkpoint-last" / "state.json").read_text())
    assert state["step"] == 2
    assert (run / "checkpoint-last" / "model.safetensors").is_file()
    assert main(["train", "--config", str(cfg), "--max-steps", "3"]) == 0
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert any(r["event"] == "resume" and r["step"] == 2 for r in log)
    assert json.loads((run / "checkpoint-last" / "state.json").read_text())["step"] == 3
    evals = [r for r in log if r["event"] == "eval"]
    assert evals and 0 <= evals[-1]["f1"] <= 100


@pytest.mark.slow
def test_second_phase_and_export(tiny_config, tmp_path):
    """A phase that starts from another's checkpoint, then export: calibrated, thresholded, loadable."""
    from qa.readers.extractive import ExtractiveReader
    from qa.training.__main__ import main

    cfg1, run1 = tiny_config
    assert main(["train", "--config", str(cfg1), "--max-steps", "2"]) == 0
    phase2 = json.loads(cfg1.read_text())
    phase2.update({"output_dir": str(tmp_path / "run2"), "init_from": str(run1 / "checkpoint-last"),
                   "init_config": str(cfg1), "same_paragraph_negative_ratio": 0.5, "learning_rate": 5e-5})
    cfg2 = tmp_path / "phase2.json"
    cfg2.write_text(json.dumps(phase2))
    assert main(["train", "--config", str(cfg2), "--max-steps", "2"]) == 0
    data = [json.loads(x) for x in (tmp_path / "run2" / "log.jsonl").read_text().splitlines()
            if '"data"' in x][0]
    assert data["negatives"] > 0
    out = tmp_path / "model"
    assert main(["export", "--config", str(cfg2), "--out", str(out), "--calibration-size", "16", "--skip-int8"]) == 0
    settings = json.loads((out / "newsdesk_reader.json").read_text())
    assert 0.05 <= settings["no_answer_threshold"] <= 0.95
    report = json.loads((out / "training_report.json").read_text())
    assert report["heldout"]["same_paragraph_negatives"] > 0
    card = (out / "MODEL_CARD.md").read_text()
    assert f"--config {cfg1}" in card and f"--config {cfg2}" in card and "own paragraph" in card
    reader = ExtractiveReader(out)
    [pred] = reader.predict(["Who wrote it?"], ["The report was written by Ada Lovelace in 1843."])
    assert pred.candidates


def test_heldout_split_is_by_article():
    from qa.training.data import QAExample, split_by_article

    rows = [QAExample("q", "c", f"title{i % 50}", "a", 0) for i in range(500)]
    train, held = split_by_article(rows, 0.2, 13)
    assert held and train
    assert not ({r.title for r in train} & {r.title for r in held})


def test_same_paragraph_negative_keeps_the_topic_and_drops_every_answer():
    from qa.training.data import QAExample, make_same_paragraph_negatives, strip_answer_sentences

    ctx = ("The treaty was signed in Vienna in 1815. Delegates from eight states attended. "
           "Vienna later hosted the follow-up talks in 1816. The press called it a triumph.")
    row = QAExample("Where was the treaty signed?", ctx, "Treaty", "Vienna", 25, ("Vienna", "in Vienna"))
    text = strip_answer_sentences(row)
    assert text == "Delegates from eight states attended. The press called it a triumph."
    assert "vienna" not in text.lower()
    # Nothing left to stand on: no negative rather than a one-sentence stub.
    assert strip_answer_sentences(QAExample("q?", "Only Vienna here. And Vienna again.", "t", "Vienna", 5)) is None
    negs = make_same_paragraph_negatives([row] * 4, 1.0, seed=1)
    assert len(negs) == 4 and all(n.answer_start is None and n.context == text for n in negs)


def test_exclude_sample_leaves_out_an_earlier_phase(tmp_path):
    import random

    from qa.training.data import QAExample, split_by_article
    from qa.training.train import TrainConfig, training_rows

    rows = [QAExample(f"q{i}", "c", f"title{i % 40}", "a", 0) for i in range(400)]
    cfg = TrainConfig(holdout_fraction=0.1, seed=13, limit=100)
    first, held = training_rows(cfg, rows)
    later, held2 = training_rows(TrainConfig(holdout_fraction=0.1, seed=13, exclude_sample=[100, 13],
                                             limit=50, sample_seed=5), rows)
    assert held == held2 and len(later) == 50
    assert not ({r.question for r in first} & {r.question for r in later})
    all_train, _ = split_by_article(rows, 0.1, 13)
    assert {r.question for r in first} == {r.question for r in random.Random(13).sample(all_train, 100)}
