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
    decision = json.loads((out / "newsdesk_decision.json").read_text())
    assert decision["features"] and len(decision["weights"]) == len(decision["features"])
    assert "## No-answer decision" in card and report["weights_mb"] <= 50
    assert report["decision"]["chosen"]["declined"]["answerable"] <= 8.0 + 1e-9
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


def test_optimizer_state_round_trips_through_safetensors(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from qa.training.checkpoint import load_optimizer_tensors, optimizer_tensors

    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(4, 3)).sum().backward()
    opt.step()
    flat, groups = optimizer_tensors(opt)
    save_file(flat, str(tmp_path / "o.safetensors"))
    opt2 = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    load_optimizer_tensors(opt2, load_file(str(tmp_path / "o.safetensors")), json.loads(json.dumps(groups)))
    a, b = opt.state_dict(), opt2.state_dict()
    assert b["param_groups"][0]["lr"] == 0.1
    for i in a["state"]:
        for k in a["state"][i]:
            assert torch.equal(a["state"][i][k], b["state"][i][k])


def test_decline_margin_inverts_the_calibrated_threshold():
    import math

    from qa.readers.extractive import Calibration, ReaderSettings
    from qa.training.campaign import decline_margin

    s = ReaderSettings(no_answer_threshold=0.2, calibration=Calibration(0.2324, -1.5746))
    m = decline_margin(s)
    assert math.isclose(s.calibration.confidence(m), 0.2, rel_tol=1e-9) and 0.7 < m < 0.9


@pytest.mark.slow
def test_campaign_trains_checkpoints_and_resumes_with_the_same_data(tiny_config):
    """Two steps, then one more from the checkpoint: precision measured, per-kind eval logged."""
    from qa.training.__main__ import main

    cfg, run = tiny_config
    raw = json.loads(cfg.read_text())
    raw.update({"bf16": "auto", "checkpoint_every_s": 0, "eval_every_s": 0, "eval_pairs_per_kind": 3,
                "negative_kinds": {"entity_swap": 0.3, "negation": 0.3, "same_paragraph": 0.3,
                                   "same_article": 0.3, "other_article": 0.3, "hard_fraction": 0.5},
                "threads": 1})
    cfg.write_text(json.dumps(raw))
    assert main(["campaign", "--config", str(cfg), "--foreground", "--max-steps", "2"]) == 0
    state = json.loads((run / "checkpoint-last" / "state.json").read_text())
    assert state["step"] == 2 and (run / "checkpoint-last" / "optimizer.safetensors").is_file()
    assert main(["campaign", "--config", str(cfg), "--foreground", "--max-steps", "3"]) == 0
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    data = [r for r in log if r["event"] == "data"]
    assert len(data) == 2 and data[0]["fingerprint"] == data[1]["fingerprint"]
    assert any(r["event"] == "resume" and r["step"] == 2 for r in log)
    prec = next(r for r in log if r["event"] == "precision")
    assert prec["measured"] and prec["fp32_s_per_step"] > 0 and prec["bf16_s_per_step"] > 0
    ev = [r for r in log if r["event"] == "eval"][-1]
    assert ev["step"] == 3 and "answerable" in ev["declined"] and "same_paragraph" in ev["declined"]
    assert not list(run.rglob("*.pt"))


def test_launcher_refuses_a_second_campaign_in_the_same_folder(tmp_path):
    import os

    from qa.training.launch import campaign_command, pid_file, running_pid

    assert running_pid(tmp_path) is None
    pid_file(tmp_path).write_text(f"{os.getpid()}\n")  # this pytest process: alive, runs qa.training tests
    cmd = campaign_command("c.json")
    assert cmd[:3] == ["nice", "-n", "10"] and "--foreground" in cmd
    pid_file(tmp_path).write_text("999999999\n")
    assert running_pid(tmp_path) is None


def test_step_timing_counts_cpu_work_not_a_pause():
    """A campaign stopped or starved while it times the precisions must not see the pause."""
    import time

    import torch

    from qa.training.campaign import _step_seconds

    class Sleepy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(4))

        def forward(self, x):
            time.sleep(0.3)  # the process does no work here, as when it is stopped
            return type("Out", (), {"loss": (self.w * x).sum()})()

    model = Sleepy()
    assert _step_seconds(model, {"x": torch.ones(4)}, bf16=False) < 0.1
    assert model.w.grad is None  # gradients discarded


def test_the_model_card_gives_each_int8_form_its_own_verdict():
    from qa.training.model_card import _quant_text

    def report(form, loss):
        scores = {"f1": 70.0, "exact_match": 55.0, "at_threshold": {"f1": 63.0}}
        return {"form": form, "fp32": scores, "int8": scores, "int8_backend": "OnnxInt8Model",
                "questions": 2000, "f1_loss": loss}

    text = _quant_text({"quantization": {"onnx-8bit": report("onnx-8bit", 0.3), "onnx-7bit": report("onnx-7bit", 0.7)}})
    eight, seven = text.split("int8 `onnx-7bit`")
    assert "VNNI" in eight and "costs 0.30 F1" in eight and "may pick it" in eight
    assert "costs 0.70 F1" in seven and "never picks it" in seven


def test_the_model_card_shows_a_campaign_log_with_each_kind_of_unanswerable(tmp_path):
    import json

    from qa.training.export import read_training_log
    from qa.training.model_card import _curve_table, _data_text, _negatives_text
    from qa.training.negatives import KINDS
    from qa.training.train import TrainConfig

    declined = {"answerable": 8.5, **{k: 50.0 + i for i, k in enumerate(KINDS)}}
    counts = {k: 100 * (i + 1) for i, k in enumerate(KINDS)}
    log = tmp_path / "log.jsonl"
    records = [
        {"event": "data", "train_questions": 81895, "heldout_questions": 5704, "negatives": counts,
         "heldout_negatives": counts, "windows": 131222, "comment": "why", "fingerprint": "x"},
        {"event": "train", "step": 10, "loss": 1.0},
        {"event": "eval", "step": 20, "windows_seen": 640, "exact_match": 56.5, "f1": 72.41, "declined": declined},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    curve, data = read_training_log(log)
    assert curve == [{"step": 20, "examples_seen": 640, "exact_match": 56.5, "f1": 72.41, "declined": declined}]
    assert "comment" not in data and data["train_questions"] == 81895
    table = _curve_table(curve)
    header, _, row = table.splitlines()[-3:]
    assert all(f"{k} declined" in header for k in ("answerable", *KINDS))
    assert row.split(" | ")[4:6] == ["8.5", "50.0"]
    assert "81,895 answerable questions" in _data_text(data) and "entity_swap 200" in _data_text(data)
    text = _negatives_text(TrainConfig.load("qa/training/configs/reader-minilm-v2.json"))
    assert "SQuAD 2.0" in text and "antonym" in text and "BM25" in text
    assert read_training_log(tmp_path / "missing.jsonl") == ([], None)


def test_a_campaign_asked_for_cuda_where_there_is_none_says_so_in_one_line(tmp_path):
    import torch

    from qa.training.campaign import training_device

    assert training_device("cpu") == torch.device("cpu")
    with pytest.raises(SystemExit, match="device must be"):
        training_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="no CUDA device here"):
            training_device("cuda")
    from qa.training.__main__ import main

    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="no CUDA device here"):
            main(["campaign", "--config", "qa/training/configs/reader-minilm-v2.json", "--foreground",
                  "--device", "cuda", "--output-dir", str(tmp_path / "run")])
