"""Hybrid retrieval: dense and BM25 candidates fused by reciprocal rank fusion.

RRF needs no score calibration between the two lists (cosines and BM25 scores
live on different scales), which is why it is the default fusion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.contract import Retrieval
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.sparse import BM25Retriever
from qa.types import Passage, RetrievedPassage

RRF_K = 60


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
        fused: dict[int, float] = {}
        d_rank = {row: r for r, (row, _) in enumerate(dense, 1)}
        s_rank = {row: r for r, (row, _) in enumerate(sparse, 1)}
        for row, r in d_rank.items():
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + r)
        for row, r in s_rank.items():
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + r)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
        return [
            RetrievedPassage(
                passage=self.passages[row], score=score, rank=i, dense_rank=d_rank.get(row), sparse_rank=s_rank.get(row)
            )
            for i, (row, score) in enumerate(ranked, 1)
        ]
