"""Newsdesk on a Ray cluster: distributed indexing (Ray Data) and replicas (Ray Serve), shards spread over them.

Optional: needs the ``cluster`` extra (``pip install 'newsdesk[cluster]'``).
Ray is imported only inside the functions that use it, so ``import qa`` and
``import qa.distributed`` never load it.
"""

from qa.distributed.cluster import ClusterError, connect, require_ray
from qa.distributed.indexing import index_on_ray

__all__ = ["ClusterError", "connect", "index_on_ray", "require_ray"]
