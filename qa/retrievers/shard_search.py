"""What a search over shards asks of a group of shards, and such a group held in this process.

A sharded index can be searched in one process or with its shards spread
over several (``qa.distributed``: Ray Serve replicas of "shard groups").
Either way the merge (``qa.retrievers.sharded``) talks to each group through
``ShardSearch`` only, so the ranking is computed by the same code:

* ``dense``: the group's best ``n`` by inner product with the question vector;
* ``term_counts``: passages, total length and each query word's document
  frequency, summed by the merge into the whole index's BM25 statistics;
* ``bm25``: the group's best ``n`` scored with those statistics;
* ``fetch``: passages (and their articles) by key, for the fused top ``k`` only;
* ``summaries`` and ``articles``: what the engine needs besides retrieval
  (every article's metadata, wire-copy groups, counts; an article's text).

Passages are named by their key: their place in the whole index's order,
unique across shards, which also breaks every tie. ``LocalShards`` is the
one implementation over shards opened here; a remote group forwards the
same calls (``qa.distributed.shard_groups``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.retrievers.dense import DenseRetriever
from qa.retrievers.filters import FilterMasks, Filters
from qa.retrievers.global_bm25 import BM25Query, TermCounts, shard_scores
from qa.retrievers.ranking import best, merge_hits
from qa.store.index_store import IndexData
from qa.types import Article, ArticleRef, Passage

#: (passage key, score): the key is the passage's place in the whole index.
Hit = tuple[int, float]

#: The manifest fields a shard reports (the index's own summary is built from them).
SUMMARY_FIELDS = ("embedder", "dimension", "faiss", "written", "passages", "shard", "shards")


@dataclass(frozen=True, kw_only=True)
class ShardSummary:
    """One shard as the engine sees it without its passages: manifest fields, articles' metadata, wire groups."""

    shard: int
    manifest: dict
    #: The shard's articles in its own order (no text).
    articles: list[ArticleRef]
    groups: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Fetched:
    """Passages by key, with the articles they come from (text included)."""

    passages: dict[int, Passage]
    articles: dict[str, Article]


class ShardSearch(Protocol):
    """The per-group operations of a search over shards (see the module's docstring)."""

    def summaries(self) -> list[ShardSummary]: ...

    def dense(self, query: np.ndarray, n: int, filters: Filters | None) -> list[Hit]: ...

    def term_counts(self, words: Sequence[str]) -> TermCounts: ...

    def bm25(self, query: BM25Query, n: int, filters: Filters | None) -> list[Hit]: ...

    def fetch(self, keys: Sequence[int]) -> Fetched: ...

    def articles(self, ids: Sequence[str]) -> dict[str, Article]: ...


class LocalShards:
    """``ShardSearch`` over shards opened in this process (``ids``: their numbers in the index)."""

    def __init__(self, shards: Sequence[IndexData], *, ids: Sequence[int] | None = None):
        self.shards = tuple(shards)
        self.ids = tuple(range(len(self.shards)) if ids is None else ids)
        if len(self.ids) != len(self.shards):
            raise ValueError("one shard number per shard")
        self._dense = [DenseRetriever(d.dense, d.vectors) for d in self.shards]
        self._masks = [FilterMasks(d.passages, d.articles) for d in self.shards]

    def summaries(self) -> list[ShardSummary]:
        return [
            ShardSummary(
                shard=i,
                manifest={k: d.manifest[k] for k in SUMMARY_FIELDS if k in d.manifest},
                articles=[ArticleRef.of(a) for a in d.articles.values()],
                groups=dict(d.groups),
            )
            for i, d in zip(self.ids, self.shards)
        ]

    def dense(self, query: np.ndarray, n: int, filters: Filters | None) -> list[Hit]:
        """Each shard's best ``n`` (exact for flat FAISS, as in one index), merged and cut at ``n``."""
        return merge_hits(
            (
                [(int(d.order[row]), score) for row, score in retriever.run(query, n, masks.get(filters))]
                for d, retriever, masks in zip(self.shards, self._dense, self._masks)
            ),
            n,
        )

    def term_counts(self, words: Sequence[str]) -> TermCounts:
        return TermCounts.of([d.bm25 for d in self.shards], words)  # type: ignore[misc]

    def bm25(self, query: BM25Query, n: int, filters: Filters | None) -> list[Hit]:
        """The best ``n`` passages with a query word, scored with the whole index's statistics."""
        keys, scores = [], []
        for d, masks in zip(self.shards, self._masks):
            acc = shard_scores(d.bm25, query)  # type: ignore[arg-type]
            mask = masks.get(filters)
            if mask is not None:
                acc *= mask.astype(np.float32)
            rows = np.flatnonzero(acc > 0)
            keys.append(d.order[rows])
            scores.append(acc[rows])
        if not keys or n <= 0:
            return []
        key, score = np.concatenate(keys), np.concatenate(scores)
        return [(int(key[i]), float(score[i])) for i in best(score, n, keys=key)]

    def fetch(self, keys: Sequence[int]) -> Fetched:
        """The passages of ``keys`` this group holds (a shard's keys ascend with its rows)."""
        want = np.unique(np.asarray(keys, dtype=np.int64))
        passages: dict[int, Passage] = {}
        articles: dict[str, Article] = {}
        for d in self.shards:
            pos = np.minimum(np.searchsorted(d.order, want), max(len(d.order) - 1, 0))
            for key, row in zip(want, pos):
                if len(d.order) and d.order[row] == key:
                    p = d.passages[int(row)]
                    passages[int(key)] = p
                    articles[p.article_id] = d.articles[p.article_id]
        return Fetched(passages=passages, articles=articles)

    def articles(self, ids: Sequence[str]) -> dict[str, Article]:
        return {aid: d.articles[aid] for aid in ids for d in self.shards if aid in d.articles}
