"""Calibrate a trained checkpoint on held-out articles and write the shipped model.

The held-out slice (articles never trained on) chooses everything: the
confidence calibration and the no-answer threshold. The SQuAD dev file, when
given, is scored once for the model card and chooses nothing.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import numpy as np

from qa.evaluation.metrics import exact_match, f1_score, max_over_references, reliability_bins
from qa.evaluation.reader_eval import read_examples, score_answerable
from qa.readers.extractive import Calibration, ExtractiveReader, ReaderSettings
from qa.training.export_decision import check_weights_size, fit_decision_for_export, score_dev
from qa.training.model_card import model_card, training_phases
from qa.training.train import (
    TrainConfig,
    find_checkpoint,
    heldout_examples,
    heldout_same_paragraph,
    resolve_base_model,
)


def fit_calibration(margins: list[float], correct: list[float], l2: float = 1e-3) -> Calibration:
    """Logistic regression of correctness on the span margin.

    Newton's method on the standardised margin with a small L2 penalty and
    step halving, so it converges even when the classes are nearly separable.
    """
    x = np.clip(np.asarray(margins, dtype=np.float64), -50, 50)
    y = np.asarray(correct, dtype=np.float64)
    mu, sd = float(x.mean()), float(x.std() or 1.0)
    z = (x - mu) / sd
    w = np.zeros(2)  # slope, intercept on z

    def loss(w):
        t = w[0] * z + w[1]
        return float(np.sum(np.logaddexp(0, t) - y * t) + l2 * len(z) * w[0] ** 2)

    for _ in range(100):
        p = 1 / (1 + np.exp(-(w[0] * z + w[1])))
        g = np.array([np.sum((p - y) * z) + 2 * l2 * len(z) * w[0], np.sum(p - y)])
        h_w = p * (1 - p)
        h = np.array(
            [[np.sum(h_w * z * z) + 2 * l2 * len(z), np.sum(h_w * z)], [np.sum(h_w * z), np.sum(h_w)]]
        ) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        t, base = 1.0, loss(w)
        while loss(w - t * step) > base and t > 1e-4:
            t /= 2
        w = w - t * step
        if np.abs(t * step).max() < 1e-8:
            break
    a = w[0] / sd
    b = w[1] - w[0] * mu / sd
    return Calibration(float(a), float(b))


def choose_threshold(pos_conf, pos_f1, neg_conf, same_conf=None) -> tuple[float, dict]:
    """Threshold maximising mean F1 over answerable and unanswerable pairs (1:1).

    Unanswerable pairs are other-article paragraphs and, when given, the
    question's own paragraph without its answer sentences, weighted equally:
    the first is what a retrieval miss looks like, the second what a question
    the articles do not answer looks like.
    """
    best_t, best = 0.5, -1.0
    stats = {}
    for t in np.linspace(0.05, 0.95, 91):
        point = operating_point(float(t), pos_conf, pos_f1, neg_conf, same_conf)
        same = point.get("abstain_on_same_paragraph")
        other = point["abstain_on_negatives"]
        score = (point["answerable_f1"] + (other if same is None else (other + same) / 2)) / 2
        if score > best:
            best, best_t = score, float(t)
            stats = {k: v for k, v in point.items() if k != "threshold"}
    return round(best_t, 2), stats


def operating_point(t: float, pos_conf, pos_f1, neg_conf, same_conf=None) -> dict:
    """Answerable F1 and abstention (percent) if spans under confidence ``t`` were declined."""
    point = {
        "threshold": t,
        "answerable_f1": 100 * float(np.mean([f if c >= t else 0.0 for c, f in zip(pos_conf, pos_f1)])),
        "abstain_on_negatives": 100 * float(np.mean([c < t for c in neg_conf])),
    }
    if same_conf:
        point["abstain_on_same_paragraph"] = 100 * float(np.mean([c < t for c in same_conf]))
    return point


def read_training_log(log: Path) -> tuple[list[dict], dict | None]:
    """The held-out evaluations of a training log (its learning curve) and its last data record."""
    curve: list[dict] = []
    data = None
    if not log.is_file():
        return curve, data
    for line in log.read_text().splitlines():
        r = json.loads(line)
        if r.get("event") == "data":
            data = {k: v for k, v in r.items() if k not in ("event", "comment", "seconds", "fingerprint")}
        elif r.get("event") == "eval":
            curve.append(
                {
                    "step": r.get("step"),
                    "examples_seen": r.get("examples_seen", r.get("windows_seen")),
                    **{
                        k: r.get(k)
                        for k in ("f1", "exact_match", "abstain_on_negatives", "abstain_on_same_paragraph", "declined")
                        if k in r
                    },
                }
            )
    return curve, data


def export(
    cfg: TrainConfig,
    checkpoint: str | None,
    out: str,
    dev: str | None,
    n_calibration: int = 2000,
    try_int8: bool = True,
    config_path: str | None = None,
) -> dict:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    ckpt = Path(checkpoint) if checkpoint else find_checkpoint(Path(cfg.output_dir))
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {cfg.output_dir}")
    state = json.loads((ckpt / "state.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(cfg.base_model))
    model = AutoModelForQuestionAnswering.from_pretrained(str(ckpt), use_safetensors=True).eval()
    settings = ReaderSettings(max_length=cfg.max_length, stride=cfg.stride)
    reader = ExtractiveReader.from_loaded(tokenizer, model, settings, bf16=False)

    held, negs = heldout_examples(cfg)
    same_all = heldout_same_paragraph(cfg, held)
    rng = random.Random(cfg.seed)
    pos = rng.sample(held, min(n_calibration, len(held)))
    neg = rng.sample(negs, min(n_calibration // 2, len(negs)))
    same = rng.sample(same_all, min(n_calibration // 2, len(same_all)))
    t0 = time.time()
    p = read_examples(reader, [e.question for e in pos], [e.context for e in pos])
    held_scores = score_answerable(p, [e.answers for e in pos])
    q = read_examples(reader, [e.question for e in neg], [e.context for e in neg])
    qs = read_examples(reader, [e.question for e in same], [e.context for e in same])
    em = [max_over_references(exact_match, x.text, e.answers) for x, e in zip(p, pos)]
    f1 = [max_over_references(f1_score, x.text, e.answers) for x, e in zip(p, pos)]
    cal = fit_calibration([x.margin for x in p + q + qs], em + [0.0] * (len(q) + len(qs)))
    pos_conf = [cal.confidence(x.margin) for x in p]
    neg_conf = [cal.confidence(x.margin) for x in q]
    same_conf = [cal.confidence(x.margin) for x in qs]
    threshold, at_t = choose_threshold(pos_conf, f1, neg_conf, same_conf)
    settings.calibration = cal
    settings.no_answer_threshold = threshold
    quant_reports = None
    if try_int8:
        # int8 reads 3x faster than float32 here; record what it costs at the threshold just
        # chosen, so that ``auto`` may pick it only when that is at most half an F1 point.
        from qa.training.int8_check import int8_reports

        quant_reports = int8_reports(tokenizer, model, settings, pos, fp32_preds=p)
        settings.int8_f1_loss = {form: r["f1_loss"] for form, r in quant_reports.items()}
    operating_points = [
        operating_point(t, pos_conf, f1, neg_conf, same_conf) for t in sorted({0.05, 0.1, 0.15, threshold, 0.3})
    ]
    conf_all = pos_conf + neg_conf + same_conf
    corr_all = em + [0.0] * (len(q) + len(qs))
    from qa.evaluation.metrics import expected_calibration_error

    report = {
        "checkpoint": str(ckpt),
        "steps": state["step"],
        # A campaign checkpoint counts windows; a phase checkpoint counted them as examples.
        "examples_seen": state.get("windows_seen", state.get("examples_seen")),
        "heldout": {
            **held_scores,
            "negatives": len(q),
            "same_paragraph_negatives": len(qs),
            **{f"at_threshold_{k}": v for k, v in at_t.items()},
            "f1_loss_at_threshold": held_scores["f1"] - at_t["answerable_f1"],
        },
        "calibration": {
            "a": cal.a,
            "b": cal.b,
            "ece": expected_calibration_error(conf_all, corr_all),
            "reliability": reliability_bins(conf_all, corr_all),
        },
        "no_answer_threshold": threshold,
        "operating_points": operating_points,
        "quantization": quant_reports,
        "seconds": round(time.time() - t0, 1),
    }
    if dev:
        scored = score_dev(reader, dev, cfg.squad20_dev_file)
        report["squad_dev"] = scored["all"]
        report["squad_dev_not_in_squad20"] = scored.get("not_in_squad20")

    # Before the weights are halved in place: the decision is fitted on what Newsdesk reads (float32).
    decision, report["decision"] = fit_decision_for_export(
        cfg, reader, n_answerable=n_calibration, n_per_kind=max(4, n_calibration // 4)
    )
    out_dir = Path(out)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.half().save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    settings.save(tmp)
    report["weights_mb"] = check_weights_size(tmp)
    decision.save(tmp)
    report["learning_curve"], report["campaign_data"] = read_training_log(Path(cfg.output_dir) / "log.jsonl")
    (tmp / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    (tmp / "MODEL_CARD.md").write_text(model_card(cfg, report, training_phases(cfg, config_path)), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    print(json.dumps({k: v for k, v in report.items() if k != "learning_curve"}, indent=2))
    return report
