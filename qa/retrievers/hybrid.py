"""Hybrid retrieval: dense and BM25 candidates fused by reciprocal rank fusion.

RRF needs no score calibration between the two lists (cosines and BM25 scores
live on different scales), which is why it is the default fusion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.contract import Retrieval
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.ranking import RRF_K, fuse
from qa.retrievers.sparse import BM25Retriever
from qa.types import Passage, RetrievedPassage

__all__ = ["RRF_K", "HybridRetriever"]


@dataclass
class HybridRetriever:
    dense: DenseRetriever
    sparse: BM25Retriever
    passages: list[Passage]
    mode: Retrieval = Retrieval.HYBRID
    candidates: int = 30

    def run(
        self, question: str, query_vector: np.ndarray | None, top_k: int = 5, mask: np.ndarray | None = None
    ) -> list[RetrievedPassage]:
        n = max(self.candidates, top_k)
        dense = self.dense.run(query_vector, n, mask) if self.mode != "bm25" and query_vector is not None else []
        sparse = self.sparse.run(question, n, mask) if self.mode != "dense" else []
        return [
            RetrievedPassage(passage=self.passages[row], score=score, rank=i, dense_rank=d, sparse_rank=s)
            for i, (row, score, d, s) in enumerate(fuse(dense, sparse, top_k=top_k, key=int), 1)
        ]
