"""``newsdesk index --ray`` on a real two-node Ray cluster builds the index a single process builds.

The cluster (head and worker node, one CPU each) runs on 127.0.0.1 inside
namespaces of the helper's own (see ``namespace.py``); the helper indexes a
small folder on it, re-indexes after a change, kills the embedding worker
mid-batch (once: retried; on every attempt: the job fails), and builds the
same folder locally for comparison.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.distributed.indexing import WORKER_RETRIES
from tests.distributed.namespace import cluster_result

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return cluster_result(HERE / "ray_index_check.py", tmp_path_factory.mktemp("ray-index"), timeout=780)


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
    assert bad["rc"] == 2 and bad["unchanged"]
    assert len(bad["stderr"]) == 1 and bad["stderr"][0].startswith("error: no Ray cluster at 127.0.0.1:")


def test_a_worker_killed_mid_batch_is_retried_and_the_index_equals_a_local_build(result):
    once = result["killed_once"]
    # One embedding worker SIGKILLed while it embedded a batch.
    assert len(once["pids"]) == 1, (once["titles"], once["state_api_errors"])
    assert once["rc"] == 0 and once["stderr"] == [], once["stderr"]  # Ray's own log lines went to its log file
    assert once["restarts"] >= 1  # Ray restarted the actor and ran the batch again
    assert "15 added, 0 updated, 0 removed, 0 unchanged, 0 skipped" in "\n".join(once["stdout"])
    compare = result["compare_killed"]
    assert compare["articles"] == 15 and compare["same_articles"] and compare["same_passages"]
    assert compare["max_vector_diff"] is not None and compare["max_vector_diff"] <= 1e-4
    assert result["answers_killed"] == result["answers"][1]


def test_a_batch_that_kills_its_worker_on_every_attempt_fails_in_one_line_and_the_index_stays(result):
    always = result["killed_always"]
    # Killed on the first try and on every retry; then the job gave up (the script would have gone on killing).
    assert len(always["pids"]) == WORKER_RETRIES + 1, (always["pids"], always["titles"])
    assert always["rc"] == 2 and always["unchanged"], always
    assert len(always["stderr"]) == 1, always["stderr"]
    line = always["stderr"][0]
    assert line.startswith("error: distributed indexing failed, the index is unchanged: "), line
    assert f"a worker died on each of {WORKER_RETRIES + 1} tries at the same batch" in line, line
