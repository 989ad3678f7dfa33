"""How much F1 int8 costs a reader, on held-out articles, recorded in its settings.

``auto`` picks int8 only for a reader whose settings say it loses at most
0.5 F1 (``qa.readers.extractive.int8_allowed``), since the probe that times
the precisions has six questions and cannot see a loss of a point. The
measurement reads the same held-out answerable questions in float32 and in
int8 (``qa.precision.int8_model``: ONNX Runtime where installed) and always
answers, so it compares span extraction alone.
"""

from __future__ import annotations

import random
from pathlib import Path

from qa.evaluation.reader_eval import read_examples, score_answerable
from qa.readers.extractive import ExtractiveReader, ReaderSettings
from qa.training.train import TrainConfig, heldout_examples


def int8_report(tokenizer, model, settings: ReaderSettings, examples, fp32_scores: dict | None = None) -> dict:
    """fp32 and int8 EM/F1 on ``examples`` (held-out QAExamples) and the F1 int8 loses."""
    from qa.precision import int8_model

    questions, contexts = [e.question for e in examples], [e.context for e in examples]
    golds = [e.answers for e in examples]
    if fp32_scores is None:
        fp32 = ExtractiveReader.from_loaded(tokenizer, model, settings, bf16=False)
        fp32_scores = score_answerable(read_examples(fp32, questions, contexts), golds)
    int8 = ExtractiveReader.from_loaded(tokenizer, int8_model(model), settings, bf16=False)
    int8_scores = score_answerable(read_examples(int8, questions, contexts), golds)
    loss = round(fp32_scores["f1"] - int8_scores["f1"], 2)
    return {
        "fp32": fp32_scores,
        "int8": int8_scores,
        "int8_backend": type(int8._model).__name__,
        "f1_loss": loss,
        "questions": len(examples),
    }


def check_reader(cfg: TrainConfig, reader_dir: str | Path, *, n_questions: int, write: bool) -> dict:
    """Measure a shipped reader's int8 loss on ``n_questions`` held-out questions; ``write`` records it."""
    from qa.readers.extractive import load_model
    from qa.resources import reader_path

    folder = Path(reader_path(reader_dir))
    settings = ReaderSettings.load(folder)
    tokenizer, model = load_model(str(folder), "cpu", "fp32")
    held, _ = heldout_examples(cfg)
    examples = random.Random(cfg.seed).sample(held, min(n_questions, len(held)))
    report = int8_report(tokenizer, model, settings, examples)
    if write:
        settings.int8_f1_loss = report["f1_loss"]
        settings.save(folder)
    return report
