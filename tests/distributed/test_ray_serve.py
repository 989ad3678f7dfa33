"""``newsdesk serve --ray`` on a real two-node Ray cluster: whole-index replicas, then shards spread over groups.

The cluster and the servers run on 127.0.0.1 inside namespaces of the
helper's own (see ``namespace.py``); every answer must equal the one a
local Assistant gives on the same index. First two whole-index replicas
answer 200 requests from 8 clients; then a 3-shard index is served by one
front replica and two shard group replicas (shards {0, 2} and {1}).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.distributed.namespace import cluster_result

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return cluster_result(HERE / "ray_serve_check.py", tmp_path_factory.mktemp("ray-serve"), timeout=900)


def test_two_replicas_answer_200_concurrent_requests_like_a_local_engine(result):
    assert result["replicas"] == 2
    assert result["failures"] == [] and result["requests"] == 200
    assert result["statuses"] == [200]
    assert result["all_match"]


def test_stopping_the_server_removes_the_replicas(result):
    assert result["serve_rc"] == 0


def test_shards_spread_over_two_groups_answer_like_a_local_engine(result):
    spread = result["spread"]
    assert spread["statuses"] == [200] and spread["mismatched"] == []  # passages, fused scores, answers
    assert spread["answered"] >= 5  # of 7: the comparison is between real answers
    assert spread["concurrent_match"]  # batched by the front as well
    assert spread["articles_match"] and spread["article_match"] and spread["stats_match"]  # texts from the groups


def test_each_group_replica_opens_only_its_own_shards(result):
    spread = result["spread"]
    assert spread["running"] == {"newsdesk": 1, "shards-0": 1, "shards-1": 1}
    assert spread["shard_groups"] == [[0, 2], [1]]
    assert [g["shards"] for g in spread["held"]] == [[0, 2], [1]]
    per_shard = spread["passages_per_shard"]
    assert [g["passages"] for g in spread["held"]] == [[per_shard[0], per_shard[2]], [per_shard[1]]]
    assert all(0 < sum(g["passages"]) < sum(per_shard) for g in spread["held"])  # no group holds every passage
    assert spread["serve_rc"] == 0
