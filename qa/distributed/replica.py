"""The Ray Serve deployments behind ``newsdesk serve --ray``: front replicas and shard groups.

Imported only by ``qa.distributed.serving`` (it imports ``ray.serve`` at
module level, which a deployment class needs). A front replica loads both
models and serves exactly the FastAPI app ``newsdesk serve`` runs
(``qa.server.create_app``): same endpoints, same JSON, same micro-batching
into ``ask_many`` within the replica. It opens the whole index itself, or,
given shard groups, searches them (``qa.distributed.shard_groups``). A
shard group replica opens only its own shards and answers the
``ShardSearch`` calls for them: it is a ``LocalShards``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray import serve

from qa.retrievers.shard_search import LocalShards


@serve.deployment(name="newsdesk")
@serve.ingress()
class NewsdeskReplica:
    """Holds the settings; Serve builds the app on the replica, after the constructor."""

    def __init__(
        self,
        *,
        index_dir: str,
        engine_kwargs: dict[str, Any],
        api_key: str | None,
        max_batch: int,
        threads: int = 1,
        shard_groups: list[Any] | None = None,
    ):
        self.index_dir, self.engine_kwargs = index_dir, engine_kwargs
        self.api_key, self.max_batch, self.threads = api_key, max_batch, threads
        #: Serve's handles of the shard group deployments (None: open the whole index here).
        self.shard_groups = shard_groups

    def __serve_build_asgi_app__(self):
        from qa.server import create_app

        return create_app(self._open, api_key=self.api_key, max_batch=self.max_batch)

    def _open(self):
        """Runs on the app's engine thread at startup, as under uvicorn."""
        import torch

        from qa import Assistant
        from qa.distributed.shard_groups import open_front

        torch.set_num_threads(max(1, self.threads))
        if self.shard_groups:
            return open_front(self.index_dir, self.shard_groups, self.engine_kwargs)
        return Assistant.open(self.index_dir, **self.engine_kwargs)


@serve.deployment(name="shards")
class ShardGroupReplica(LocalShards):
    """One shard group: its shards opened here (checked as any index is), searched on request."""

    def __init__(self, *, index_dir: str, shards: list[int]):
        from qa.store.shards import ShardedStore, recorded_shards

        store = ShardedStore(index_dir, shards=recorded_shards(Path(index_dir)) or 0)
        super().__init__(store.load_shards(shards), ids=shards)
