"""``newsdesk index --ray`` on a real two-node Ray cluster builds the index a single process builds.

The cluster (head and worker node, one CPU each) runs on 127.0.0.1 inside
namespaces of the helper's own (see ``namespace.py``); the helper indexes a
small folder on it, re-indexes after a change, and builds the same folder
locally for comparison.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.distributed.namespace import cluster_result

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return cluster_result(HERE / "ray_index_check.py", tmp_path_factory.mktemp("ray-index"), timeout=420)


def test_two_nodes_joined(result):
    assert result["nodes"] == 2


def test_cluster_index_equals_a_local_build(result):
    compare = result["compare"]
    assert compare["articles"] == 15 and compare["passages"] > 0
    assert compare["same_articles"] and compare["same_passages"]
    assert compare["max_vector_diff"] is not None and compare["max_vector_diff"] <= 1e-4
    on_ray, local = result["answers"]
    assert on_ray == local
    assert any(text for text, *_ in on_ray)  # the questions do get answers


def test_incremental_run_embeds_only_changed_articles(result):
    assert "15 added, 0 updated, 0 removed, 0 unchanged, 0 skipped" in result["first"]
    assert "1 added, 1 updated, 1 removed, 13 unchanged, 0 skipped" in result["again"]
    first = int(result["first"].split("; ")[1].split()[0])
    again = int(result["again"].split("; ")[1].split()[0])
    assert 0 < again < first


def test_no_cluster_is_one_line_and_the_index_stays(result):
    bad = result["bad_address"]
    assert bad["rc"] != 0 and bad["unchanged"]
    assert len(bad["stderr"]) == 1 and bad["stderr"][0].startswith("error: no Ray cluster at 127.0.0.1:")
