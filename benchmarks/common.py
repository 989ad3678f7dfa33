"""Shared pieces of the benchmark scripts: corpus, machine info, results, tables.

The corpus is SQuAD v1.1 train's paragraphs (``../shared/data``), each made an
article the way the JSON/JSONL converter would make it (title = the Wikipedia
page title, body = the paragraph). When a size needs more passages than the
18,896 paragraphs give, paragraphs are reused with a numbered title, so the
texts and article ids stay distinct; the README says where that happens.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CACHE = ROOT / "benchmarks" / ".cache"
SHARED_DATA = ROOT.parent / "shared" / "data" / "squad11"
SQUAD_TRAIN = SHARED_DATA / "train.jsonl.gz"
SQUAD_DEV = SHARED_DATA / "dev-v1.1.json"
SEEDS = ROOT / "seeds"
SEED_GOLD = ROOT / "tests" / "gold" / "seed.jsonl"

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def reader_path() -> str:
    """The reader to benchmark: ``--reader`` (passed on to subprocesses) or models/reader."""
    from qa.resources import reader_path as shipped_reader_path

    return os.environ.get("NEWSDESK_BENCH_READER") or str(shipped_reader_path())


def add_reader_arg(parser) -> None:
    parser.add_argument("--reader", help="reader model folder (default models/reader)")


def use_reader_arg(args) -> str:
    if getattr(args, "reader", None):
        os.environ["NEWSDESK_BENCH_READER"] = str(Path(args.reader).resolve())
    return reader_path()


def add_precision_arg(parser) -> None:
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"],
                        help="precision of the reader and the embedder (default auto: measured)")


def cpu_line() -> str:
    """CPU model and the flags that matter for bf16/int8, for the first line of a benchmark's output."""
    from qa.precision import cpu_info

    c = cpu_info()
    return f"CPU: {c['model']}; flags: {' '.join(c['flags']) or 'none of note'}"


def require(path: Path, what: str) -> None:
    if not path.exists():
        raise SystemExit(f"{what} not found at {path}")


def train_paragraphs() -> list[tuple[str, str]]:
    """(title, paragraph) of each distinct SQuAD train context, in file order."""
    require(SQUAD_TRAIN, "SQuAD v1.1 train")
    seen: dict[str, str] = {}
    with gzip.open(SQUAD_TRAIN, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["context"] not in seen:
                seen[r["context"]] = r["title"].replace("_", " ")
    return [(t, c) for c, t in seen.items()]


def corpus_records(n_articles: int, paragraphs: Sequence[tuple[str, str]] | None = None) -> list[dict]:
    """``n_articles`` JSONL records; past the end, paragraphs come again with a numbered title."""
    paragraphs = paragraphs or train_paragraphs()
    out = []
    for i in range(n_articles):
        title, text = paragraphs[i % len(paragraphs)]
        copy = i // len(paragraphs)
        out.append({"title": f"{title} ({copy + 1})" if copy else title, "text": text, "section": "SQuAD"})
    return out


def write_jsonl(records: Iterable[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def machine() -> dict[str, Any]:
    from qa.evaluation.runner import machine_info

    from qa.precision import cpu_info

    info = machine_info()
    info["cpu_flags"] = cpu_info()["flags"]
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gb"] = round(int(mem) / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def pct(xs: Sequence[float], q: float) -> float | None:
    from qa.evaluation.scoring import percentile

    return percentile(list(xs), q)


def save(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (atomically) with machine info and a timestamp."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": machine(), "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), **data}
    p = RESULTS / f"{name}.json"
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.replace(p)
    return p


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a plain rich table (cells are text, never markup)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(title))
    for i, c in enumerate(columns):
        t.add_column(Text(c), justify="left" if i == 0 else "right")
    for r in rows:
        t.add_row(*(Text(fmt(x)) for x in r))
    Console(markup=False, highlight=False, width=160).print(t)


def fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.3g}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def squad_dev_assistant(items, **kwargs):
    """An Assistant over the SQuAD dev paragraphs, indexed once into the cache and reused."""
    from qa import Assistant
    from qa.evaluation.runner import index_contexts

    index_dir = CACHE / "squad-dev-index"
    if Assistant(index_dir, **kwargs).store.exists():
        return Assistant.open(index_dir, **kwargs)
    return index_contexts(items, index_dir=index_dir, **kwargs)
