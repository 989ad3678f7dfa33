"""Sparse retrieval: BM25 (bm25s) over the same passages as the dense index."""

from __future__ import annotations

import numpy as np

from qa.retrievers.ranking import best


def query_words(question: str) -> list[str]:
    """The question's words as BM25 indexes them (stop words out, repeats kept: they count twice)."""
    import bm25s

    tokens = bm25s.tokenize([question], stopwords="en", show_progress=False, return_ids=False)
    return list(tokens[0]) if tokens else []


class BM25Retriever:
    def __init__(self, bm25, n_passages: int):
        self.bm25 = bm25
        self.n = n_passages

    def run(self, question: str, top_k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score) best first, ties by row; passages without a query word are left out."""
        if self.n == 0 or top_k <= 0:
            return []
        # Keep only words the index knows; an all-unknown query has no BM25 hits.
        vocab = self.bm25.vocab_dict
        words = [t for t in query_words(question) if t in vocab]
        if not words:
            return []
        weight = mask.astype(np.float32) if mask is not None else None
        scores = self.bm25.get_scores(words, weight_mask=weight)
        hits = np.flatnonzero(scores > 0)
        return [(int(hits[i]), float(scores[hits[i]])) for i in best(scores[hits], top_k)]
