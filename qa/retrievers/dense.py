"""Dense retrieval: question vector against the FAISS index."""

from __future__ import annotations

import numpy as np

from qa.retrievers.ranking import best


class DenseRetriever:
    def __init__(self, index, vectors: np.ndarray):
        self.index = index
        self.vectors = vectors

    def run(self, query: np.ndarray, top_k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine) best first, ties by row. With a filter mask, search exactly among allowed rows."""
        n = len(self.vectors)
        if n == 0 or top_k <= 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if mask is not None:
            rows = np.flatnonzero(mask)
            if len(rows) == 0:
                return []
            scores = self.vectors[rows] @ q[0]
            return [(int(rows[i]), float(scores[i])) for i in best(scores, top_k)]
        scores, ids = self.index.search(q, min(top_k, n))
        # FAISS keeps the first row it met among equal scores at the cut; within the list, order ties by row too.
        return sorted(((int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0), key=lambda rs: (-rs[1], rs[0]))
