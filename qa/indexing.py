"""Keeping an index in step with its articles: what to keep, drop and embed, then one new generation.

``Assistant.index`` converts files and calls ``update_index``; distributed
indexing (``qa.distributed``) converts and embeds on a cluster and calls it
with its own embed step, so both build the same index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.contract import Progress
from qa.converters import ConversionReport, Skipped
from qa.dedup import wire_groups
from qa.store.index_store import IndexData, IndexStore
from qa.store.shards import SHARDS_FILE, ShardedData, ShardedStore, drop_sharded, shard_contents, store_for_write
from qa.types import Article, Passage

if TYPE_CHECKING:
    from qa.assistant import Assistant

#: ``embed(articles, progress) -> (passages, vectors)``: the one step of indexing that can run elsewhere.
EmbedStep = Callable[[list[Article], Progress | None], tuple[list[Passage], np.ndarray]]


@dataclass
class IndexReport:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    #: Articles kept because their file or folder could not be read this time.
    kept: int = 0
    unchanged: int = 0
    passages_embedded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        kept = f"{self.kept} kept (unreadable now), " if self.kept else ""
        return (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, {kept}"
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )


def _under(path: str | None, roots: list[Path]) -> bool:
    if not path:
        return False
    p = Path(path.split("#", 1)[0])
    return any(p == r or p.is_relative_to(r) for r in roots)


def _kept_warnings(kept_paths: list[str], unread: list[Skipped]) -> list[str]:
    """One line per place that could not be read and still holds indexed articles."""
    lines = []
    for s in unread:
        n = sum(1 for path in kept_paths if _under(path, [Path(s.path)]))
        if n:
            lines.append(f"{s.path}: {s.reason}; kept its {n} indexed article{'s' if n != 1 else ''}")
    return lines


def update_index(
    assistant: Assistant,
    conv: ConversionReport,
    *,
    roots: list[Path],
    rebuild: bool = False,
    remove_missing: bool = True,
    progress: Progress | None = None,
    embed: EmbedStep | None = None,
    started: float | None = None,
) -> IndexReport:
    """What ``index`` does once files are converted: plan, embed what is new, write a generation.

    Distributed indexing (``qa.distributed``) converts and embeds on a
    cluster and passes its own ``embed`` step; which articles are kept,
    dropped or embedded, and the generation written, are decided here
    alone, so both paths build the same index.
    """
    t0 = time.perf_counter() if started is None else started
    report = IndexReport(skipped=list(conv.skipped), warnings=list(conv.warnings))
    unread = [Path(s.path) for s in conv.skipped]
    kept_paths: list[str] = []
    with assistant.store.lock():
        store = store_for_write(assistant.store, requested=assistant.shards, rebuild=rebuild)
        old: IndexData | ShardedData | None = None
        if not rebuild and store.exists():
            old = store.load(embedder=assistant.embedder.model_name)
        old_articles = old.articles if old else {}
        new_by_id: dict[str, Article] = {}
        for a in conv.articles:
            new_by_id.setdefault(a.id, a)
        old_paths = {a.path: aid for aid, a in old_articles.items()}
        new_paths = {a.path for a in new_by_id.values()}
        keep: dict[str, Article] = {}
        for aid, a in old_articles.items():
            if aid in new_by_id:
                keep[aid] = a
                report.unchanged += 1
            elif a.path in new_paths:
                continue  # same file, new content: replaced below
            elif not (remove_missing and _under(a.path, roots)):
                keep[aid] = a
            elif _under(a.path, unread):
                keep[aid] = a
                kept_paths.append(a.path or "")  # _under() is True only for a path
        fresh = [a for aid, a in new_by_id.items() if aid not in old_articles]
        for a in fresh:
            if a.path in old_paths and old_paths[a.path] not in new_by_id:
                report.updated += 1
            else:
                report.added += 1
        report.removed = len(old_articles) - len(keep) - report.updated
        report.removed = max(report.removed, 0)
        report.kept = len(kept_paths)
        report.warnings.extend(_kept_warnings(kept_paths, conv.skipped))

        new_passages, new_vectors = (embed or assistant.embed_articles)(fresh, progress)
        report.passages_embedded = len(new_passages)
        articles = {**keep, **{a.id: a for a in fresh}}
        groups = wire_groups(articles, previous=old.groups if old else None)
        dim = assistant.embedder.dimension if (new_passages or old is None) else int(old.manifest["dimension"])
        changed = fresh or len(keep) != len(old_articles) or old is None or groups != old.groups
        if changed:
            if progress:
                total = len(new_passages) + sum(1 for p in (old.passages if old else []) if p.article_id in keep)
                progress(total, total, "writing index")
            write_index(
                assistant,
                store,
                old,
                articles=articles,
                groups=groups,
                passages=new_passages,
                vectors=new_vectors,
                dim=dim,
                embedder=assistant.embedder.model_name,
            )
            assistant.store = store
            assistant.reload()
        elif old is not None:
            assistant.use(old)
    report.seconds = time.perf_counter() - t0
    return report


def write_index(
    assistant: Assistant,
    store: IndexStore | ShardedStore,
    old: IndexData | ShardedData | None,
    *,
    articles: dict[str, Article],
    groups: dict[str, str],
    passages: list[Passage],
    vectors: np.ndarray,
    dim: int,
    embedder: str,
) -> None:
    """A new generation holding ``articles``: the passages of ``old`` that belong to them, then ``passages``.

    Sharded, only the shards whose articles or groups change are rebuilt
    (``qa.store.shards.shard_contents``), in parallel, and made live together.
    """
    extra = {"reader": assistant.reader.model_name}
    if isinstance(store, ShardedStore):
        contents = shard_contents(
            store.shards,
            old if isinstance(old, ShardedData) else None,
            articles=articles,
            groups=groups,
            passages=passages,
            vectors=vectors,
            dim=dim,
        )
        store.write_shards(contents, embedder=embedder, dimension=dim, faiss_kind=assistant.faiss_kind, extra=extra)
        return
    kept: list[Passage] = []
    blocks: list[np.ndarray] = []
    if isinstance(old, IndexData):
        rows = [i for i, p in enumerate(old.passages) if p.article_id in articles]
        kept.extend(old.passages[i] for i in rows)
        if rows:
            blocks.append(old.vectors[rows])
    if passages:
        blocks.append(vectors)
    vec = np.vstack(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)
    store.write(articles, kept + passages, vec, embedder, dim, assistant.faiss_kind, extra=extra, groups=groups)
    if (store.root / SHARDS_FILE).exists():  # re-sharded to one: the old shards go once this is live
        drop_sharded(store.root)


def remove_article(assistant: Assistant, article_id: str) -> bool:
    """Drop one article and its passages (``Assistant.remove``); False when it is not indexed."""
    with assistant.store.lock():
        data = assistant.store.load(embedder=assistant.embedder.model_name)
        if article_id not in data.articles:
            return False
        write_index(
            assistant,
            assistant.store,
            data,
            articles={k: v for k, v in data.articles.items() if k != article_id},
            groups={k: g for k, g in data.groups.items() if k != article_id},
            passages=[],
            vectors=np.zeros((0, int(data.manifest["dimension"])), dtype=np.float32),
            dim=int(data.manifest["dimension"]),
            embedder=data.manifest["embedder"],
        )
        assistant.reload()
    return True
