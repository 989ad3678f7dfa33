"""Hybrid retrieval over a sharded index: every shard searched, one ranking as one index would give.

The shards are reached through groups (``qa.retrievers.shard_search``): one
group holding every shard when the index is open in this process, or
several groups in other processes (Ray Serve replicas) when it is spread.
The merge is the same code either way:

Dense: each group returns its best ``n`` by inner product (from each of its
shards' best ``n``); the union, ordered by score (ties by the passages' place
in the whole index), cut at ``n``, is what one index's search returns,
because every passage of the global best ``n`` is among its own shard's best
``n`` (exact for flat FAISS; HNSW and IVF are approximate per shard as they
are in one index). BM25: each group counts the question's words, the counts
are summed into the whole index's statistics and each group scores its
passages with them (``qa.retrievers.global_bm25``), so BM25 scores compare
across groups and their best ``n`` merge like the dense ones. The two lists
are then fused by the same reciprocal rank fusion as
``qa.retrievers.hybrid``, and only the fused top ``k`` passages are fetched.
Filters travel to the groups, which apply them to their own passages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import numpy as np

from qa.contract import Retrieval
from qa.retrievers.filters import Filters
from qa.retrievers.global_bm25 import BM25Query, TermCounts
from qa.retrievers.ranking import fuse, merge_hits
from qa.retrievers.shard_search import Fetched, Hit, ShardSearch
from qa.retrievers.sparse import query_words
from qa.types import Article, Passage, RetrievedPassage

T = TypeVar("T")


class ShardedRetriever:
    """The ``HybridRetriever`` of a sharded index: same ``run``, same results, over groups of shards.

    ``keep`` is handed the articles of every fetch (a spread index keeps the
    texts it is about to read; see ``qa.retrievers.spread``).
    """

    def __init__(
        self,
        parts: Sequence[ShardSearch],
        *,
        mode: Retrieval = Retrieval.HYBRID,
        candidates: int = 30,
        keep: Callable[[Mapping[str, Article]], None] | None = None,
    ):
        self.parts = tuple(parts)
        self.mode = mode
        self.candidates = candidates
        self.keep = keep
        #: Groups are asked together (each call waits on another process); one group is asked directly.
        self._pool = ThreadPoolExecutor(2 * len(self.parts), "shard-groups") if len(self.parts) > 1 else None

    def run(
        self, question: str, query_vector: np.ndarray | None, top_k: int = 5, filters: Filters | None = None
    ) -> list[RetrievedPassage]:
        n = max(self.candidates, top_k)
        filters = filters if filters is not None and filters.active else None
        vector = query_vector if self.mode != "bm25" else None
        words = query_words(question) if self.mode != "dense" else []
        asks: list[Callable[[], list[Hit] | TermCounts]] = []
        for p in self.parts:
            if vector is not None:
                asks.append(partial(p.dense, vector, n, filters))
            if words:
                asks.append(partial(p.term_counts, sorted(set(words))))
        answers = self._all(asks)
        dense_lists = [a for a in answers if isinstance(a, list)]
        query = BM25Query.of(words, TermCounts.total(a for a in answers if isinstance(a, TermCounts)))
        sparse_lists = self._all([partial(p.bm25, query, n, filters) for p in self.parts]) if query else []
        dense, sparse = merge_hits(dense_lists, n), merge_hits(sparse_lists, n)
        fused = fuse(dense, sparse, top_k=top_k, key=int)
        owner = {key: g for lists in (dense_lists, sparse_lists) for g, hits in enumerate(lists) for key, _ in hits}
        passages = self._fetch([key for key, *_ in fused], owner)
        return [
            RetrievedPassage(passage=passages[key], score=score, rank=i, dense_rank=d, sparse_rank=s)
            for i, (key, score, d, s) in enumerate(fused, 1)
        ]

    def _fetch(self, keys: list[int], owner: dict[int, int]) -> dict[int, Passage]:
        """The passages of ``keys``, each asked of the group whose list named it (groups in parallel)."""
        wanted: dict[int, list[int]] = {}
        for key in keys:
            wanted.setdefault(owner[key], []).append(key)
        got: list[Fetched] = self._all([partial(self.parts[g].fetch, ks) for g, ks in wanted.items()])
        if self.keep is not None:
            self.keep({aid: a for f in got for aid, a in f.articles.items()})
        return {key: p for f in got for key, p in f.passages.items()}

    def _all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        if self._pool is None or len(calls) < 2:
            return [call() for call in calls]
        return list(self._pool.map(lambda call: call(), calls))
