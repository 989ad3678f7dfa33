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
from qa.store.index_store import IndexData
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
        old: IndexData | None = None
        if not rebuild and assistant.store.exists():
            old = assistant.store.load(embedder=assistant.embedder.model_name)
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

        passages: list[Passage] = []
        vectors: list[np.ndarray] = []
        if old is not None:
            rows = [i for i, p in enumerate(old.passages) if p.article_id in keep]
            passages.extend(old.passages[i] for i in rows)
            if rows:
                vectors.append(old.vectors[rows])
        new_passages, new_vectors = (embed or assistant.embed_articles)(fresh, progress)
        if new_passages:
            vectors.append(new_vectors)
            passages.extend(new_passages)
        report.passages_embedded = len(new_passages)
        articles = {**keep, **{a.id: a for a in fresh}}
        groups = wire_groups(articles, previous=old.groups if old else None)
        dim = assistant.embedder.dimension if (new_passages or old is None) else int(old.manifest["dimension"])
        vec = np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
        changed = fresh or len(keep) != len(old_articles) or old is None or groups != old.groups
        if changed:
            if progress:
                progress(len(passages), len(passages), "writing index")
            assistant.store.write(
                articles,
                passages,
                vec,
                assistant.embedder.model_name,
                dim,
                assistant.faiss_kind,
                extra={"reader": assistant.reader.model_name},
                groups=groups,
            )
            assistant.reload()
        elif old is not None:
            assistant.use(old)
    report.seconds = time.perf_counter() - t0
    return report
