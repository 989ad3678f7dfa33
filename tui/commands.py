"""What each ``newsdesk`` subcommand does, over the Python API.

Library errors (``NewsdeskError``) are turned into one-line messages only at
the edge, in ``tui.cli.main``; these functions just call the engine and print.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from qa.resources import default_index_dir, seeds_path
from qa.textsafe import one_line
from tui.confidence import confidence_percent, confidence_words
from tui.progress import ProgressLine

#: Headlines longer than this are cut when printed (a JSON title can be megabytes).
MAX_TITLE_CHARS = 200


def assistant_kwargs(args: Any) -> dict[str, Any]:
    kw = {}
    for name in ("embedder", "reader", "top_k", "retrieval", "threshold", "faiss_kind", "precision", "shards"):
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
    return kw


def open_assistant(args: Any, quiet: bool = False) -> Any:
    """Open --index DIR, or the per-user index (built from seeds/ on first use)."""
    from qa import Assistant

    index_dir = Path(args.index) if args.index else default_index_dir()
    kw = assistant_kwargs(args)
    a = Assistant(index_dir, **kw)
    if not a.store.exists():
        if args.index:
            from qa.errors import IndexError_

            raise IndexError_(f"no index in {index_dir}: run `newsdesk index PATH... --index {index_dir}`")
        if not quiet:
            print(f"First run: indexing the bundled articles into {index_dir}", file=sys.stderr)
        progress = ProgressLine(enabled=False if quiet else None)
        try:
            a.index([seeds_path()], progress=progress)
        finally:
            progress.close()
    return a


def cmd_index(args: Any) -> int:
    from qa import Assistant

    index_dir = Path(args.index) if args.index else default_index_dir()
    a = Assistant(index_dir, **assistant_kwargs(args))
    cb = ProgressLine()
    try:
        if getattr(args, "ray", None):  # convert and embed on a Ray cluster (qa.distributed)
            from qa.distributed import index_on_ray

            report = index_on_ray(
                a, args.paths, address=args.ray, rebuild=args.rebuild, progress=cb, follow_symlinks=args.follow_symlinks
            )
        else:
            report = a.index(args.paths, rebuild=args.rebuild, progress=cb, follow_symlinks=args.follow_symlinks)
    finally:
        cb.close()
    for s in report.skipped:
        print(f"warning: {one_line(str(s), 300)}", file=sys.stderr)
    for w in report.warnings:
        print(f"warning: {one_line(w, 300)}", file=sys.stderr)
    if not (report.added or report.updated or report.unchanged or report.removed):
        print(
            f"error: no articles found in {one_line(' '.join(map(str, args.paths)), 200)}"
            f" ({len(report.skipped)} files skipped); nothing was indexed",
            file=sys.stderr,
        )
        return 1
    print(f"{index_dir}: {report.summary()}; {report.passages_embedded} passages embedded in {report.seconds:.1f}s")
    return 0


def format_answer(answer: Any) -> str:
    from qa.readers.timeline import timeline_line
    from qa.timeexpr import scope_line

    lines = []
    if answer.understood_as:
        lines.append(f"Understood as: {one_line(answer.understood_as)}")
    if answer.found and answer.article:
        a = answer.article
        day = f" ({answer.resolved_date})" if answer.resolved_date else ""
        lines.append(f"Answer: {one_line(answer.text)}{day}")
        lines.append(f"Sentence: {one_line(answer.sentence)}")
        cite = " · ".join(one_line(x, MAX_TITLE_CHARS) for x in (a.title, a.date, a.section) if x)
        lines.append(f"Source: {cite}")
        if answer.copies:  # the same wire story in other outlets
            from qa.dedup import copies_note

            lines[-1] += f" · {copies_note(answer.copies)}"
            lines.append(
                "Also in: "
                + "; ".join(
                    one_line(" · ".join(x for x in (c.title, c.date) if x), MAX_TITLE_CHARS) for c in answer.copies
                )
            )
        if answer.timeline:  # several articles answer: newest first, with their dates
            lines.append(f"Timeline: {one_line(timeline_line(answer.timeline))}")
        lines.append(f"Confidence: {confidence_percent(answer.confidence)}% ({confidence_words(answer.confidence)})")
    elif not answer.passages:
        lines.append("No answer: no article matches the question and its filters.")
    else:
        lines.append("No answer found in the articles. Closest passages:")
        for rp in answer.passages[:3]:
            lines.append(f"  {rp.rank}. {one_line(rp.passage.text, 160)}")
    if answer.time is not None:
        lines.append(f"When: {one_line(scope_line(answer.time))}")
    return "\n".join(lines)


def cmd_ask(args: Any) -> int:
    from qa import Filters
    from qa.types import answer_to_json

    a = open_assistant(args, quiet=args.json)
    filters = Filters(args.date_from, args.date_to, tuple(args.section or ()))
    answer = a.ask(args.question, top_k=args.top_k, filters=filters, as_of=args.as_of)
    if args.json:
        print(json.dumps(answer_to_json(answer), ensure_ascii=True, indent=2))
    else:
        print(format_answer(answer))
    return 0


def cmd_chat(args: Any) -> int:
    from tui import run_chat

    paths = args.paths
    index_dir = chat_index_dir(args)

    def factory():
        from qa import Assistant

        if paths:
            a = Assistant(index_dir, **assistant_kwargs(args))
            a.index(paths, remove_missing=False)
            return a
        return open_assistant(args, quiet=True)

    if args.watch:  # keep the index up to date with the folders among PATHs while chatting
        from tui.watching import run_watching_chat

        folders = [p for p in paths if Path(p).is_dir()]
        if not folders:
            print("error: --watch needs a FOLDER to watch: newsdesk chat --watch FOLDER...", file=sys.stderr)
            return 2
        run_watching_chat(factory, folders=folders, index_dir=index_dir)
        return 0
    # The conversation file follows whichever index is open (see qa.conversation.conversation_path).
    run_chat(factory, index_dir=index_dir)
    return 0


def cmd_watch(args: Any) -> int:
    """Keep an index up to date with folders until Ctrl+C; one line per batch (``qa.watch``)."""
    import time

    from qa import Assistant
    from qa.watch import Watcher

    index_dir = Path(args.index) if args.index else default_index_dir()
    assistant = Assistant(index_dir, **assistant_kwargs(args))
    watcher = Watcher(
        assistant,
        args.folders,
        quiet_s=args.debounce,
        follow_symlinks=args.follow_symlinks,
        on_batch=lambda batch: print(one_line(batch.line(), 400), flush=True),
    )
    try:
        watcher.start()
    except OSError as exc:
        print(f"error: {one_line(str(exc), 300)}", file=sys.stderr)
        return 2
    print(
        f"Watching {one_line(', '.join(map(str, watcher.folders)), 200)} into {index_dir} (Ctrl+C stops)",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping (finishing the batch in hand)…", file=sys.stderr, flush=True)
    finally:
        watcher.stop()
    return 0


def chat_index_dir(args: Any) -> Path:
    """The index the chat opens, or builds from PATHs (a folder of its own when no --index is given)."""
    if args.index:
        return Path(args.index)
    return default_index_dir().with_name("chat-index") if args.paths else default_index_dir()


def cmd_stats(args: Any) -> int:
    a = open_assistant(args, quiet=True)
    print(json.dumps(a.stats(), indent=2))
    return 0


def cmd_eval(args: Any) -> int:
    from tui.eval_cli import run_eval

    return run_eval(args, open_assistant)


def cmd_serve(args: Any) -> int:
    """Serve the HTTP API (``qa.server``); FastAPI and uvicorn are imported only here."""
    if getattr(args, "ray", None):  # the same app as Ray Serve replicas (qa.distributed.serving)
        from qa.distributed.serving import serve_on_ray

        return serve_on_ray(
            address=args.ray,
            replicas=args.replicas,
            shard_groups=args.shard_groups,
            index_dir=Path(args.index) if args.index else default_index_dir(),
            engine_kwargs=assistant_kwargs(args),
            api_key=args.api_key or os.environ.get("NEWSDESK_API_KEY") or None,
            max_batch=args.batch,
            host=args.host,
            port=args.port,
        )
    try:
        import uvicorn

        from qa.server import create_app
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in {"fastapi", "fastapi_offline", "uvicorn", "starlette", "pydantic"}:
            raise
        print("error: newsdesk serve needs FastAPI and uvicorn: pip install 'newsdesk[server]'", file=sys.stderr)
        return 2
    api_key = args.api_key or os.environ.get("NEWSDESK_API_KEY") or None
    app = create_app(lambda: open_assistant(args, quiet=True), api_key=api_key, max_batch=args.batch)
    where = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(
        f"Newsdesk API on {where} (docs at {where}/docs; /v1/health says when the models are loaded)"
        + ("" if api_key else "; no API key"),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if args.verbose else "warning")
    return 0
