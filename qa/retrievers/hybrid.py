"""Hybrid retrieval: dense and BM25 candidates fused by reciprocal rank fusion.

RRF needs no score calibration between the two lists (cosines and BM25 scores
live on different scales), which is why it is the default fusion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from qa.contract import Retrieval
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.filters import FilterMasks, Filters
from qa.retrievers.ranking import RRF_K, fuse
from qa.retrievers.sparse import BM25Retriever
from qa.types import Article, Passage, RetrievedPassage

__all__ = ["RRF_K", "HybridRetriever"]


@dataclass
class HybridRetriever:
    dense: DenseRetriever
    sparse: BM25Retriever
    passages: list[Passage]
    mode: Retrieval = Retrieval.HYBRID
    candidates: int = 30
    #: The passages' articles, which filters are checked against.
    articles: Mapping[str, Article] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._masks = FilterMasks(self.passages, self.articles)

    def run(
        self, question: str, query_vector: np.ndarray | None, top_k: int = 5, filters: Filters | None = None
    ) -> list[RetrievedPassage]:
        n = max(self.candidates, top_k)
        mask = self._masks.get(filters)
        dense = self.dense.run(query_vector, n, mask) if self.mode != "bm25" and query_vector is not None else []
        sparse = self.sparse.run(question, n, mask) if self.mode != "dense" else []
        return [
            RetrievedPassage(passage=self.passages[row], score=score, rank=i, dense_rank=d, sparse_rank=s)
            for i, (row, score, d, s) in enumerate(fuse(dense, sparse, top_k=top_k, key=int), 1)
        ]
