"""``newsdesk serve --ray ADDRESS --replicas 2`` on a real two-node Ray cluster: 200 requests from 8 clients.

The cluster and the server run on 127.0.0.1 inside namespaces of the
helper's own (see ``namespace.py``); every answer must equal the one a
local Assistant gives on the same index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.distributed.namespace import cluster_result

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return cluster_result(HERE / "ray_serve_check.py", tmp_path_factory.mktemp("ray-serve"), timeout=600)


def test_two_replicas_answer_200_concurrent_requests_like_a_local_engine(result):
    assert result["replicas"] == 2
    assert result["failures"] == [] and result["requests"] == 200
    assert result["statuses"] == [200]
    assert result["all_match"]


def test_stopping_the_server_removes_the_replicas(result):
    assert result["serve_rc"] == 0
