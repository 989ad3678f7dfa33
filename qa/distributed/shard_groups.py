"""Shard groups for ``newsdesk serve --ray`` on a sharded index: which shards each group holds, and the front's view.

A sharded index is served by two kinds of Ray Serve deployment:

* ``shards-0``, ``shards-1``...: one per shard group, one replica each. A
  group replica opens only its own shards (FAISS, vectors, BM25 counts and
  metadata of those shards; ``ShardedStore.load_shards``) and answers the
  ``ShardSearch`` calls for them (``qa.distributed.replica.ShardGroupReplica``).
  Shard ``i`` goes to group ``i mod G``, so groups differ by one shard at most.
* ``newsdesk``: the front replicas (``--replicas N``), each with both models
  and the usual FastAPI app; their engine searches the groups through
  ``RemoteShards`` (``qa.retrievers.spread``), holding no passage itself.

Nothing here imports Ray: the handles are Serve's ``DeploymentHandle``
objects, given to the front replica by Serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexError_, InvalidInputError, NewsdeskError
from qa.retrievers.filters import Filters
from qa.retrievers.global_bm25 import BM25Query, TermCounts
from qa.retrievers.shard_search import Fetched, Hit, ShardSummary
from qa.store.shards import ShardedStore, recorded_shards
from qa.types import Article

#: Seconds a front waits for one call to a group (a lost replica is restarted by Serve meanwhile).
CALL_TIMEOUT_S = 60.0


def group_layout(index_dir: Path, shard_groups: int | None) -> list[tuple[int, ...]] | None:
    """The shards of each group, or None for whole-index replicas (an unsharded index, or ``shard_groups`` 0).

    ``shard_groups`` None means one group per shard.
    """
    shards = recorded_shards(index_dir)
    if shards is None:
        raise IndexError_(f"no index in {index_dir}: run `newsdesk index PATH... --index {index_dir}`")
    if shard_groups == 0 or (shards == 1 and shard_groups is None):
        return None
    if shards == 1:
        raise InvalidInputError(
            f"--shard-groups needs a sharded index and {index_dir} has one shard: leave it out, "
            f"or run `newsdesk index --rebuild --shards N PATH... --index {index_dir}`"
        )
    groups = shards if shard_groups is None else shard_groups
    if not 1 <= groups <= shards:
        raise InvalidInputError(f"index {index_dir} has {shards} shards: --shard-groups takes 0 to {shards}")
    return [tuple(range(g, shards, groups)) for g in range(groups)]


def group_bytes(index_dir: Path, shards: Sequence[int]) -> int:
    """Bytes of the shards' live files: what a group replica reads into memory, about (Ray places it by this)."""
    gens = ShardedStore(index_dir, shards=recorded_shards(index_dir) or 0).generations()
    return sum(f.stat().st_size for i in shards for f in gens[i].rglob("*") if f.is_file())


class RemoteShards:
    """``ShardSearch`` over a shard group's Serve deployment; each call blocks (the engine thread has no event loop)."""

    def __init__(self, handle: Any, *, timeout_s: float = CALL_TIMEOUT_S):
        self.handle, self.timeout_s = handle, timeout_s

    def _call(self, op: str, *args: Any, wait: bool = False) -> Any:
        """One call to the group; a group that is down or restarting is a 503 to HTTP clients, not a 500."""
        try:
            return getattr(self.handle, op).remote(*args).result(timeout_s=None if wait else self.timeout_s)
        except NewsdeskError:
            raise
        except Exception as exc:  # Ray's actor, timeout and replica errors have no common base
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise IndexError_(f"a shard group did not answer ({first}); try again shortly") from None

    def summaries(self) -> list[ShardSummary]:
        return self._call("summaries", wait=True)  # asked at startup, while the group may still be opening its shards

    def dense(self, query: np.ndarray, n: int, filters: Filters | None) -> list[Hit]:
        return self._call("dense", query, n, filters)

    def term_counts(self, words: Sequence[str]) -> TermCounts:
        return self._call("term_counts", list(words))

    def bm25(self, query: BM25Query, n: int, filters: Filters | None) -> list[Hit]:
        return self._call("bm25", query, n, filters)

    def fetch(self, keys: Sequence[int]) -> Fetched:
        return self._call("fetch", list(keys))

    def articles(self, ids: Sequence[str]) -> dict[str, Article]:
        return self._call("articles", list(ids))


def open_front(index_dir: str, handles: Sequence[Any], engine_kwargs: dict[str, Any]):
    """The front replica's engine: models here, shards in the groups behind ``handles``."""
    from qa import Assistant
    from qa.retrievers.spread import open_spread

    assistant = Assistant(index_dir, **engine_kwargs)
    parts = [RemoteShards(h) for h in handles]
    assistant.use(open_spread(parts, root=Path(index_dir), embedder=assistant.embedder.model_name))
    return assistant
