"""One ranking rule for every retriever: higher score first, ties in the index's own order.

Ties are real (a wire story printed by three papers gives three passages
with one vector and one BM25 score), and reciprocal rank fusion ties often
(dense rank 3 alone scores what BM25 rank 3 alone scores). Breaking every
tie by the passage's place in the index makes a ranking reproducible, and
the same whether the index is one folder or several shards, whose passages
keep their place in the whole index (``qa.store.shards``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

#: Reciprocal rank fusion's constant (the usual 60): the 1st and the 10th differ, but not by a factor of 10.
RRF_K = 60


def best(scores: np.ndarray, k: int, *, keys: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first; ties by ``keys`` (default: position).

    Linear in ``len(scores)``: everything at least as high as the k-th score is
    sorted, so ties at the cut are settled by the rule too, not by chance.
    """
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    kth = np.partition(scores, n - k)[n - k]
    cand = np.flatnonzero(scores >= kth)
    tie = cand if keys is None else keys[cand]
    return cand[np.lexsort((tie, -scores[cand]))][:k]


def merge_hits(lists: Iterable[list[tuple[int, float]]], n: int) -> list[tuple[int, float]]:
    """The best ``n`` of several ranked lists of (key, score): higher score first, ties by key.

    Each list holds the best ``n`` of its own part of the index, so the best
    ``n`` of their union is the best ``n`` of the whole (the rule is a total
    order: keys are unique).
    """
    return sorted((hit for hits in lists for hit in hits), key=lambda ks: (-ks[1], ks[0]))[:n]


def fuse(
    dense: list[tuple[int, float]],
    sparse: list[tuple[int, float]],
    *,
    top_k: int,
    key: Callable[[int], int],
) -> list[tuple[int, float, int | None, int | None]]:
    """Reciprocal rank fusion of two ranked lists of rows: (row, fused score, dense rank, BM25 rank), best first."""
    fused: dict[int, float] = {}
    d_rank = {row: r for r, (row, _) in enumerate(dense, 1)}
    s_rank = {row: r for r, (row, _) in enumerate(sparse, 1)}
    for row, r in d_rank.items():
        fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + r)
    for row, r in s_rank.items():
        fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + r)
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1], key(kv[0])))[:top_k]
    return [(row, score, d_rank.get(row), s_rank.get(row)) for row, score in ranked]
