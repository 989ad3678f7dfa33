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


def test_heldout_split_is_by_article():
    from qa.training.data import QAExample, split_by_article

    rows = [QAExample("q", "c", f"title{i % 50}", "a", 0) for i in range(500)]
    train, held = split_by_article(rows, 0.2, 13)
    assert held and train
    assert not ({r.title for r in train} & {r.title for r in held})
