"""``newsdesk``: a thin command line over the Python API.

This module holds the parser and the entry point; ``tui.commands`` does the
work of each subcommand and ``tui.arguments`` checks arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from qa.textsafe import install_plain_logging, one_line
from tui.arguments import BATCH, DATE, PORT, REPLICAS, SECONDS, SHARD_GROUPS, SHARDS, THRESHOLD, TOP_K, Parser
from tui.commands import (
    cmd_ask,
    cmd_chat,
    cmd_eval,
    cmd_index,
    cmd_serve,
    cmd_stats,
    cmd_watch,
    format_answer,
    open_assistant,
)

__all__ = ["THRESHOLD", "build_parser", "format_answer", "main", "open_assistant"]


#: Shown under ``newsdesk --help``: the two commands a first run needs.
QUICK_START = """quick start:
  newsdesk chat                          ask about the bundled articles (F1 lists the keys)
  newsdesk index FOLDER; newsdesk chat   index your own articles, then ask about them"""


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="newsdesk",
        description="Exact, cited answers from news articles.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=QUICK_START,
    )
    p.add_argument("--verbose", "-v", action="store_true")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", help="index folder (default: per-user data folder)")
        sp.add_argument("--embedder", help="sentence-transformers model path or hub id")
        sp.add_argument("--reader", help="extractive QA model path or hub id (default models/reader)")
        sp.add_argument(
            "--precision",
            choices=["auto", "fp32", "bf16", "int8"],
            help="numeric precision of the models (default: NEWSDESK_PRECISION, else auto: "
            "the fastest that agrees with fp32, measured once per machine)",
        )

    i = sub.add_parser("index", help="index files, folders, RSS/Atom feeds and http(s) URLs")
    i.add_argument("paths", nargs="+", help="files, folders, feed files, feed or article URLs")
    common(i)
    i.add_argument("--rebuild", action="store_true", help="discard the old index and build anew")
    i.add_argument("--faiss", dest="faiss_kind", choices=["auto", "flat", "hnsw", "ivf"])
    i.add_argument("--follow-symlinks", action="store_true")
    i.add_argument(
        "--shards",
        type=SHARDS,
        metavar="N",
        help="split a new index into N shards by article id, built in parallel and searched together "
        "(default: the index's own count, 1 for a new one; another count needs --rebuild)",
    )
    i.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="convert and embed on a Ray cluster: local (in this process), auto (RAY_ADDRESS or a "
        "running cluster) or host:port; needs the cluster extra",
    )
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
    a.add_argument(
        "--as-of",
        type=DATE,
        help="read time words (latest, yesterday, on Friday) against this date "
        "instead of the newest article, and search nothing after it",
    )
    a.add_argument("--json", action="store_true", help="print every Answer field as JSON")
    a.set_defaults(func=cmd_ask)

    c = sub.add_parser("chat", help="open the terminal chat")
    c.add_argument("paths", nargs="*")
    common(c)
    c.add_argument("--threshold", type=THRESHOLD, help="no-answer threshold (0-1)")
    c.add_argument(
        "--watch", action="store_true", help="keep indexing the folders among PATHs as files appear, change or go"
    )
    c.set_defaults(func=cmd_chat)

    w = sub.add_parser("watch", help="keep an index up to date with folders (Ctrl+C stops)")
    w.add_argument("folders", nargs="+")
    common(w)
    w.add_argument(
        "--debounce", type=SECONDS, default=1.0, help="seconds of quiet before a batch is indexed (default 1)"
    )
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
    sv.add_argument("--port", type=PORT, default=8000)
    sv.add_argument("--api-key", help="require Authorization: Bearer KEY (default: NEWSDESK_API_KEY, else none)")
    sv.add_argument("--top-k", type=TOP_K)
    sv.add_argument("--threshold", type=THRESHOLD, help="no-answer threshold (0-1)")
    sv.add_argument(
        "--batch", type=BATCH, default=8, help="most concurrent questions answered in one engine call (1: no batching)"
    )
    sv.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run as Ray Serve replicas on a cluster: local, auto or host:port (needs the cluster extra)",
    )
    sv.add_argument(
        "--replicas",
        type=REPLICAS,
        default=1,
        help="with --ray: replicas, each holding the models (and the index, unless it is spread over shard groups)",
    )
    sv.add_argument(
        "--shard-groups",
        type=SHARD_GROUPS,
        metavar="G",
        help="with --ray on a sharded index: spread its shards over G group replicas, each opening only its "
        "own shards (default: one group per shard; 0: every replica opens the whole index)",
    )
    sv.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    from qa.errors import NewsdeskError
    from qa.quiet import quiet_third_party

    if not os.environ.get("NEWSDESK_ONLINE"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    if args.verbose:
        os.environ["NEWSDESK_VERBOSE"] = "1"
    install_plain_logging()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(message)s")
    quiet_third_party()
    try:
        return int(args.func(args))
    except NewsdeskError as exc:
        print(f"error: {one_line(str(exc), 400)}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused something the engine did not expect to fail
        print(f"error: {one_line(str(exc), 400)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
