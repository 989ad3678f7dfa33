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

The work is split so that shards may live in other processes: each holder
of shards counts (``TermCounts.of``), the counts are summed
(``TermCounts.total``) into one ``BM25Query``, and each holder scores its
own passages with it (``shard_scores``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.store.terms import TermStats

#: bm25s.BM25()'s defaults, which build_bm25 uses.
K1, B = 1.5, 0.75


@dataclass(frozen=True, kw_only=True)
class TermCounts:
    """What some shards know of a question's words: passages, their total length, each word's df."""

    docs: int
    length: int
    #: Passages holding each word, for the words at least one of the shards indexes.
    df: dict[str, int]

    @classmethod
    def of(cls, shards: Sequence[TermStats], words: Iterable[str]) -> TermCounts:
        known = {w for w in words if any(w in s.vocab for s in shards)}
        return cls(
            docs=sum(s.docs for s in shards),
            length=sum(int(s.lengths.sum(dtype=np.int64)) for s in shards),
            df={w: sum(s.df(w) for s in shards) for w in sorted(known)},
        )

    @classmethod
    def total(cls, parts: Iterable[TermCounts]) -> TermCounts:
        """The counts of the whole index: every part's summed (integers, so the order does not matter)."""
        docs, length = 0, 0
        df: dict[str, int] = {}
        for p in parts:
            docs, length = docs + p.docs, length + p.length
            for w, n in p.df.items():
                df[w] = df.get(w, 0) + n
        return cls(docs=docs, length=length, df=df)


@dataclass(frozen=True, kw_only=True)
class BM25Query:
    """A question's BM25 weights under the whole index's statistics: what every shard scores with."""

    #: The question's indexed words in its order, repeats kept (a repeated word counts again).
    words: tuple[str, ...]
    idf: dict[str, np.float32]
    avgdl: np.float64

    @classmethod
    def of(cls, words: Sequence[str], counts: TermCounts) -> BM25Query | None:
        """None when no word of the question is indexed (or the index is empty): no BM25 hits."""
        kept = tuple(w for w in words if w in counts.df)
        if not kept or not counts.docs:
            return None
        n = counts.docs
        return cls(
            words=kept,
            idf={w: np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5))) for w, df in counts.df.items()},
            #: What np.mean gives over the lengths of one index (an exact sum of integers, divided once).
            avgdl=np.float64(counts.length / n),
        )


def shard_scores(shard: TermStats, query: BM25Query) -> np.ndarray:
    """Every passage of ``shard`` scored for ``query``, float32 (0 where no word of it occurs)."""
    acc = np.zeros(shard.docs, dtype=np.float32)
    for w in query.words:
        rows, tf = shard.postings(w)
        if len(rows):
            length = shard.lengths[rows]
            tfc = tf / (K1 * ((1 - B) + B * length / query.avgdl) + tf)
            np.add.at(acc, rows, (query.idf[w] * tfc).astype(np.float32))
    return acc
