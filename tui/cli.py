"""``newsdesk``: a thin command line over the Python API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from qa.textsafe import install_plain_logging, one_line

from qa.resources import default_index_dir, seeds_path

#: Headlines longer than this are cut when printed (a JSON title can be megabytes).
MAX_TITLE_CHARS = 200


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block), exit status 2."""

    def error(self, message: str):
        print(f"{self.prog}: error: {one_line(message, 300)}", file=sys.stderr)
        raise SystemExit(2)


def _checked(check):
    """An argparse type from an engine check: the engine's one-line message becomes argparse's."""
    def convert(text: str):
        try:
            return check(text)
        except ValueError as exc:  # InvalidInputError is a ValueError too
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _top_k(text: str) -> int:
    from qa.validation import check_top_k

    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"top-k must be a whole number, not {text[:40]!r}") from None
    return check_top_k(value)  # type: ignore[return-value]


def _threshold(text: str) -> float:
    from qa.validation import check_threshold

    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"threshold must be a number from 0 to 1, not {text[:40]!r}") from None
    return check_threshold(value)  # type: ignore[return-value]


def _date(text: str) -> str:
    from qa.retrievers.filters import date_bound

    date_bound(text, end=False)
    return text


TOP_K, THRESHOLD, DATE = _checked(_top_k), _checked(_threshold), _checked(_date)


def _progress_bar():
    from tqdm import tqdm

    bar = {"t": None, "stage": None}

    def cb(done: int, total: int, stage: str) -> None:
        if stage != bar["stage"]:
            if bar["t"] is not None:
                bar["t"].close()
            bar["t"] = tqdm(total=total or None, desc=stage, unit="passage", file=sys.stderr,
                            disable=not total, leave=False)
            bar["stage"] = stage
        if bar["t"] is not None and total:
            bar["t"].n = done
            bar["t"].refresh()

    def close() -> None:
        if bar["t"] is not None:
            bar["t"].close()

    return cb, close


def _assistant_kwargs(args) -> dict:
    kw = {}
    for name in ("embedder", "reader", "top_k", "retrieval", "threshold", "faiss_kind", "precision"):
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
    return kw


def open_assistant(args, quiet: bool = False):
    """Open --index DIR, or the per-user index (built from seeds/ on first use)."""
    from qa import Assistant

    index_dir = Path(args.index) if args.index else default_index_dir()
    kw = _assistant_kwargs(args)
    a = Assistant(index_dir, **kw)
    if not a.store.exists():
        if args.index:
            from qa.errors import IndexError_

            raise IndexError_(f"no index in {index_dir}: run `newsdesk index PATH... --index {index_dir}`")
        if not quiet:
            print(f"First run: indexing the bundled articles into {index_dir}", file=sys.stderr)
        cb, close = _progress_bar()
        try:
            a.index([seeds_path()], progress=None if quiet else cb)
        finally:
            close()
    return a


def cmd_index(args) -> int:
    from qa import Assistant

    index_dir = Path(args.index) if args.index else default_index_dir()
    a = Assistant(index_dir, **_assistant_kwargs(args))
    cb, close = _progress_bar()
    try:
        if getattr(args, "ray", None):  # convert and embed on a Ray cluster (qa.distributed)
            from qa.distributed import index_on_ray

            report = index_on_ray(a, args.paths, address=args.ray, rebuild=args.rebuild, progress=cb,
                                  follow_symlinks=args.follow_symlinks)
        else:
            report = a.index(args.paths, rebuild=args.rebuild, progress=cb,
                             follow_symlinks=args.follow_symlinks)
    finally:
        close()
    for s in report.skipped:
        print(f"warning: {one_line(str(s), 300)}", file=sys.stderr)
    for w in report.warnings:
        print(f"warning: {one_line(w, 300)}", file=sys.stderr)
    if not (report.added or report.updated or report.unchanged or report.removed):
        print(f"error: no articles found in {one_line(' '.join(map(str, args.paths)), 200)}"
              f" ({len(report.skipped)} files skipped); nothing was indexed", file=sys.stderr)
        return 1
    print(f"{index_dir}: {report.summary()}; {report.passages_embedded} passages embedded "
          f"in {report.seconds:.1f}s")
    return 0


def format_answer(answer) -> str:
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
            lines.append("Also in: " + "; ".join(
                one_line(" · ".join(x for x in (c.title, c.date) if x), MAX_TITLE_CHARS) for c in answer.copies))
        if answer.timeline:  # several articles answer: newest first, with their dates
            lines.append(f"Timeline: {one_line(timeline_line(answer.timeline))}")
        lines.append(f"Confidence: {answer.confidence:.0%}")
    else:
        lines.append("No answer found in the articles. Closest passages:")
        for rp in answer.passages[:3]:
            lines.append(f"  {rp.rank}. {one_line(rp.passage.text, 160)}")
    if answer.time is not None:
        lines.append(f"When: {one_line(scope_line(answer.time))}")
    return "\n".join(lines)


