"""BM25 over several shards with the statistics of the whole index, so scores compare across shards.

A BM25 score depends on the corpus: a term's document frequency (its idf),
the number of passages and their average length. Scores from shards that
each used their own statistics are not comparable, and merging them would
not give one index's ranking. Here every shard keeps raw counts
(``qa.store.terms``) and a query is scored with the sums over all shards:

    N = Σ passages,  avgdl = Σ lengths / N,  df(t) = Σ df_shard(t)
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
    score(d) = Σ over query words t in d:  idf(t) · tf / (tf + k1 · (1 - b + b · len(d) / avgdl))

which is bm25s's "lucene" BM25 (what ``qa.store.derived.build_bm25`` builds,
k1 = 1.5, b = 0.75), computed in the same float types and order: idf rounded
to float32, each term's contribution computed in float64 and rounded to
float32, contributions summed in float32 in query-word order (a repeated
word counts again). So a passage gets the score one index over every
shard's passages gives it, to the bit (``tests/test_shards.py`` checks).
"""

from __future__ import annotations

import math

import numpy as np

from qa.retrievers.ranking import best
from qa.retrievers.sparse import query_words
from qa.store.terms import TermStats

#: bm25s.BM25()'s defaults, which build_bm25 uses.
K1, B = 1.5, 0.75


class GlobalBM25:
    """Scores every shard's passages for a question with statistics summed over all shards."""

    def __init__(self, shards: list[TermStats]):
        self.shards = shards
        self.docs = sum(s.docs for s in shards)
        total = sum(int(s.lengths.sum(dtype=np.int64)) for s in shards)
        #: What np.mean gives over the lengths of one index (an exact sum of integers, divided once).
        self.avgdl = np.float64(total / self.docs) if self.docs else np.float64(0.0)

    def idf(self, df: int) -> np.float32:
        return np.float32(math.log(1 + (self.docs - df + 0.5) / (df + 0.5)))

    def scores(self, question: str, masks: list[np.ndarray | None]) -> list[np.ndarray] | None:
        """Each shard's float32 scores (filtered rows zeroed), or None when no word of the question is indexed."""
        words = [w for w in query_words(question) if any(w in s.vocab for s in self.shards)]
        if not words or not self.docs:
            return None
        out = [np.zeros(s.docs, dtype=np.float32) for s in self.shards]
        idf = {w: self.idf(sum(s.df(w) for s in self.shards)) for w in set(words)}
        for w in words:
            for shard, acc in zip(self.shards, out):
                rows, tf = shard.postings(w)
                if len(rows):
                    length = shard.lengths[rows]
                    tfc = tf / (K1 * ((1 - B) + B * length / self.avgdl) + tf)
                    np.add.at(acc, rows, (idf[w] * tfc).astype(np.float32))
        for acc, mask in zip(out, masks):
            if mask is not None:
                acc *= mask.astype(np.float32)
        return out

    def run(
        self, question: str, top_k: int, *, masks: list[np.ndarray | None], offsets: tuple[int, ...], keys: np.ndarray
    ) -> list[tuple[int, float]]:
        """(row over all shards, score) best first, ties by ``keys`` (the passages' order in the index)."""
        per_shard = self.scores(question, masks) if top_k > 0 else None
        if per_shard is None:
            return []
        rows = np.concatenate([np.flatnonzero(s > 0) + off for s, off in zip(per_shard, offsets)])
        scores = np.concatenate([s[s > 0] for s in per_shard])
        return [(int(rows[i]), float(scores[i])) for i in best(scores, top_k, keys=keys[rows])]
