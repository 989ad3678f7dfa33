"""Turn an EvalReport into things people read: a terminal table, JSON, Markdown, plots.

Questions and answers are data, not markup: they are put into rich ``Text``
objects (never parsed for ``[tags]``) and into Markdown with ``|`` escaped.
Plots use matplotlib's Agg backend so they render on a machine without a
display; matplotlib is a dependency, and should it be missing the plots are
skipped and the caller is told in one line (``PLOTS_SKIPPED``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.evaluation.results import ConversationReport, EvalReport

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
WRONG_JSONL = "wrong_answers.jsonl"
PREDICTIONS_JSONL = "predictions.jsonl"
THRESHOLD_PNG = "threshold_curve.png"
RELIABILITY_PNG = "reliability.png"


def _f(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def summary_rows(report: EvalReport) -> list[tuple[str, str]]:
    """(label, value) pairs shown in both the terminal table and the Markdown."""
    m = report.metrics
    rows = [
        ("Questions", str(m["count"])),
        ("Exact match", _f(m["exact_match"])),
        ("F1", _f(m["f1"])),
        ("Answer rate %", _f(m["answer_rate"])),
        ("No-answer threshold", _f(report.threshold, 3)),
    ]
    if "no_ans_count" in m:
        rows += [
            ("HasAns EM / F1", f"{_f(m['has_ans_exact_match'])} / {_f(m['has_ans_f1'])} (n={m['has_ans_count']})"),
            ("NoAns EM / F1", f"{_f(m['no_ans_exact_match'])} / {_f(m['no_ans_f1'])} (n={m['no_ans_count']})"),
            ("No-answer accuracy %", _f(m["no_answer_accuracy"])),
        ]
    if report.retrieval:
        r = report.retrieval
        rows += [
            ("Recall@1 / @5 / @20", f"{_f(r['recall@1'])} / {_f(r['recall@5'])} / {_f(r['recall@20'])}"),
            ("MRR@20", _f(r["mrr"], 3)),
        ]
    tot = report.latency["total"]
    rows.append(("Latency p50 / p95 ms", f"{_f(tot['p50_ms'])} / {_f(tot['p95_ms'])}"))
    if "retrieve" in report.latency:
        r, d = report.latency["retrieve"], report.latency["read"]
        rows.append(("  retrieve p50 / p95 ms", f"{_f(r['p50_ms'])} / {_f(r['p95_ms'])}"))
        rows.append(("  read p50 / p95 ms", f"{_f(d['p50_ms'])} / {_f(d['p95_ms'])}"))
    rows += [
        ("Throughput q/s", _f(report.throughput_qps, 2)),
        ("Calibration error (ECE)", _f(report.ece, 3)),
    ]
    if report.tuned:
        t = report.tuned
        rows.append(
            ("Tuned threshold", f"{_f(t['threshold'], 3)} (F1 {_f(t['f1'])}, answer rate {_f(t['answer_rate'])}%)")
        )
    return rows


def print_table(report: EvalReport, console=None) -> None:
    """The summary as a rich table; every cell is plain text."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console(markup=False, highlight=False)
    title = f"{report.name} · {report.mode} mode"
    table = Table(title=Text(title), show_header=True)
    table.add_column(Text("Metric"))
    table.add_column(Text("Value"), justify="right")
    for label, value in summary_rows(report):
        table.add_row(Text(label), Text(value))
    console.print(table)


