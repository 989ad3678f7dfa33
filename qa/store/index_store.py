"""The index folder: articles, passages, vectors, FAISS and BM25, written atomically.

Layout::

    INDEX_DIR/
      CURRENT            name of the live generation (replaced atomically)
      .lock              held while a process writes
      gen-000007/
        manifest.json    format version, embedder, counts, sizes and SHA-256 of every file; written last
        metadata.sqlite  articles, passages (offsets only; text lives once) and wire-copy groups
        vectors.f32      packed float32 passage vectors, row = passage row
        dense.faiss      FAISS index over the same rows
        bm25/            bm25s arrays (numpy, no pickle) and vocabulary JSON

A shard of a sharded index (``qa.store.shards``) is a generation of the
same form, with ``terms/`` (raw BM25 counts, ``qa.store.terms``) in place of
``bm25/``, and made live by the index's shard list rather than CURRENT.

A write builds a whole new generation beside the live one and only then
points CURRENT at it, so a crash (even SIGKILL) at any moment leaves the
previous generation intact and in use.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import IndexError_, IndexLockedError
from qa.quiet import quiet_third_party
from qa.store import integrity
from qa.store.derived import (
    APPROXIMATE_THRESHOLD,
    build_bm25,
    build_faiss,
    fsync_dir,
    fsync_file,
    write_vectors,
)
from qa.store.integrity import Verification
from qa.store.metadata import ARTICLE_COLUMNS, read_metadata, write_metadata
from qa.store.terms import TERMS_DIR, build_terms, load_terms, save_terms
from qa.types import Article, Passage

FORMAT_VERSION = 1
REBUILD_HINT = "run `newsdesk index --rebuild PATH... --index {dir}` to rebuild it"

__all__ = ["ARTICLE_COLUMNS", "FORMAT_VERSION", "REBUILD_HINT", "IndexData", "IndexStore"]


@dataclass
class IndexData:
    """Everything an open index holds in memory."""

    articles: dict[str, Article]
    passages: list[Passage]
    vectors: np.ndarray
    dense: object  # faiss.Index
    bm25: object  # bm25s.BM25; in a shard, its TermStats (qa.store.terms)
    manifest: dict = field(default_factory=dict)
    #: Article id -> wire-copy group id, for articles with copies (``qa.dedup``).
    groups: dict[str, str] = field(default_factory=dict)
    #: Hashing of the vectors and metadata (finished, or running in the background for large indexes).
    verification: Verification = field(default_factory=Verification)
    #: Each passage's place in the whole index's order (its row, unless this is a shard): breaks ties.
    order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def check_embedder(manifest: dict, embedder: str | None, *, root: Path, hint: str) -> None:
    """One line when the index's vectors come from another embedder than ``embedder`` (None: any)."""
    if embedder is not None and manifest.get("embedder") != embedder:
        found = manifest.get("embedder")
        raise IndexError_(
            f"index in {root} was built with embedder {found!r}, not {embedder!r}: open it with --embedder {found} or {hint}"
        )


