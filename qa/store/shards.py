"""A sharded index: several shards by article-id hash, each its own FAISS, BM25 counts and metadata.

Layout::

    INDEX_DIR/
      shards.json        shard count, how articles are assigned, and the live generation of each
                         shard (replaced atomically: the index's one switch)
      .lock              held while a process writes
      shard-000/gen-000004/   a generation as in ``qa.store.index_store``, with ``terms/`` for BM25
      shard-001/gen-000002/
      ...

An article lives in shard ``int(sha256(id)[:8]) % N``: stable across
processes and machines (Python's ``hash()`` is salted per process). A write
builds the generations of the shards that change, in parallel threads,
beside the live ones; only then is ``shards.json`` replaced, so a crash at
any moment leaves the previous set of shards, all of it, in use. Each
shard's files are checked against its own manifest like an unsharded
index's, and a shard's manifest says which shard of how many it is.

An index folder holds one layout: ``shards.json`` (sharded) or ``CURRENT``
(unsharded, the default and the format older versions wrote).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import IndexError_, InvalidInputError
from qa.store import integrity
from qa.store.derived import fsync_dir, fsync_file
from qa.store.index_store import REBUILD_HINT, IndexData, IndexStore
from qa.types import Article, Passage

SHARDS_FILE = "shards.json"
SHARDS_FORMAT = 1
#: How an article's shard is chosen, recorded in shards.json so that a reader can check it agrees.
ASSIGNMENT = "sha256(article id), first 8 bytes big-endian, mod shards"
MAX_SHARDS = 256


def shard_of(article_id: str, shards: int) -> int:
    """The shard an article lives in: the same in every process and on every machine."""
    digest = hashlib.sha256(article_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


def check_shard_count(value: int) -> int:
    """A shard count from 1 (the unsharded layout) to MAX_SHARDS, else one line."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHARDS:
        raise InvalidInputError(f"shards must be a whole number from 1 to {MAX_SHARDS}, not {value!r}")
    return value


def recorded_shards(root: Path) -> int | None:
    """How many shards the index in ``root`` has (1 for an unsharded one), or None when there is none."""
    if (root / SHARDS_FILE).is_file():
        return ShardedStore.read_count(root)
    return 1 if IndexStore(root).exists() else None


@dataclass(frozen=True, kw_only=True)
class ShardContent:
    """What one shard holds after a write: its articles, passages in order and their vectors."""

    articles: dict[str, Article]
    passages: list[Passage]
    vectors: np.ndarray
    #: Each passage's place in the whole index (kept from before, new ones after every kept one).
    order: np.ndarray
    groups: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class ShardedData:
    """An open sharded index: every shard, and what the engine reads across them."""

    shards: tuple[IndexData, ...]
    articles: dict[str, Article]
    #: Every shard's passages, shard after shard.
    passages: list[Passage]
    groups: dict[str, str]
    manifest: dict

    @property
    def next_order(self) -> int:
        """The order key after every passage of every shard (where new passages go)."""
        return max((int(d.order.max()) + 1 for d in self.shards if len(d.order)), default=0)


