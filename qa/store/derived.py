"""The files of a generation that are written raw or derived: vectors, FAISS, BM25, and fsync.

FAISS and BM25 are derived from the checked vectors and passages, which is
why a damaged copy of either is rebuilt rather than reported.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import NewsdeskError
from qa.quiet import quiet_third_party
from qa.types import Passage

if TYPE_CHECKING:
    import faiss


#: Above this many passages an approximate (HNSW) index is built by default.
APPROXIMATE_THRESHOLD = 200_000


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_vectors(path: Path, vectors: np.ndarray) -> None:
    """Packed little-endian float32 rows (a short write raises OSError)."""
    vectors.tofile(path)


def build_faiss(vectors: np.ndarray, kind: str = "auto") -> faiss.Index:
    """Exact inner product by default; HNSW above the threshold or on request."""
    import faiss

    n, d = vectors.shape if vectors.ndim == 2 else (0, 0)
    if kind == "auto":
        kind = "hnsw" if n > APPROXIMATE_THRESHOLD else "flat"
    index: faiss.Index
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = 64
        index = hnsw
    elif kind == "ivf":
        nlist = max(1, min(4096, int(np.sqrt(max(n, 1)) * 2)))
        quant = faiss.IndexFlatIP(d)
        ivf = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors)
        ivf.nprobe = min(nlist, 16)
        index = ivf
    else:
        raise NewsdeskError(f"unknown FAISS index kind {kind!r} (use flat, hnsw, ivf or auto)")
    if n:
        index.add(vectors)
    return index


#: Stands in for the words of passages that have none but stop words (bm25s cannot index an empty vocabulary).
#: Queries are tokenized into word characters only, so they never contain it.
NO_WORDS_TOKEN = "-newsdesk-no-words-"


def corpus_tokens(passages: list[Passage]) -> list[list[str]]:
    """The words BM25 indexes for each passage (one placeholder document when there are none)."""
    import bm25s

    quiet_third_party()
    texts = [p.text for p in passages] or [""]
    tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False, return_ids=False)
    return [doc or [NO_WORDS_TOKEN] for doc in tokens]


def build_bm25(passages: list[Passage]):
    """BM25 over the passages; an empty index or stop words only still give a valid (silent) index."""
    import bm25s

    quiet_third_party()
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens(passages), show_progress=False)
    return retriever
