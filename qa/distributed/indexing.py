"""``newsdesk index --ray``: convert, split and embed on a Ray cluster; write the index here.

The pipeline is Ray Data (file list → ``map_batches`` converting and
splitting in tasks → ``map_batches`` embedding in an actor pool that loads
the model once per actor). The driver then hands the result to
``Assistant.index_converted``, the same planning and atomic generation
writing a local run uses, so the index is the one a single process builds
and incremental runs embed only new or changed articles. Nothing is
written until the job has finished: a failed job leaves the previous
generation in use and is reported in one line.

A worker that dies mid-run (its node lost, the OOM killer) costs a retry,
not the job: its conversion task runs again, or its embedding actor is
restarted (loading its model again) and the batch sent again. Retries are
counted (``WORKER_RETRIES``), so a file or batch that kills its worker every
time fails the job instead of stalling it.

Files are read by path on the workers, so on a real cluster every node
must see the articles at the same path (a shared disk), and have the same
Newsdesk installed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.contract import Progress
from qa.converters import ConversionReport, convert_paths, iter_files
from qa.converters.fetch import is_url
from qa.distributed import stages
from qa.distributed.cluster import ClusterError, _first_line, connect, native_logs_to
from qa.errors import NewsdeskError
from qa.resources import data_home
from qa.types import Article, Passage

if TYPE_CHECKING:
    from qa.assistant import Assistant, IndexReport

log = logging.getLogger("qa.distributed")

#: Files per conversion task, and article rows per embedding call (a few hundred passages).
FILES_PER_TASK = 16
ARTICLES_PER_EMBED_BATCH = 32
#: Logical CPUs of a conversion task and an embedding actor: on a node with one CPU both fit,
#: so conversion keeps flowing while the actors hold their models.
CONVERT_CPUS = 0.25
EMBED_CPUS = 0.75
#: Ray's own log lines of a ``--ray`` run (in the data folder's logs/): the terminal gets Newsdesk's.
RAY_LOG = "ray-driver.log"
#: Times a conversion task, or an embedding batch, is run again after the worker running it died.
#: Ray Data's own default is forever: a batch that kills its worker every time would stall the job.
WORKER_RETRIES = 3


def index_on_ray(
    assistant: Assistant,
    paths: Sequence[str | Path],
    *,
    address: str,
    workers: int | None = None,
    rebuild: bool = False,
    remove_missing: bool = True,
    progress: Progress | None = None,
    follow_symlinks: bool = False,
    threads_per_worker: int = 1,
) -> IndexReport:
    """``Assistant.index`` with conversion, splitting and embedding on the cluster at ``address``.

    ``workers`` embedding actors (default: one per node). The articles are
    listed here (so unreadable places are known, as locally); http(s) URLs
    are fetched here too.
    """
    t0 = time.perf_counter()
    roots = [Path(p).resolve() for p in paths if not is_url(p)]
    urls = [str(p) for p in paths if is_url(p)]
    if progress:
        progress(0, 0, "reading files")
    listing = ConversionReport()
    files = [str(f) for f in iter_files(roots, follow_symlinks, listing)]
    known = frozenset() if rebuild else _indexed_ids(assistant)
    with native_logs_to(data_home() / "logs" / RAY_LOG), connect(address):
        rows = _run(assistant, files, known=known, workers=workers, threads=threads_per_worker, progress=progress)
    conv, embedded = _assemble(listing, rows, files_read=len(files))
    if urls:
        fetched = convert_paths(urls)
        conv.articles.extend(fetched.articles)
        conv.skipped.extend(fetched.skipped)
        conv.warnings.extend(fetched.warnings)

    def embed(fresh: list[Article], progress: Progress | None) -> tuple[list[Passage], np.ndarray]:
        """The cluster's passages and vectors; any the cluster did not embed (fetched, or
        indexed by someone else meanwhile and since removed) are embedded here."""
        missing = [a for a in fresh if a.id not in embedded]
        local = dict(zip((a.id for a in missing), _per_article(missing, *assistant.embed_articles(missing))))
        passages: list[Passage] = []
        vectors: list[np.ndarray] = []
        for a in fresh:
            ps, vs = embedded.get(a.id) or local[a.id]
            passages.extend(ps)
            vectors.append(vs)
        if not passages:
            return [], np.zeros((0, 0), dtype=np.float32)
        return passages, np.vstack([v for v in vectors if len(v)])

    return assistant.index_converted(
        conv, roots=roots, rebuild=rebuild, remove_missing=remove_missing, progress=progress, embed=embed, started=t0
    )


def _indexed_ids(assistant: Assistant) -> frozenset[str]:
    """Articles already in the index (read without the lock: generations are switched atomically)."""
    if not assistant.store.exists():
        return frozenset()
    try:
        return frozenset(assistant.store.load(embedder=assistant.embedder.model_name).articles)
    except NewsdeskError:
        return frozenset()  # a damaged index: index_converted reports it under the lock


def _run(
    assistant: Assistant,
    files: list[str],
    *,
    known: frozenset[str],
    workers: int | None,
    threads: int,
    progress: Progress | None,
) -> list[tuple[int, int, str, str, bytes]]:
    """The Ray Data job; its rows, in no particular order. Any failure is one ClusterError line."""
    import ray
    from ray.data import ActorPoolStrategy, DataContext

    _quiet_console("ray.data")
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    if not files:
        return []
    if workers is None:
        workers = max(1, len([n for n in ray.nodes() if n.get("Alive")]))
    items = [{"file_no": i, "path": p} for i, p in enumerate(files)]
    ds: Any = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), -(-len(items) // FILES_PER_TASK))))
    ds = ds.map_batches(
        stages.convert_and_split,
        batch_format="pandas",
        batch_size=FILES_PER_TASK,
        num_cpus=CONVERT_CPUS,
        max_retries=WORKER_RETRIES,
        fn_kwargs={"reader": assistant.reader.model_name, "passage_tokens": assistant.passage_tokens, "known": known},
    )
    ds = ds.map_batches(
        stages.Embed,
        batch_format="pandas",
        batch_size=ARTICLES_PER_EMBED_BATCH,
        compute=ActorPoolStrategy(size=workers),
        num_cpus=EMBED_CPUS,
        # A dead actor is always restarted (Ray Data counts on that to keep its pool full); the batch it
        # was embedding is sent again at most WORKER_RETRIES times, then the job fails.
        max_restarts=-1,
        max_task_retries=WORKER_RETRIES,
        fn_constructor_kwargs={
            "model": assistant.embedder.model_name,
            "precision": assistant.embedder.requested_precision.value,
            "threads": threads,
        },
    )
    rows: list[tuple[int, int, str, str, bytes]] = []
    done_files: set[int] = set()
    try:
        for batch in ds.iter_batches(batch_format="pandas", batch_size=None):
            rows.extend(zip(batch["file_no"], batch["seq"], batch["kind"], batch["payload"], batch["vectors"]))
            done_files.update(int(f) for f in batch["file_no"])
            if progress:
                progress(len(done_files), len(files), "converting and embedding on the cluster")
    except Exception as exc:
        raise ClusterError(f"distributed indexing failed, the index is unchanged: {_reason(_cause(exc))}") from None
    return rows


def _reason(exc: BaseException) -> str:
    """What went wrong, in words: a worker lost on every try says so rather than in Ray's RPC terms."""
    from ray.exceptions import RayActorError, WorkerCrashedError

    if isinstance(exc, (RayActorError, WorkerCrashedError)):  # reaches here only once the retries are spent
        return f"a worker died on each of {WORKER_RETRIES + 1} tries at the same batch ({type(exc).__name__})"
    return _first_line(exc)


