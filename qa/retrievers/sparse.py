"""Sparse retrieval: BM25 (bm25s) over the same passages as the dense index."""

from __future__ import annotations

import numpy as np


class BM25Retriever:
    def __init__(self, bm25, n_passages: int):
        self.bm25 = bm25
        self.n = n_passages

    def run(self, question: str, top_k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        import bm25s

        if self.n == 0 or top_k <= 0:
            return []
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False, return_ids=False)
        if not tokens or not tokens[0]:
            return []
        # Keep only words the index knows; an all-unknown query has no BM25 hits.
        vocab = self.bm25.vocab_dict
        words = [t for t in tokens[0] if t in vocab]
        if not words:
            return []
        k = min(top_k, self.n)
        weight = mask.astype(np.float32) if mask is not None else None
        ids, scores = self.bm25.retrieve([words], k=k, show_progress=False, n_threads=1, weight_mask=weight)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]
