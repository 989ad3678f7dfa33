"""The export steps for the no-answer decision and the dev score, and their model-card section.

Kept apart from ``qa.training.export`` so that module stays about the
weights: here the held-out pairs of every kind (``heldout_pairs``) are read
by the exported reader, the decision is fitted and its operating point
chosen on them (``decision_fit``), and SQuAD v1.1 dev is scored once,
always answering, on all 48 articles and on the 34 that the partial SQuAD
2.0 dev file does not hold (those 14 articles' unanswerables are used for
the decision, so a score on them alone would not be clean).
"""

from __future__ import annotations

import json
from pathlib import Path

from qa.training.decision_fit import MAX_ANSWERABLE_DECLINED, fit_and_report
from qa.training.heldout_pairs import ANSWERABLE, heldout_pairs, read_pairs
from qa.training.negatives import KINDS

#: The largest shipped weights file allowed (float16 MiniLM is about 45 MB).
MAX_WEIGHTS_MB = 50.0


def fit_decision_for_export(cfg, reader, *, n_answerable: int, n_per_kind: int):
    """(decision, report): fitted on held-out pairs of every kind read by ``reader``."""
    pairs = read_pairs(reader, heldout_pairs(cfg, n_answerable=n_answerable, n_per_kind=n_per_kind))
    return fit_and_report(pairs)


def check_weights_size(out_dir: Path) -> float:
    """Megabytes of the exported weights; refuses a file over ``MAX_WEIGHTS_MB``."""
    mb = sum(p.stat().st_size for p in Path(out_dir).glob("*.safetensors")) / 1e6
    if mb > MAX_WEIGHTS_MB:
        raise SystemExit(f"exported weights are {mb:.1f} MB, over the {MAX_WEIGHTS_MB:.0f} MB limit")
    return round(mb, 1)


def squad20_titles(path: str | None) -> set[str]:
    if not path or not Path(path).is_file():
        return set()
    return {a.get("title", "") for a in json.loads(Path(path).read_text(encoding="utf-8"))["data"]}


def score_dev(reader, dev: str, squad20_dev_file: str | None) -> dict:
    """SQuAD v1.1 dev EM/F1, always answering: all articles, and those not in the SQuAD 2.0 file."""
    from qa.evaluation.reader_eval import read_examples, score_answerable
    from qa.training.data import load_squad_json

    rows = load_squad_json(dev)
    preds = read_examples(reader, [e.question for e in rows], [e.context for e in rows])
    out = {"all": {**score_answerable(preds, [e.answers for e in rows]), "articles": len({e.title for e in rows})}}
    taken = squad20_titles(squad20_dev_file)
    keep = [i for i, e in enumerate(rows) if e.title not in taken]
    if taken and keep:
        out["not_in_squad20"] = {
            **score_answerable([preds[i] for i in keep], [rows[i].answers for i in keep]),
            "articles": len({rows[i].title for i in keep}),
        }
    return out


def _row(name: str, r: dict) -> str:
    d = r["declined"]
    kinds = " | ".join(f"{d.get(k, float('nan')):.1f}" for k in KINDS)
    return (
        f"| {name} | {d[ANSWERABLE]:.1f} | {kinds} | {d['unanswerable']:.1f} | {r['answerable_f1']:.1f} | "
        f"{r['ece']:.3f} |"
    )


def decision_card(report: dict, *, file_name: str = "newsdesk_decision.json") -> str:
    """The model-card section: signals, per-kind decline rates, ablation, calibration error."""
    c = report["chosen"]
    pairs = ", ".join(f"{k} {n}" for k, n in report["pairs"].items())
    head = (
        "| features | answerable declined (%) | "
        + " | ".join(f"{k} declined (%)" for k in KINDS)
        + " | all unanswerable declined (%) | answerable F1 | ECE |"
    )
    rule = "|" + "---|" * (len(KINDS) + 5)
    ablation = "\n".join(_row(name, r) for name, r in report["ablation"].items())
    ece = ", ".join(f"{k} {v:.3f}" for k, v in c["ece_by_kind"].items())
    met = c["declined"]["unanswerable"] >= 70 and c["declined"][ANSWERABLE] <= 100 * MAX_ANSWERABLE_DECLINED
    return f"""## No-answer decision
Whether to answer is decided by a logistic regression over a few signals,
stored in `{file_name}` (feature list, weights, standardisation,
threshold, version): the span margin (best span logit minus the [CLS]
logit), the span's log-probability, the share of the question's content
words found in the passage and in the sentence around the span, whether a
name or number of the question is missing from the passage, whether the
span is of the kind the question asks for (who → a name, when → a date, how
many → a number), and whether a negated question meets a sentence without
negation. "Right" means token F1 ≥ 0.5 with a reference; unanswerable pairs
are never right. Without the file the reader's margin calibration is used.

Fitted and measured on held-out articles only ({pairs} pairs): answerable
questions of held-out SQuAD v1.1 train articles, generated unanswerable pairs
of every kind from those articles, and the real SQuAD 2.0 unanswerables of
the held-out articles. Figures are cross-validated by article (5 folds), each
feature set at its own operating point: the highest threshold that declines
at most {MAX_ANSWERABLE_DECLINED:.0%} of answerable pairs. Shipped threshold:
**{c["threshold"]:.3f}** (target ≥ 70% of unanswerables declined with ≤ 8% of
answerables declined: {"met" if met else "not met"}).

{head}
{rule}
{ablation}

Expected calibration error of the shipped feature set per kind: {ece}.
"""


def refit_shipped(cfg, model_dir: str, *, n_answerable: int, n_per_kind: int, pairs_file: str | None = None) -> dict:
    """Fit and save a decision for a reader already exported (``python -m qa.training decision``).

    ``pairs_file`` keeps the read pairs (or reuses them when it exists), so
    the fit can be repeated without reading again.
    """
    from qa.readers.extractive import ExtractiveReader
    from qa.training.heldout_pairs import load_pairs, save_pairs

    if pairs_file and Path(pairs_file).is_file():
        pairs = load_pairs(pairs_file)
    else:
        reader = ExtractiveReader(model_dir, precision="fp32")
        pairs = read_pairs(reader, heldout_pairs(cfg, n_answerable=n_answerable, n_per_kind=n_per_kind))
        if pairs_file:
            save_pairs(pairs, pairs_file)
    decision, report = fit_and_report(pairs)
    decision.fitted_on["reader"] = str(model_dir)
    decision.save(model_dir)
    return report