def _quiet_console(name: str) -> None:
    """No console output from logger ``name`` (Ray Data sets up its own on import).

    A failed job is reported in one line by ``_run``; Ray Data would also
    print its traceback. Its file handler stays, so the details are still in
    the session's ``ray-data.log``.
    """
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)


def _cause(exc: BaseException) -> BaseException:
    """The worker's own exception inside Ray's wrappers, for a line that says what went wrong."""
    seen = 0
    while getattr(exc, "cause", None) is not None and seen < 8:
        exc, seen = exc.cause, seen + 1  # type: ignore[attr-defined]
    return exc


def _assemble(
    listing: ConversionReport, rows: list[tuple[int, int, str, str, bytes]], *, files_read: int
) -> tuple[ConversionReport, dict[str, tuple[list[Passage], np.ndarray]]]:
    """The ConversionReport a local run would make (same order), and the cluster's passages and vectors."""
    conv = ConversionReport(skipped=list(listing.skipped), warnings=list(listing.warnings), files_read=files_read)
    embedded: dict[str, tuple[list[Passage], np.ndarray]] = {}
    for _file, _seq, kind, payload, packed in sorted(rows, key=lambda r: (int(r[0]), int(r[1]))):
        if kind == "fatal":
            raise NewsdeskError(payload)
        if kind == "skipped":
            conv.skipped.append(stages.skipped_of(payload))
        elif kind == "warning":
            conv.warnings.append(payload)
        else:
            data = json.loads(payload)
            article = stages.article_of(data)
            conv.articles.append(article)
            if data["spans"] is not None and article.id not in embedded:
                vectors = np.frombuffer(packed, dtype="<f4").astype(np.float32)
                n = len(data["spans"])
                embedded[article.id] = (
                    stages.passages_of(article, data["spans"]),
                    vectors.reshape(n, -1) if n else np.zeros((0, 0), dtype=np.float32),
                )
    for s in conv.skipped:
        log.warning("%s", s)
    for w in conv.warnings:
        log.warning("%s", w)
    return conv, embedded


def _per_article(
    articles: list[Article], passages: list[Passage], vectors: np.ndarray
) -> list[tuple[list[Passage], np.ndarray]]:
    """Split one embed call's output back into each article's passages and vectors."""
    out, lo = [], 0
    for a in articles:
        ps = [p for p in passages if p.article_id == a.id]
        out.append((ps, vectors[lo : lo + len(ps)] if ps else np.zeros((0, 0), dtype=np.float32)))
        lo += len(ps)
    return out
