"""The Ray Serve deployment behind ``newsdesk serve --ray``: one replica, one engine, the usual app.

Imported only by ``qa.distributed.serving`` (it imports ``ray.serve`` at
module level, which a deployment class needs). Each replica opens the
index and loads both models itself, then serves exactly the FastAPI app
``newsdesk serve`` runs (``qa.server.create_app``): same endpoints, same
JSON, same micro-batching into ``ask_many`` within the replica.
"""

from __future__ import annotations

from typing import Any

from ray import serve


@serve.deployment(name="newsdesk")
@serve.ingress()
class NewsdeskReplica:
    """Holds the settings; Serve builds the app on the replica, after the constructor."""

    def __init__(
        self, *, index_dir: str, engine_kwargs: dict[str, Any], api_key: str | None, max_batch: int, threads: int = 1
    ):
        self.index_dir, self.engine_kwargs = index_dir, engine_kwargs
        self.api_key, self.max_batch, self.threads = api_key, max_batch, threads

    def __serve_build_asgi_app__(self):
        from qa.server import create_app

        return create_app(self._open, api_key=self.api_key, max_batch=self.max_batch)

    def _open(self):
        """Runs on the app's engine thread at startup, as under uvicorn."""
        import torch

        from qa import Assistant

        torch.set_num_threads(max(1, self.threads))
        return Assistant.open(self.index_dir, **self.engine_kwargs)
