"""``newsdesk eval GOLD``: score the assistant and write reports.

    newsdesk eval tests/gold/seed.jsonl                       # open mode, bundled articles
    newsdesk eval ../shared/data/squad11/dev-v1.1.json --mode reader --sample 500
    newsdesk eval ../shared/data/squad11/dev-v1.1.json --mode open --sample 200 --retrieval bm25
    newsdesk eval tests/gold/followups.jsonl                  # conversations
    newsdesk eval my_gold.jsonl --index ~/news-index --tune-threshold

Open mode over a gold file whose questions carry their contexts (SQuAD)
indexes that file's distinct paragraphs, one article each; with ``--index
DIR`` that index is kept in DIR and reused next time. Reports go to
``--out`` (default ``reports/eval-<gold name>``): report.json, report.md,
predictions.jsonl, wrong_answers.jsonl and two PNG plots.

``--tune-threshold`` reports the no-answer threshold with the best F1 on
these questions, writes it to ``OUT/threshold.json`` and, in open mode over
a kept index, to ``INDEX/newsdesk_settings.json``, which later ``newsdesk
eval`` runs on that index apply when no ``--threshold`` is given.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from qa.errors import NewsdeskError
from tui.commands import assistant_kwargs
from tui.progress import ProgressLine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gold", help="gold file: SQuAD JSON (v1.1/v2.0), or JSONL of questions or conversations")
    parser.add_argument(
        "--mode",
        choices=["open", "reader"],
        default="open",
        help="open: through retrieval, as a user asks (default); reader: gold context given",
    )
    parser.add_argument("--out", help="report folder (default reports/eval-<gold name>)")
    parser.add_argument("--limit", type=int, help="only the first N questions (after --sample)")
    parser.add_argument("--sample", type=int, help="a fixed random sample of N questions")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument(
        "--tune-threshold",
        action="store_true",
        help="find the no-answer threshold with the best F1 on these questions and save it",
    )
    from tui.arguments import THRESHOLD

    parser.add_argument("--threshold", type=THRESHOLD, help="no-answer threshold to score with (0-1)")
    parser.add_argument("--top-k", type=int, help="passages read per question (open mode)")
    parser.add_argument("--retrieval", choices=["hybrid", "dense", "bm25"], help="retrieval mode (open mode)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def gold_name(path: str | Path) -> str:
    name = Path(path).name
    for ext in (".jsonl.gz", ".jsonl", ".ndjson", ".json"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return Path(path).stem


def _bar(desc: str, unit: str = "questions"):
    """(done, total) callbacks drawing the terminal's one progress line under a fixed stage name."""
    line = ProgressLine(unit=unit)
    return (lambda done, total: line(done, total, desc)), line.close


def _index_progress():
    line = ProgressLine()
    return line, line.close


def run_eval(args, open_assistant: Callable) -> int:
    from qa.evaluation.gold import is_conversation_file, load_gold

    gold_path = Path(args.gold)
    out = Path(args.out) if getattr(args, "out", None) else Path("reports") / f"eval-{gold_name(gold_path)}"
    if not gold_path.is_file():
        raise NewsdeskError(f"no such gold file: {gold_path}")
    if is_conversation_file(gold_path):
        return _run_conversations(args, open_assistant, gold_path, out)

    items = load_gold(gold_path)
    scratch: list[Path] = []  # temporary indexes, removed when the run ends
    try:
        return _run_items(args, open_assistant, gold_path, items, out, scratch)
    finally:
        for d in scratch:
            shutil.rmtree(d, ignore_errors=True)


def _run_items(args, open_assistant: Callable, gold_path: Path, items, out: Path, scratch: list[Path]) -> int:
    from qa.evaluation.report import PLOTS_SKIPPED, print_table, write_all

    mode = args.mode
    persistent_index: Path | None = None
    if mode == "reader" and any(not it.context and it.article for it in items):
        # Questions written against an indexed article: the index lends the article's text as context.
        assistant = open_assistant(args)
    elif mode == "reader":
        from qa import Assistant

        # Reader mode needs no index: an Assistant over an empty folder only lends its reader.
        scratch.append(Path(tempfile.mkdtemp(prefix="newsdesk-eval-")))
        assistant = Assistant(scratch[-1], **assistant_kwargs(args))
    elif any(it.context for it in items):
        assistant, persistent_index = _context_assistant(args, items)
        if persistent_index is None:
            scratch.append(Path(assistant.index_dir).parent)
    else:
        assistant = open_assistant(args)
        persistent_index = Path(assistant.index_dir)
    # An index's tuned threshold (newsdesk_settings.json) is applied by the Assistant itself.
    from qa.evaluation.runner import evaluate

    cb, close = _bar(f"{mode} eval")
    try:
        report = evaluate(
            assistant,
            items,
            mode=mode,
            limit=args.limit,
            sample=args.sample,
            seed=args.seed,
            progress=cb,
            threshold=args.threshold,
            top_k=args.top_k,
            tune=args.tune_threshold,
            name=gold_path.name,
        )
    except ValueError as exc:
        raise NewsdeskError(str(exc)) from exc
    finally:
        close()
    print_table(report)
    files = write_all(report, out, plots=not args.no_plots)
    if report.tuned:
        files.update(_save_tuned(report, out, persistent_index if mode == "open" else None))
    for label, path in files.items():
        print(f"{label}: {path}", file=sys.stderr if label == PLOTS_SKIPPED else sys.stdout)
    return 0


def _context_assistant(args, items):
    """Open mode over questions with contexts: index the contexts (kept if --index is given)."""
    from qa import Assistant
    from qa.evaluation.runner import index_contexts

    kw = assistant_kwargs(args)
    if args.index and Assistant(args.index, **kw).store.exists():
        return Assistant.open(args.index, **kw), Path(args.index)
    cb, close = _index_progress()
    try:
        assistant = index_contexts(items, index_dir=args.index, progress=cb, **kw)
    finally:
        close()
    return assistant, (Path(args.index) if args.index else None)


def _save_tuned(report, out: Path, index_dir: Path | None) -> dict[str, Path]:
    from qa.store.index_settings import save_threshold

    info = {
        "gold": report.name,
        "mode": report.mode,
        "questions": report.metrics["count"],
        "f1": report.tuned["f1"],
        "answer_rate": report.tuned["answer_rate"],
    }
    p = out / "threshold.json"
    p.write_text(
        json.dumps({"no_answer_threshold": report.tuned["threshold"], **info}, indent=2) + "\n", encoding="utf-8"
    )
    files = {"threshold": p}
    if index_dir is not None:
        files["index_settings"] = save_threshold(index_dir, report.tuned["threshold"], info)
    return files


def _run_conversations(args, open_assistant, gold_path: Path, out: Path) -> int:
    from qa.evaluation.conversations import evaluate_conversations
    from qa.evaluation.report import print_conversation_table, write_conversation_reports

    assistant = open_assistant(args)
    cb, close = _bar("conversation turns", unit="turns")
    try:
        report = evaluate_conversations(assistant, gold_path, threshold=args.threshold, top_k=args.top_k, progress=cb)
    finally:
        close()
    print_conversation_table(report)
    for label, path in write_conversation_reports(report, out).items():
        print(f"{label}: {path}")
    return 0