class ShardedStore:
    """Reads and writes a sharded index folder; the same calls as ``IndexStore`` where they make sense."""

    def __init__(self, root: str | Path, *, shards: int):
        self.root = Path(root)
        self.shards = check_shard_count(shards)
        self.hint = REBUILD_HINT.format(dir=self.root)
        self._top = IndexStore(self.root)
        self.stores = [
            IndexStore(self.root / f"shard-{i:03d}", shard=True, hint_root=self.root) for i in range(self.shards)
        ]
        self._writing = False

    # -- the shard list ---------------------------------------------------------
    def exists(self) -> bool:
        self._top.exists()  # a file where the folder should be: one line
        return (self.root / SHARDS_FILE).is_file()

    @staticmethod
    def read_count(root: Path) -> int:
        return int(ShardedStore._read_list(root)["shards"])

    @staticmethod
    def _read_list(root: Path) -> dict:
        hint = REBUILD_HINT.format(dir=root)
        try:
            data = json.loads((root / SHARDS_FILE).read_text(encoding="utf-8"))
            gens = data["generations"]
            n = data["shards"]
            ok = (
                data.get("format_version") == SHARDS_FORMAT
                and data.get("assignment") == ASSIGNMENT
                and isinstance(n, int)
                and 1 < n <= MAX_SHARDS
                and isinstance(gens, list)
                and len(gens) == n
                and all(isinstance(g, str) and g == f"shard-{i:03d}/{g.split('/')[-1]}" for i, g in enumerate(gens))
                and all(g.split("/")[-1].startswith("gen-") for g in gens)
            )
        except (OSError, ValueError, KeyError, TypeError, RecursionError, AttributeError) as exc:
            raise IndexError_(f"shard list {root / SHARDS_FILE} is unreadable: {hint}") from exc
        if not ok:
            raise IndexError_(f"shard list {root / SHARDS_FILE} is corrupt: {hint}")
        return data

    def generations(self) -> list[Path]:
        """The live generation of each shard, in shard order."""
        data = self._read_list(self.root)
        if data["shards"] != self.shards:
            raise IndexError_(f"index in {self.root} has {data['shards']} shards, not {self.shards}: {self.hint}")
        return [self.root / g for g in data["generations"]]

    # -- reading ------------------------------------------------------------------
    def load(self, embedder: str | None = None) -> ShardedData:
        """Open every shard, checked as one index is."""
        shards = self.load_shards(range(self.shards), embedder=embedder)
        return ShardedData(
            shards=shards,
            articles={aid: a for d in shards for aid, a in d.articles.items()},
            passages=[p for d in shards for p in d.passages],
            groups={aid: g for d in shards for aid, g in d.groups.items()},
            manifest=index_manifest([d.manifest for d in shards], shards=self.shards),
        )

    def load_shards(self, which: Sequence[int], *, embedder: str | None = None) -> tuple[IndexData, ...]:
        """Open the shards numbered ``which`` only (in parallel threads: hashing and reading release the GIL)."""
        gens = self.generations()
        with ThreadPoolExecutor(max_workers=max(1, min(len(which), os.cpu_count() or 1))) as pool:
            futures = [
                pool.submit(self.stores[i].load_generation, gens[i], embedder=embedder, eager=self._writing)
                for i in which
            ]
            shards = tuple(f.result() for f in futures)
        for i, d in zip(which, shards):
            if d.manifest.get("shard") != i or d.manifest.get("shards") != self.shards:
                raise IndexError_(f"index shard {gens[i]} is not shard {i} of {self.shards}: {self.hint}")
        if len({int(d.manifest["dimension"]) for d in shards}) > 1:
            raise IndexError_(f"index shards in {self.root} have vectors of different sizes: {self.hint}")
        return shards

    # -- writing ------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float = 10.0) -> Iterator[None]:
        """The index's one writer lock (the same file an unsharded index uses)."""
        with self._top.lock(timeout):
            self._writing = True
            try:
                yield
            finally:
                self._writing = False

    def write_shards(
        self,
        contents: dict[int, ShardContent],
        *,
        embedder: str,
        dimension: int,
        faiss_kind: str,
        extra: dict,
    ) -> None:
        """New generations for the shards in ``contents`` (built in parallel), then one switch.

        A new index needs every shard; an existing one keeps the live
        generation of each shard not in ``contents``. Any failure removes
        what was built and raises one line; the previous shards stay in use.
        """
        try:
            live = self.generations() if self.exists() and self.read_count(self.root) == self.shards else None
        except IndexError_:  # a damaged shard list: only a rebuild (every shard) can replace it
            live = None
        if live is None and set(contents) != set(range(self.shards)):
            raise ValueError("a new (or re-sharded) index needs every shard's content")
        staged: dict[int, Path] = {}
        errors: list[BaseException] = []
        try:
            for store in self.stores:
                store.root.mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(max_workers=min(max(len(contents), 1), os.cpu_count() or 1)) as pool:
                futures = {
                    i: pool.submit(
                        self.stores[i].write,
                        c.articles,
                        c.passages,
                        c.vectors,
                        embedder,
                        dimension,
                        faiss_kind,
                        {**extra, "shard": i, "shards": self.shards},
                        groups=c.groups,
                        order=c.order,
                        live=False,
                    )
                    for i, c in sorted(contents.items())
                }
                for i, future in futures.items():
                    try:
                        staged[i] = future.result()
                    except BaseException as exc:
                        errors.append(exc)
            if errors:
                raise errors[0]
            gens = [staged[i] if i in staged else live[i] for i in range(self.shards)]  # type: ignore[index]
            self._switch(gens)
        except BaseException as exc:
            for gen in staged.values():
                shutil.rmtree(gen, ignore_errors=True)
            if integrity.is_write_failure(exc):
                raise integrity.write_failure(exc, self.root) from exc
            raise
        self._clean(gens)

    def _switch(self, gens: list[Path]) -> None:
        """Replace shards.json: the moment the new shards become the index."""
        data = {
            "format_version": SHARDS_FORMAT,
            "shards": self.shards,
            "assignment": ASSIGNMENT,
            "generations": [g.relative_to(self.root).as_posix() for g in gens],
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        tmp = self.root / (SHARDS_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            fsync_file(tmp)
            os.replace(tmp, self.root / SHARDS_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.root)

    def _clean(self, live: list[Path]) -> None:
        """Generations no longer listed (replaced, or left by a crashed write), and an unsharded layout."""
        keep = set(live)
        for store in self.stores:
            for old in store.root.glob("gen-*"):
                if old not in keep:
                    shutil.rmtree(old, ignore_errors=True)
        for extra in self.root.glob("shard-*"):
            if extra.is_dir() and extra not in {s.root for s in self.stores}:
                shutil.rmtree(extra, ignore_errors=True)
        drop_unsharded(self.root)


def index_manifest(manifests: Sequence[dict], *, shards: int) -> dict:
    """What a sharded index's manifest shows (``stats``): the newest shard's fields and every shard's passages."""
    newest = max(manifests, key=lambda m: str(m.get("written", "")))
    return {
        **{k: v for k, v in newest.items() if k in ("embedder", "dimension", "faiss", "written")},
        "shards": shards,
        "passages_per_shard": [int(m["passages"]) for m in manifests],
    }


def drop_unsharded(root: Path) -> None:
    """Remove an unsharded layout from ``root`` once a sharded one is live there (after a rebuild)."""
    (root / "CURRENT").unlink(missing_ok=True)
    for gen in root.glob("gen-*"):
        shutil.rmtree(gen, ignore_errors=True)


def drop_sharded(root: Path) -> None:
    """Remove a sharded layout from ``root`` once an unsharded one is live there (after a rebuild)."""
    (root / SHARDS_FILE).unlink(missing_ok=True)
    for shard in root.glob("shard-*"):
        shutil.rmtree(shard, ignore_errors=True)


# -- choosing a store, and what a write changes ------------------------------------


def _found(root: Path) -> int | None:
    """``recorded_shards``, but a damaged shard list counts its shard folders (so --rebuild can repair it)."""
    try:
        return recorded_shards(root)
    except IndexError_:
        return max(2, sum(1 for p in root.glob("shard-*") if p.is_dir()))


def open_store(
    root: str | Path, *, shards: int | None = None, current: IndexStore | ShardedStore | None = None
) -> IndexStore | ShardedStore:
    """The store of the index in ``root`` as it is on disk, or of a new one with ``shards`` (default 1).

    ``current`` is returned when it already has that layout (it may hold the writer lock).
    """
    root = Path(root)
    count = _found(root) or shards or 1
    if current is not None and current.shards == count:
        return current
    return ShardedStore(root, shards=count) if count > 1 else IndexStore(root)


def store_for_write(
    current: IndexStore | ShardedStore, *, requested: int | None, rebuild: bool
) -> IndexStore | ShardedStore:
    """The store a write goes to, under the lock: the index's own shard count, checked against ``requested``.

    A different count is refused in one line unless the write rebuilds the
    index, which then takes the requested layout (the old one is removed once
    the new one is live).
    """
    found = _found(current.root)
    if found is not None and requested is not None and requested != found and not rebuild:
        raise IndexError_(
            f"index {current.root} has {found} shard{'s' if found != 1 else ''}, not {requested}: leave out --shards, "
            f"or run `newsdesk index --rebuild --shards {requested} PATH... --index {current.root}` to re-shard it"
        )
    count = (requested or found or 1) if rebuild or found is None else found
    if current.shards == count:
        return current
    return ShardedStore(current.root, shards=count) if count > 1 else IndexStore(current.root)


def shard_contents(
    shards: int,
    old: ShardedData | None,
    *,
    articles: dict[str, Article],
    groups: dict[str, str],
    passages: list[Passage],
    vectors: np.ndarray,
    dim: int,
) -> dict[int, ShardContent]:
    """The shards a write changes, each with its kept passages (in their order) and then its new ones.

    ``passages`` and ``vectors`` are the newly embedded ones only. A shard
    whose articles and wire groups are unchanged is left out: it is not
    rewritten. New passages are placed after every kept one, in the order
    given, as an unsharded index appends them.
    """
    where = {aid: shard_of(aid, shards) for aid in articles}
    base = old.next_order if old is not None else 0
    fresh: dict[int, list[int]] = {}
    for j, p in enumerate(passages):
        fresh.setdefault(where[p.article_id], []).append(j)
    out: dict[int, ShardContent] = {}
    for i in range(shards):
        before = old.shards[i] if old is not None else None
        mine = {aid: a for aid, a in articles.items() if where[aid] == i}
        mine_groups = {a: g for a, g in groups.items() if a in mine}
        new = fresh.get(i, [])
        if before is not None and not new and mine.keys() == before.articles.keys() and mine_groups == before.groups:
            continue
        rows = [r for r, p in enumerate(before.passages) if p.article_id in mine] if before is not None else []
        kept_passages = [before.passages[r] for r in rows] if before is not None else []
        kept_vectors = before.vectors[rows] if before is not None else np.zeros((0, dim), dtype=np.float32)
        kept_order = before.order[rows] if before is not None else np.zeros(0, dtype=np.int64)
        out[i] = ShardContent(
            articles=mine,
            passages=[*kept_passages, *(passages[j] for j in new)],
            vectors=np.vstack([kept_vectors.reshape(-1, dim), vectors[new].reshape(-1, dim)]).astype(np.float32),
            order=np.concatenate([kept_order, base + np.asarray(new, dtype=np.int64)]),
            groups=mine_groups,
        )
    return out
