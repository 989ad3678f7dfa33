"""Hybrid retrieval over a sharded index: every shard searched, one ranking as one index would give.

Dense: each shard's FAISS returns its best ``n`` by inner product; the
union, ordered by score (ties by the passages' place in the whole index),
cut at ``n``, is what one index's search returns, because every passage of
the global best ``n`` is among its own shard's best ``n`` (exact for flat
FAISS; HNSW and IVF are approximate per shard as they are in one index).
BM25: scored with the whole index's statistics (``qa.retrievers.global_bm25``).
The two lists are then fused by the same reciprocal rank fusion as
``qa.retrievers.hybrid``, and filters apply per shard through one mask over
all passages, so ``Filters.mask`` works unchanged.
"""

from __future__ import annotations

import numpy as np

from qa.contract import Retrieval
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.global_bm25 import GlobalBM25
from qa.retrievers.ranking import fuse
from qa.store.shards import ShardedData
from qa.types import RetrievedPassage


class ShardedRetriever:
    """The ``HybridRetriever`` of a sharded index: same ``run``, same results."""

    def __init__(self, data: ShardedData, *, mode: Retrieval = Retrieval.HYBRID, candidates: int = 30):
        self.passages = data.passages
        self.offsets = data.offsets
        self.mode = mode
        self.candidates = candidates
        self.dense = [DenseRetriever(d.dense, d.vectors) for d in data.shards]
        self.sparse = GlobalBM25([d.bm25 for d in data.shards])  # type: ignore[misc]
        #: Each passage's place in the whole index, over the concatenated shards: breaks every tie.
        self.keys = np.concatenate([d.order for d in data.shards]) if data.shards else np.zeros(0, dtype=np.int64)
        self.sizes = [len(d.passages) for d in data.shards]

    def run(
        self, question: str, query_vector: np.ndarray | None, top_k: int = 5, mask: np.ndarray | None = None
    ) -> list[RetrievedPassage]:
        n = max(self.candidates, top_k)
        masks = [None if mask is None else mask[o : o + s] for o, s in zip(self.offsets, self.sizes)]
        dense = self._dense(query_vector, n, masks) if self.mode != "bm25" and query_vector is not None else []
        sparse = (
            self.sparse.run(question, n, masks=masks, offsets=self.offsets, keys=self.keys)
            if self.mode != "dense"
            else []
        )
        keys = self.keys
        return [
            RetrievedPassage(passage=self.passages[row], score=score, rank=i, dense_rank=d, sparse_rank=s)
            for i, (row, score, d, s) in enumerate(fuse(dense, sparse, top_k=top_k, key=lambda r: int(keys[r])), 1)
        ]

    def _dense(self, query: np.ndarray, n: int, masks: list[np.ndarray | None]) -> list[tuple[int, float]]:
        found = [
            (offset + row, score)
            for retriever, offset, m in zip(self.dense, self.offsets, masks)
            for row, score in retriever.run(query, n, m)
        ]
        found.sort(key=lambda rs: (-rs[1], int(self.keys[rs[0]])))
        return found[:n]
