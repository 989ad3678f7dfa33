"""``newsdesk serve --ray ADDRESS --replicas N``: the HTTP API as Ray Serve replicas.

Ray Serve runs the replicas (each with its own models; the index folder
must be at the same path on every node) and one HTTP proxy on the head
node, bound where ``--host``/``--port`` say. Serve spreads requests over the
replicas; each replica batches its own. On an unsharded index each replica
opens the whole index. On a sharded one the shards are spread over shard
groups (``--shard-groups G``, default one per shard; 0 for whole-index
replicas), each a deployment of one replica that opens only its shards,
and the N front replicas search them (``qa.distributed.shard_groups``).
Conversations live in the replica that started them and Serve does not
route by conversation, so follow-ups want ``--replicas 1`` (or plain
``newsdesk serve``). The replicas are removed when the command stops.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from qa.distributed.cluster import ClusterError, _first_line, connect, require_ray
from qa.distributed.shard_groups import group_bytes, group_layout

log = logging.getLogger("qa.distributed")

#: Logical CPUs per replica: a replica answers on one engine thread.
REPLICA_CPUS = 1.0
#: Logical CPUs per shard group replica: none. It runs no model, and what it needs is memory: it asks Ray
#: for its shards' bytes of memory instead, so Ray places groups where they fit (Serve spreads them over nodes).
GROUP_CPUS = 0.0


def serve_on_ray(
    *,
    address: str,
    replicas: int,
    index_dir: Path,
    engine_kwargs: dict[str, Any],
    api_key: str | None,
    max_batch: int,
    host: str,
    port: int,
    threads: int = 1,
    shard_groups: int | None = None,
) -> int:
    """Deploy ``replicas`` replicas (and the shard groups of a sharded index) and block until
    interrupted (Ctrl+C or SIGTERM), then remove them."""
    layout = group_layout(index_dir, shard_groups)  # a wrong index or count fails before joining the cluster
    require_ray()
    from ray import serve

    from qa.distributed.replica import NewsdeskReplica, ShardGroupReplica

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    with connect(address):
        previous = signal.signal(signal.SIGTERM, stop)  # after joining: Ray installs a handler of its own
        try:
            serve.start(
                http_options={"host": host, "port": port},
                proxy_location="HeadOnly",
                logging_config={"log_level": "WARNING"},
            )
            deployment: Any = NewsdeskReplica  # a Serve Deployment once decorated
            group: Any = ShardGroupReplica
            groups = [
                group.options(
                    name=f"shards-{g}",
                    num_replicas=1,
                    ray_actor_options={"num_cpus": GROUP_CPUS, "memory": group_bytes(index_dir, ids)},
                ).bind(index_dir=str(index_dir.resolve()), shards=list(ids))
                for g, ids in enumerate(layout or [])
            ]
            app = deployment.options(num_replicas=replicas, ray_actor_options={"num_cpus": REPLICA_CPUS}).bind(
                index_dir=str(index_dir.resolve()),
                engine_kwargs=engine_kwargs,
                api_key=api_key,
                max_batch=max_batch,
                threads=threads,
                shard_groups=groups or None,
            )
            serve.run(app, name="newsdesk", route_prefix="/", blocking=False)
        except KeyboardInterrupt:
            _shutdown(serve)
            return 130
        except Exception as exc:
            _shutdown(serve)
            raise ClusterError(f"could not deploy the replicas: {_first_line(exc)}") from None
        where = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        spread = f" and {len(layout)} shard group{'s' if len(layout) != 1 else ''}" if layout else ""
        print(
            f"Newsdesk API on {where} with {replicas} Ray Serve replica{'s' if replicas != 1 else ''}{spread} "
            f"(/v1/health says when the models are loaded)" + ("" if api_key else "; no API key"),
            file=sys.stderr,
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
        finally:
            _shutdown(serve)
            signal.signal(signal.SIGTERM, previous)


def _shutdown(serve: Any) -> None:
    try:
        serve.shutdown()
    except Exception as exc:  # the cluster may already be gone; nothing is left to remove then
        log.info("serve shutdown: %s", _first_line(exc))