def cmd_ask(args) -> int:
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


def cmd_chat(args) -> int:
    from tui import run_chat

    paths = args.paths
    index_dir = chat_index_dir(args)

    def factory():
        from qa import Assistant

        if paths:
            a = Assistant(index_dir, **_assistant_kwargs(args))
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


def cmd_watch(args) -> int:
    """Keep an index up to date with folders until Ctrl+C; one line per batch (``qa.watch``)."""
    import time

    from qa import Assistant
    from qa.watch import Watcher

    index_dir = Path(args.index) if args.index else default_index_dir()
    assistant = Assistant(index_dir, **_assistant_kwargs(args))
    watcher = Watcher(assistant, args.folders, quiet_s=args.debounce, follow_symlinks=args.follow_symlinks,
                      on_batch=lambda batch: print(one_line(batch.line(), 400), flush=True))
    try:
        watcher.start()
    except OSError as exc:
        print(f"error: {one_line(str(exc), 300)}", file=sys.stderr)
        return 2
    print(f"Watching {one_line(', '.join(map(str, watcher.folders)), 200)} into {index_dir} (Ctrl+C stops)",
          file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping (finishing the batch in hand)…", file=sys.stderr, flush=True)
    finally:
        watcher.stop()
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.05 <= value <= 600:
        raise ValueError(f"seconds must be a number from 0.05 to 600, not {text[:40]!r}")
    return value


def chat_index_dir(args) -> Path:
    """The index the chat opens, or builds from PATHs (a folder of its own when no --index is given)."""
    if args.index:
        return Path(args.index)
    return default_index_dir().with_name("chat-index") if args.paths else default_index_dir()


def cmd_stats(args) -> int:
    a = open_assistant(args, quiet=True)
    print(json.dumps(a.stats(), indent=2))
    return 0


def cmd_eval(args) -> int:
    from tui.eval_cli import run_eval

    return run_eval(args, open_assistant)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise ValueError(f"port must be a whole number from 0 to 65535, not {text[:40]!r}")
    return value


def _batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise ValueError(f"batch must be a whole number from 1 to 64, not {text[:40]!r}")
    return value


def _replicas(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        raise ValueError(f"replicas must be a whole number from 1 to 256, not {text[:40]!r}")
    return value


def cmd_serve(args) -> int:
    """Serve the HTTP API (``qa.server``); FastAPI and uvicorn are imported only here."""
    if getattr(args, "ray", None):  # the same app as Ray Serve replicas (qa.distributed.serving)
        from qa.distributed.serving import serve_on_ray

        return serve_on_ray(address=args.ray, replicas=args.replicas,
                            index_dir=Path(args.index) if args.index else default_index_dir(),
                            engine_kwargs=_assistant_kwargs(args),
                            api_key=args.api_key or os.environ.get("NEWSDESK_API_KEY") or None,
                            max_batch=args.batch, host=args.host, port=args.port)
    try:
        import uvicorn

        from qa.server import create_app
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in {"fastapi", "uvicorn", "starlette", "pydantic"}:
            raise
        print("error: newsdesk serve needs FastAPI and uvicorn: pip install 'newsdesk[server]'", file=sys.stderr)
        return 2
    api_key = args.api_key or os.environ.get("NEWSDESK_API_KEY") or None
    app = create_app(lambda: open_assistant(args, quiet=True), api_key=api_key, max_batch=args.batch)
    where = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(f"Newsdesk API on {where} (docs at {where}/docs; /v1/health says when the models are loaded)"
          + ("" if api_key else "; no API key"), file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if args.verbose else "warning")
    return 0


#: Shown under ``newsdesk --help``: the two commands a first run needs.
QUICK_START = """quick start:
  newsdesk chat                          ask about the bundled articles (F1 lists the keys)
  newsdesk index FOLDER; newsdesk chat   index your own articles, then ask about them"""


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="newsdesk", description="Exact, cited answers from news articles.",
               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=QUICK_START)
    p.add_argument("--verbose", "-v", action="store_true")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def common(sp):
        sp.add_argument("--index", help="index folder (default: per-user data folder)")
        sp.add_argument("--embedder", help="sentence-transformers model path or hub id")
        sp.add_argument("--reader", help="extractive QA model path or hub id (default models/reader)")
        sp.add_argument("--precision", choices=["auto", "fp32", "bf16", "int8"],
                        help="numeric precision of the models (default: NEWSDESK_PRECISION, else auto: "
                             "the fastest that agrees with fp32, measured once per machine)")

    i = sub.add_parser("index", help="index files, folders, RSS/Atom feeds and http(s) URLs")
    i.add_argument("paths", nargs="+", help="files, folders, feed files, feed or article URLs")
    common(i)
    i.add_argument("--rebuild", action="store_true", help="discard the old index and build anew")
    i.add_argument("--faiss", dest="faiss_kind", choices=["auto", "flat", "hnsw", "ivf"])
    i.add_argument("--follow-symlinks", action="store_true")
    i.add_argument("--ray", metavar="ADDRESS",
                   help="convert and embed on a Ray cluster: local (in this process), auto (RAY_ADDRESS or a "
                        "running cluster) or host:port; needs the cluster extra")
    i.set_defaults(func=cmd_index)

    a = sub.add_parser("ask", help="answer one question")
    a.add_argument("question")
    common(a)
    a.add_argument("--top-k", type=TOP_K)
    a.add_argument("--retrieval", choices=["hybrid", "dense", "bm25"])
    a.add_argument("--threshold", type=THRESHOLD, help="no-answer threshold (0-1)")
    a.add_argument("--date-from", type=DATE, help="YYYY-MM-DD, YYYY-MM (whole month) or YYYY (whole year)")
    a.add_argument("--date-to", type=DATE, help="YYYY-MM-DD, YYYY-MM (whole month) or YYYY (whole year)")
    a.add_argument("--section", action="append")
    a.add_argument("--as-of", type=DATE, help="read time words (latest, yesterday, on Friday) against this date "
                   "instead of the newest article, and search nothing after it")
    a.add_argument("--json", action="store_true", help="print every Answer field as JSON")
    a.set_defaults(func=cmd_ask)

    c = sub.add_parser("chat", help="open the terminal chat")
    c.add_argument("paths", nargs="*")
    common(c)
    c.add_argument("--threshold", type=THRESHOLD, help="no-answer threshold (0-1)")
    c.add_argument("--watch", action="store_true",
                   help="keep indexing the folders among PATHs as files appear, change or go")
    c.set_defaults(func=cmd_chat)

    w = sub.add_parser("watch", help="keep an index up to date with folders (Ctrl+C stops)")
    w.add_argument("folders", nargs="+")
    common(w)
    w.add_argument("--debounce", type=_checked(_seconds), default=1.0,
                   help="seconds of quiet before a batch is indexed (default 1)")
    w.add_argument("--follow-symlinks", action="store_true")
    w.set_defaults(func=cmd_watch)

    s = sub.add_parser("stats", help="index statistics")
    common(s)
    s.set_defaults(func=cmd_stats)

    e = sub.add_parser("eval", help="score against gold questions")
    common(e)
    try:
        from tui.eval_cli import add_arguments

        add_arguments(e)
    except ImportError:
        pass
    e.set_defaults(func=cmd_eval)

    sv = sub.add_parser("serve", help="answer questions over HTTP (needs the server extra)")
    common(sv)
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=_checked(_port), default=8000)
    sv.add_argument("--api-key", help="require Authorization: Bearer KEY (default: NEWSDESK_API_KEY, else none)")
    sv.add_argument("--top-k", type=TOP_K)
    sv.add_argument("--threshold", type=THRESHOLD, help="no-answer threshold (0-1)")
    sv.add_argument("--batch", type=_checked(_batch), default=8,
                    help="most concurrent questions answered in one engine call (1: no batching)")
    sv.add_argument("--ray", metavar="ADDRESS",
                    help="run as Ray Serve replicas on a cluster: local, auto or host:port (needs the cluster extra)")
    sv.add_argument("--replicas", type=_checked(_replicas), default=1,
                    help="with --ray: replicas, each holding the models and the index (default 1)")
    sv.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    from qa.errors import NewsdeskError

    os.environ.setdefault("HF_HUB_OFFLINE", "1") if not os.environ.get("NEWSDESK_ONLINE") else None
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    install_plain_logging()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(message)s")
    _quiet_libraries(args.verbose)
    try:
        return args.func(args)
    except NewsdeskError as exc:
        print(f"error: {one_line(str(exc), 400)}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused something the engine did not expect to fail
        print(f"error: {one_line(str(exc), 400)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _quiet_libraries(verbose: bool) -> None:
    if verbose:
        return
    try:
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    except Exception:
        pass


if __name__ == "__main__":
    sys.exit(main())