class IndexStore:
    """Reads and writes one index folder (or one shard's folder of a sharded index)."""

    #: Shards of the index this store holds (a ShardedStore holds several).
    shards = 1

    def __init__(self, root: str | Path, *, shard: bool = False, hint_root: str | Path | None = None):
        """``shard``: write and read ``terms/`` instead of ``bm25/``; ``hint_root``: the index
        folder a rebuild hint names, when ``root`` is one shard's folder inside it."""
        self.root = Path(root)
        self.shard = shard
        self.hint = REBUILD_HINT.format(dir=Path(hint_root) if hint_root is not None else self.root)
        #: True while this store holds the writer lock: loads then check every hash at once.
        self._writing = False

    # -- locating ------------------------------------------------------------
    def exists(self) -> bool:
        if self.root.exists() and not self.root.is_dir():
            raise IndexError_(f"index folder {self.root} is a file, not a folder: choose another --index folder")
        return (self.root / "CURRENT").is_file() or any(self._generations())

    def _generations(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp"))

    def current_generation(self) -> Path:
        name = self._current_name()
        gen = self.root / name
        if name.startswith("gen-") and "/" not in name and (gen / "manifest.json").is_file():
            return gen
        # CURRENT missing, unreadable or pointing nowhere: fall back to the newest complete generation.
        complete = [g for g in self._generations() if (g / "manifest.json").is_file()]
        if not complete:
            raise IndexError_(f"no index in {self.root}: {REBUILD_HINT.format(dir=self.root)}")
        return complete[-1]

    def _current_name(self) -> str:
        """The generation CURRENT names, or "" when it is missing or not a short text line."""
        try:
            with open(self.root / "CURRENT", "rb") as f:
                return f.read(256).decode("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def manifest(self) -> dict:
        return self.read_manifest(self.current_generation())

    def read_manifest(self, gen: Path) -> dict:
        hint = self.hint
        try:
            man = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        except (ValueError, RecursionError, OSError) as exc:
            raise IndexError_(f"index manifest in {gen} is corrupt: {hint}") from exc
        return integrity.validate_manifest(man, where=gen, hint=hint)

    # -- reading -------------------------------------------------------------
    def load(self, embedder: str | None = None) -> IndexData:
        """Open the live generation, checking every file against the manifest.

        Dense and BM25 structures are derived data: if only they are damaged
        they are rebuilt from the vectors and passages (which are checked).
        """
        return self.load_generation(self.current_generation(), embedder=embedder)

    def load_generation(self, gen: Path, *, embedder: str | None = None, eager: bool = False) -> IndexData:
        """``load`` of one given generation; ``eager`` checks every hash now, as a writer does."""
        man = self.read_manifest(gen)
        hint = self.hint
        version = man.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise IndexError_(
                f"index in {self.root} has format version {version}, newer than this Newsdesk "
                f"supports ({FORMAT_VERSION}): upgrade Newsdesk or {hint}"
            )
        check_embedder(man, embedder, root=self.root, hint=hint)
        files, sums = man.get("files", {}), man.get("sha256", {})
        integrity.check_sizes(gen, files, hint=hint)
        eager = eager or self._writing
        background = not eager and integrity.primary_bytes(gen) > integrity.EAGER_VERIFY_BYTES
        articles, passages, groups, order = read_metadata(gen / "metadata.sqlite", hint=hint)
        dim = man["dimension"]
        raw = np.fromfile(gen / "vectors.f32", dtype="<f4")
        if dim <= 0 or raw.size % dim:
            raise IndexError_(f"index vectors in {gen} do not match dimension {dim}: {hint}")
        vectors = raw.reshape(-1, dim)
        if len(vectors) != len(passages) or len(passages) != man.get("passages"):
            raise IndexError_(f"index in {self.root} has {len(vectors)} vectors for {len(passages)} passages: {hint}")
        # Hashes after the structural checks, whose messages say more (a count mismatch, a short file).
        verification = integrity.verify_primary(gen, sums, hint=hint, background=background)
        integrity.check_finite(vectors, where=gen, hint=hint)
        derived = [n for n in sums if n not in integrity.PRIMARY_FILES] if not background else []
        damaged = set(integrity.mismatched(gen, sums, derived))
        dense = self._read_faiss(
            gen, files, len(passages), vectors, man.get("faiss", "flat"), damaged="dense.faiss" in damaged
        )
        sparse = TERMS_DIR if self.shard else "bm25"
        read_sparse = self._read_terms if self.shard else self._read_bm25
        bm25 = read_sparse(gen, passages, damaged=any(n.startswith(f"{sparse}/") for n in damaged))
        return IndexData(
            articles=articles,
            passages=passages,
            vectors=vectors,
            dense=dense,
            bm25=bm25,
            manifest=man,
            groups=groups,
            verification=verification,
            order=order,
        )

    def _read_faiss(self, gen: Path, files: dict, n: int, vectors: np.ndarray, kind: str, *, damaged: bool):
        import faiss

        p = gen / "dense.faiss"
        try:
            if damaged or not p.is_file() or ("dense.faiss" in files and p.stat().st_size != files["dense.faiss"]):
                raise RuntimeError("missing or truncated")
            index = faiss.read_index(str(p))
            if index.ntotal != n:
                raise RuntimeError("count mismatch")
            if hasattr(index, "hnsw"):
                index.hnsw.efSearch = 64
            return index
        except Exception:  # derived data: rebuild from the checked vectors
            return build_faiss(vectors, kind if n else "flat")

    def _read_bm25(self, gen: Path, passages: list[Passage], *, damaged: bool):
        import bm25s

        quiet_third_party()
        try:
            if damaged:
                raise RuntimeError("checksum mismatch")
            retriever = bm25s.BM25.load(str(gen / "bm25"), load_corpus=False, allow_pickle=False)
            if passages and int(retriever.scores["num_docs"]) != len(passages):
                raise RuntimeError("count mismatch")
            return retriever
        except Exception:  # derived data: rebuild from the passages
            return build_bm25(passages)

    def _read_terms(self, gen: Path, passages: list[Passage], *, damaged: bool):
        try:
            if damaged:
                raise RuntimeError("checksum mismatch")
            return load_terms(gen / TERMS_DIR, passages=len(passages))
        except Exception:  # derived data: recount from the passages
            return build_terms(passages)

    # -- writing -------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float = 10.0) -> Iterator[None]:
        """Exclusive writer lock; a second writer waits, then gives up clearly."""
        import fcntl

        self.exists()  # a file where the folder should be: one line, not FileExistsError
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fh = open(self.root / ".lock", "a+")  # noqa: SIM115 (held open for the lock's lifetime)
        except OSError as exc:
            raise integrity.write_failure(exc, self.root) from exc
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexLockedError(
                            f"index {self.root} is being written by another process; try again when it finishes"
                        ) from None
                    time.sleep(0.1)
            self._writing = True
            yield
        finally:
            self._writing = False
            fh.close()

    def write(
        self,
        articles: dict[str, Article],
        passages: list[Passage],
        vectors: np.ndarray,
        embedder: str,
        dimension: int,
        faiss_kind: str = "auto",
        extra: dict | None = None,
        *,
        groups: dict[str, str] | None = None,
        order: np.ndarray | None = None,
        live: bool = True,
    ) -> Path:
        """Write a complete new generation, then switch CURRENT to it.

        Any failure (a full disk, a read-only folder, SQLite or FAISS errors)
        removes the half-written generation and raises one line; the previous
        generation stays in use. With ``live=False`` the generation is only
        put in place, not made live: a sharded index makes every changed
        shard's generation live at once by switching its shard list, and
        ``order`` then gives each passage's place in the whole index.
        """
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage is required")
        vec = np.ascontiguousarray(vectors, dtype="<f4")
        integrity.check_finite(vec, where=self.root, hint="the embedder produced them; nothing was written")
        if not os.access(self.root, os.W_OK):
            raise IndexError_(f"index folder {self.root} is read-only: choose another --index folder")
        gens = self._generations()
        number = int(gens[-1].name.split("-")[1]) + 1 if gens else 1
        final = self.root / f"gen-{number:06d}"
        tmp = self.root / f"gen-{number:06d}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            self._build(
                tmp,
                articles=articles,
                passages=passages,
                vectors=vec,
                embedder=embedder,
                dimension=dimension,
                faiss_kind=faiss_kind,
                extra=extra,
                groups=groups or {},
                order=order,
            )
            if live:
                self._switch_to(tmp, final)
            else:
                tmp.rename(final)
                fsync_dir(self.root)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if integrity.is_write_failure(exc):
                raise integrity.write_failure(exc, self.root) from exc
            raise
        if not live:
            return final
        for old in self._generations():
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
        for stale in self.root.glob("gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        return final

    def _build(
        self,
        tmp: Path,
        *,
        articles: dict[str, Article],
        passages: list[Passage],
        vectors: np.ndarray,
        embedder: str,
        dimension: int,
        faiss_kind: str,
        extra: dict | None,
        groups: dict[str, str],
        order: np.ndarray | None,
    ) -> None:
        """Every file of a generation in ``tmp``, the manifest (with sizes and hashes) last."""
        import faiss

        tmp.mkdir(parents=True)
        self._write_metadata(tmp / "metadata.sqlite", articles, passages, groups, order)
        write_vectors(tmp / "vectors.f32", vectors)
        kind = faiss_kind
        if kind == "auto":
            kind = "hnsw" if len(passages) > APPROXIMATE_THRESHOLD else "flat"
        faiss.write_index(
            build_faiss(vectors.reshape(-1, dimension), kind if len(passages) else "flat"), str(tmp / "dense.faiss")
        )
        if self.shard:
            save_terms(build_terms(passages), tmp / TERMS_DIR)
        else:
            build_bm25(passages).save(str(tmp / "bm25"), allow_pickle=False, show_progress=False)
        files, sums = integrity.describe(tmp)
        manifest = {
            "format_version": FORMAT_VERSION,
            "embedder": embedder,
            "dimension": dimension,
            "faiss": kind,
            "articles": len(articles),
            "passages": len(passages),
            "files": files,
            "sha256": sums,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **(extra or {}),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for p in tmp.rglob("*"):
            if p.is_file():
                fsync_file(p)
        fsync_dir(tmp)

    def _switch_to(self, tmp: Path, final: Path) -> None:
        """Rename the finished generation into place and point CURRENT at it (undone if that fails)."""
        tmp.rename(final)
        fsync_dir(self.root)
        cur_tmp = self.root / "CURRENT.tmp"
        try:
            cur_tmp.write_text(final.name + "\n", encoding="utf-8")
            fsync_file(cur_tmp)
            os.replace(cur_tmp, self.root / "CURRENT")
        except BaseException:
            cur_tmp.unlink(missing_ok=True)
            shutil.rmtree(final, ignore_errors=True)
            raise
        fsync_dir(self.root)

    #: A static method so that tests can make it fail like a full disk.
    _write_metadata = staticmethod(write_metadata)