def print_conversation_table(report: ConversationReport, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console(markup=False, highlight=False)
    table = Table(title=Text("Conversations"))
    table.add_column(Text("Metric"))
    table.add_column(Text("Value"), justify="right")
    for label, value in conversation_rows(report):
        table.add_row(Text(label), Text(value))
    console.print(table)


def conversation_rows(r: ConversationReport) -> list[tuple[str, str]]:
    return [
        ("Conversations / turns", f"{r.conversations} / {r.turns}"),
        ("Turn EM / F1", f"{_f(r.exact_match)} / {_f(r.f1)}"),
        ("Follow-up EM / F1", f"{_f(r.follow_up_exact_match)} / {_f(r.follow_up_f1)}"),
        ("Rewrite accuracy %", f"{_f(r.rewrite_accuracy)} (n={r.rewrite_checked})"),
        ("Rewrite accuracy, gold history %", _f(r.oracle_rewrite_accuracy)),
        ("No-answer threshold", _f(r.threshold, 3)),
    ]


# -- files -----------------------------------------------------------------
def _md(text: Any) -> str:
    """One Markdown table cell: no newlines, pipes escaped."""
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def write_json(report: EvalReport, path: Path) -> Path:
    path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_predictions(report: EvalReport, path: Path) -> Path:
    """Every question's reply, one JSON object a line (without passage text)."""
    with open(path, "w", encoding="utf-8") as fh:
        for it in report.items:
            d = asdict(it)
            d.pop("passage", None)
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return path


def write_wrong_answers(report: EvalReport, path: Path) -> Path:
    """Questions answered wrongly (or wrongly abstained on), worst confidence first."""
    wrong = sorted(report.wrong_answers(), key=lambda it: -it.confidence)
    with open(path, "w", encoding="utf-8") as fh:
        for it in wrong:
            fh.write(
                json.dumps(
                    {
                        "id": it.id,
                        "question": it.question,
                        "gold": it.golds,
                        "prediction": it.prediction,
                        "best_span": it.best_span,
                        "confidence": round(it.confidence, 4),
                        "f1": round(it.f1, 4),
                        "understood_as": it.understood_as,
                        "article": it.article,
                        "gold_rank": it.gold_rank,
                        "passage": it.passage,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_threshold_curve(report: EvalReport, path: Path) -> Path:
    """F1, EM and answer rate against the no-answer threshold."""
    plt = _pyplot()
    ts = [s["threshold"] for s in report.sweep]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    ax.plot(ts, [s["f1"] for s in report.sweep], label="F1", color="tab:blue")
    ax.plot(ts, [s["exact_match"] for s in report.sweep], label="EM", color="tab:blue", linestyle=":")
    ax.plot(ts, [s["answer_rate"] for s in report.sweep], label="answer rate %", color="tab:orange")
    if report.sweep and "no_answer_accuracy" in report.sweep[0]:
        ax.plot(
            ts,
            [s["no_answer_accuracy"] for s in report.sweep],
            label="no-answer accuracy %",
            color="tab:green",
            linestyle="--",
        )
    ax.axvline(report.threshold, color="grey", linestyle="--", linewidth=1, label=f"threshold {report.threshold:.2f}")
    if report.tuned:
        ax.axvline(
            report.tuned["threshold"],
            color="tab:red",
            linestyle="-.",
            linewidth=1,
            label=f"tuned {report.tuned['threshold']:.2f}",
        )
    ax.set_xlabel("confidence threshold (answer only at or above)")
    ax.set_ylabel("percent")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 101)
    ax.set_title(f"{report.name} ({report.mode}): F1 and answer rate vs threshold", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_reliability(report: EvalReport, path: Path) -> Path:
    """Reliability diagram: accuracy of the top span per confidence bin."""
    plt = _pyplot()
    bins = report.reliability
    fig, (ax, axh) = plt.subplots(2, 1, figsize=(5.2, 5.6), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    centers = [(b["lo"] + b["hi"]) / 2 for b in bins]
    width = 1 / max(len(bins), 1)
    acc = [b["accuracy"] if b["accuracy"] is not None else 0.0 for b in bins]
    ax.bar(centers, acc, width=width * 0.9, color="tab:blue", alpha=0.75, label="exact-match accuracy")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    pts = [(b["mean_confidence"], b["accuracy"]) for b in bins if b["count"]]
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", color="tab:red", markersize=4, label="mean confidence")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(f"{report.name} ({report.mode}): reliability, ECE {report.ece:.3f}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    axh.bar(centers, [b["count"] for b in bins], width=width * 0.9, color="tab:grey")
    axh.set_ylabel("questions")
    axh.set_xlabel("confidence of the top span")
    axh.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def markdown(report: EvalReport, plots: dict[str, str] | None = None, max_wrong: int = 15) -> str:
    lines = [f"# Evaluation: {_md(report.name)} ({report.mode} mode)", ""]
    cfg = report.config
    lines.append(
        f"Reader `{_md(cfg.get('reader'))}`"
        + (
            f", embedder `{_md(cfg.get('embedder'))}`, retrieval `{cfg.get('retrieval')}`, top-k {cfg.get('top_k')}"
            if report.mode == "open"
            else ""
        )
        + f"; {report.metrics['count']} questions"
        + (f" (sample {cfg['sample']}, seed {cfg['seed']})" if cfg.get("sample") else "")
        + (f" (first {cfg['limit']})" if cfg.get("limit") else "")
        + f"; {report.seconds:.1f} s on {_md(cfg.get('machine', {}).get('cpu'))}."
    )
    lines += ["", "| Metric | Value |", "| --- | ---: |"]
    lines += [f"| {_md(k)} | {_md(v)} |" for k, v in summary_rows(report)]
    noans = "no_ans_count" in report.metrics
    lines += [
        "",
        "## Answers at other thresholds",
        "",
        "| Threshold | EM | F1 | Answer rate % |" + (" No-answer acc. % |" if noans else ""),
        "| ---: | ---: | ---: | ---: |" + (" ---: |" if noans else ""),
    ]
    for s in report.sweep[::5]:
        row = f"| {s['threshold']:.2f} | {_f(s['exact_match'])} | {_f(s['f1'])} | {_f(s['answer_rate'])} |"
        if noans:
            row += f" {_f(s.get('no_answer_accuracy'))} |"
        lines.append(row)
    if plots:
        lines.append("")
        for label, name in plots.items():
            lines.append(f"![{label}]({name})")
    wrong = sorted(report.wrong_answers(), key=lambda it: -it.confidence)
    lines += [
        "",
        f"## Wrong answers ({len(wrong)}; the {min(max_wrong, len(wrong))} most confident)",
        "",
        "| Question | Gold | Reply | Confidence |",
        "| --- | --- | --- | ---: |",
    ]
    for it in wrong[:max_wrong]:
        gold = " / ".join(it.golds) if it.golds else "(no answer)"
        reply = it.prediction or f"(abstained; best: {it.best_span})"
        lines.append(f"| {_md(it.question)} | {_md(gold)} | {_md(reply)} | {it.confidence:.2f} |")
    lines.append("")
    return "\n".join(lines)


def conversation_markdown(r: ConversationReport) -> str:
    lines = ["# Conversation evaluation", "", "| Metric | Value |", "| --- | ---: |"]
    lines += [f"| {_md(k)} | {_md(v)} |" for k, v in conversation_rows(r)]
    lines += [
        "",
        "| Conversation | Turn | Question | Understood as | Reply | F1 | Rewrite ok |",
        "| --- | ---: | --- | --- | --- | ---: | --- |",
    ]
    for t in r.items:
        ok = "–" if t.rewrite_ok is None else ("yes" if t.rewrite_ok else "no")
        lines.append(
            f"| {_md(t.conversation)} | {t.turn + 1} | {_md(t.question)} | {_md(t.understood_as)} | "
            f"{_md(t.prediction or '(no answer)')} | {t.f1:.2f} | {ok} |"
        )
    lines.append("")
    return "\n".join(lines)


#: Key in ``write_all``'s result when the plots could not be drawn (its value says why).
PLOTS_SKIPPED = "plots skipped"


def write_all(report: EvalReport, out_dir: str | Path, plots: bool = True) -> dict[str, Path]:
    """Write the JSON, Markdown, predictions, wrong answers and plots into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {
        "json": write_json(report, out / REPORT_JSON),
        "predictions": write_predictions(report, out / PREDICTIONS_JSONL),
        "wrong": write_wrong_answers(report, out / WRONG_JSONL),
    }
    images: dict[str, str] = {}
    if plots:
        try:
            files["threshold_plot"] = plot_threshold_curve(report, out / THRESHOLD_PNG)
            files["reliability_plot"] = plot_reliability(report, out / RELIABILITY_PNG)
            images = {"F1 and answer rate vs threshold": THRESHOLD_PNG, "Reliability diagram": RELIABILITY_PNG}
        except ImportError:  # a broken install: the numbers are all in the JSON and Markdown still
            files[PLOTS_SKIPPED] = Path("matplotlib is not installed: pip install matplotlib")
    md = out / REPORT_MD
    md.write_text(markdown(report, images), encoding="utf-8")
    files["markdown"] = md
    return files


def write_conversation_reports(report: ConversationReport, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    j = out / REPORT_JSON
    j.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = out / REPORT_MD
    md.write_text(conversation_markdown(report), encoding="utf-8")
    wrong = out / WRONG_JSONL
    with open(wrong, "w", encoding="utf-8") as fh:
        for t in report.items:
            if t.exact_match < 1.0 or t.rewrite_ok is False:
                fh.write(json.dumps(asdict(t), ensure_ascii=False) + "\n")
    return {"json": j, "markdown": md, "wrong": wrong}
