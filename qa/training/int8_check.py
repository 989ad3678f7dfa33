"""How much F1 int8 costs a reader, on held-out articles, recorded in its settings.

``auto`` picks int8 only for a reader whose settings say it loses at most
0.5 F1 (``qa.readers.extractive.int8_allowed``), since the probe that times
the precisions has six questions and cannot see a loss of a point. The
measurement reads the same held-out answerable questions in float32 and in
int8 (``qa.precision.int8_model``: ONNX Runtime where installed), scored
always answering (span extraction) and at the reader's threshold (int8 also
moves confidences, so some answers cross it): the larger loss is recorded,
once per int8 form (8-bit weights on VNNI CPUs, 7-bit elsewhere), as the
upper end of its one-sided 95% interval. A loss measured at 0.50 on 2,000
held-out questions came out at 0.64 on SQuAD dev always answering and 1.3
to 1.6 F1 in open mode on 1,000 dev questions, so the point estimate alone
lets through a precision that does lose more than half a point.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from qa.evaluation.reader_eval import ReaderPrediction, read_examples, score_answerable
from qa.readers.extractive import ExtractiveReader, ReaderSettings
from qa.training.train import TrainConfig, heldout_examples


def int8_report(
    tokenizer,
    model,
    settings: ReaderSettings,
    examples,
    fp32_preds: list | None = None,
    *,
    full_range: bool | None = None,
) -> dict:
    """fp32 and int8 EM/F1 on ``examples`` (held-out QAExamples), always answering and at the
    reader's threshold, and the F1 int8 loses (the larger of the two, as the upper end of its
    one-sided 95% interval; ``f1_loss_point`` is the measured one). ``fp32_preds``: float32's
    predictions on the same examples, when already read. ``full_range``: 8-bit weights (default:
    this CPU's form)."""
    from qa.int8 import weight_form
    from qa.precision import int8_model

    golds = [e.answers for e in examples]
    q8 = int8_model(model, full_range=full_range)

    t, conf = settings.no_answer_threshold, settings.calibration.confidence

    def kept(preds: list[ReaderPrediction]) -> list[ReaderPrediction]:
        return [p if conf(p.margin) >= t else _DECLINED for p in preds]

    def scored(preds: list[ReaderPrediction]) -> dict:
        return {**score_answerable(preds, golds), "at_threshold": score_answerable(kept(preds), golds)}

    fp32_read = fp32_preds if fp32_preds is not None else _read(tokenizer, model, settings, examples)
    int8_read = _read(tokenizer, q8, settings, examples)
    fp32, int8 = scored(fp32_read), scored(int8_read)
    always = _loss_bound(_f1s(fp32_read, golds), _f1s(int8_read, golds))
    at_threshold = _loss_bound(_f1s(kept(fp32_read), golds), _f1s(kept(int8_read), golds))
    return {
        "fp32": fp32,
        "int8": int8,
        "int8_backend": type(q8).__name__,
        "form": weight_form(full_range),
        "f1_loss_always_answering": round(always[0], 2),
        "f1_loss_at_threshold": round(at_threshold[0], 2),
        # int8 must keep both the spans and the answer/decline decisions: the larger loss counts,
        # and it counts as the upper end of its one-sided 95% interval, since a loss measured
        # as 0.5 on 2,000 questions may well be 0.7 (paired per question, so the two readings'
        # shared difficulty cancels).
        "f1_loss_point": round(max(always[0], at_threshold[0]), 2),
        "f1_loss": round(max(always[1], at_threshold[1]), 2),
        "threshold": settings.no_answer_threshold,
        "questions": len(examples),
    }


def _read(tokenizer, model, settings: ReaderSettings, examples) -> list[ReaderPrediction]:
    reader = ExtractiveReader.from_loaded(tokenizer, model, settings, bf16=False)
    return read_examples(reader, [e.question for e in examples], [e.context for e in examples])


def _f1s(preds: list[ReaderPrediction], golds) -> list[float]:
    from qa.evaluation.metrics import f1_score, max_over_references

    return [100 * max_over_references(f1_score, p.text, g) for p, g in zip(preds, golds)]


def _loss_bound(fp32: list[float], int8: list[float]) -> tuple[float, float]:
    """Mean F1 lost per question and the upper end of its one-sided 95% interval."""
    diffs = [a - b for a, b in zip(fp32, int8)]
    n = max(len(diffs), 1)
    mean = sum(diffs) / n
    spread = math.sqrt(sum((d - mean) ** 2 for d in diffs) / max(n - 1, 1))
    return mean, mean + 1.645 * spread / math.sqrt(n)


_DECLINED = ReaderPrediction("", 0, 0, float("-inf"))


def int8_reports(tokenizer, model, settings: ReaderSettings, examples, fp32_preds: list | None = None) -> dict:
    """``int8_report`` for every int8 form a machine may run (8-bit and 7-bit weights where ONNX
    Runtime is installed), keyed by form, float32 read once."""
    from qa import int8

    if fp32_preds is None:
        fp32_preds = _read(tokenizer, model, settings, examples)
    ranges: tuple[bool | None, ...] = (True, False) if int8.available() else (None,)
    reports = [int8_report(tokenizer, model, settings, examples, fp32_preds, full_range=r) for r in ranges]
    return {r["form"]: r for r in reports}


def check_reader(cfg: TrainConfig, reader_dir: str | Path, *, n_questions: int, write: bool) -> dict:
    """Measure a shipped reader's int8 loss on ``n_questions`` held-out questions; ``write`` records it."""
    from qa.readers.extractive import load_model
    from qa.resources import reader_path

    folder = Path(reader_path(reader_dir))
    settings = ReaderSettings.load(folder)
    tokenizer, model = load_model(str(folder), "cpu", "fp32")
    held, _ = heldout_examples(cfg)
    examples = random.Random(cfg.seed).sample(held, min(n_questions, len(held)))
    reports = int8_reports(tokenizer, model, settings, examples)
    if write:
        settings.int8_f1_loss = {form: r["f1_loss"] for form, r in reports.items()}
        settings.save(folder)
    return reports
