"""Raw BM25 statistics of a shard: term frequencies, document lengths and the vocabulary.

bm25s stores finished scores, which bake in its own corpus's document
frequencies and average length; scores from two such indexes cannot be
compared. A shard keeps the counts instead, so a search over every shard
can score with the statistics of the whole index (``qa.retrievers.global_bm25``)
and rank exactly as one index would. The words are those ``build_bm25``
indexes (``qa.store.derived.corpus_tokens``), so the two agree.

On disk (``terms/`` in a shard's generation; numpy arrays, no pickle)::

    vocab.json     the terms, in column order
    indptr.npy     int64, one more than terms: where each term's postings start
    rows.npy       int32, the passage row of each posting (ascending within a term)
    tf.npy         float32, how often the term occurs in that passage
    lengths.npy    int32, tokens per passage (as bm25s counts them)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.store.derived import corpus_tokens
from qa.types import Passage

TERMS_DIR = "terms"
_ARRAYS = ("indptr", "rows", "tf", "lengths")


@dataclass(frozen=True, kw_only=True)
class TermStats:
    """Postings of one shard, by term: what global BM25 scoring needs, nothing precomputed."""

    vocab: dict[str, int]
    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray

    @property
    def docs(self) -> int:
        return len(self.lengths)

    def df(self, term: str) -> int:
        """Passages of this shard that hold ``term``."""
        col = self.vocab.get(term)
        return 0 if col is None else int(self.indptr[col + 1] - self.indptr[col])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of ``term``; empty when the shard does not have it."""
        col = self.vocab.get(term)
        if col is None:
            return self.rows[:0], self.tf[:0]
        lo, hi = int(self.indptr[col]), int(self.indptr[col + 1])
        return self.rows[lo:hi], self.tf[lo:hi]


def build_terms(passages: list[Passage]) -> TermStats:
    """Count every passage's words; an empty shard has no documents (bm25s would invent one)."""
    docs = corpus_tokens(passages) if passages else []
    vocab: dict[str, int] = {}
    cols: list[int] = []
    rows: list[int] = []
    tfs: list[int] = []
    for row, words in enumerate(docs):
        for word, tf in Counter(words).items():
            cols.append(vocab.setdefault(word, len(vocab)))
            rows.append(row)
            tfs.append(tf)
    col_arr = np.asarray(cols, dtype=np.int64)
    by_term = np.lexsort((np.asarray(rows, dtype=np.int64), col_arr))
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(col_arr, minlength=len(vocab)), out=indptr[1:])
    return TermStats(
        vocab=vocab,
        indptr=indptr,
        rows=np.asarray(rows, dtype=np.int32)[by_term],
        tf=np.asarray(tfs, dtype=np.float32)[by_term],
        lengths=np.asarray([len(words) for words in docs], dtype=np.int32),
    )


def save_terms(stats: TermStats, folder: Path) -> None:
    folder.mkdir()
    terms = sorted(stats.vocab, key=stats.vocab.__getitem__)
    (folder / "vocab.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    for name in _ARRAYS:
        np.save(folder / f"{name}.npy", getattr(stats, name), allow_pickle=False)


def load_terms(folder: Path, *, passages: int) -> TermStats:
    """The saved statistics; ValueError when they do not fit together or ``passages`` rows."""
    terms = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}
    stats = TermStats(vocab={t: i for i, t in enumerate(terms)}, **arrays)
    ok = (
        isinstance(terms, list)
        and len(stats.vocab) == len(terms)
        and stats.indptr.shape == (len(terms) + 1,)
        and len(stats.rows) == len(stats.tf) == (int(stats.indptr[-1]) if len(terms) else 0)
        and stats.docs == passages
        and (not len(stats.rows) or 0 <= int(stats.rows.min()) <= int(stats.rows.max()) < passages)
    )
    if not ok:
        raise ValueError("term statistics do not match the passages")
    return stats
