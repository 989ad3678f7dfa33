"""The spread half of ``ray_serve_check.py``: a 3-shard index served by one front and two shard groups.

``expect_spread`` builds the index (the bundled article and
``tests/corpora/developing``, ``--shards 3``) and what a local engine
answers on it; ``check_spread`` asks the running server the same (one at a
time, so each is answered by ``ask`` as locally, then concurrently, so the
front batches) and asks each group replica, through Serve, which shards it
opened.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import httpx
from loopback_cluster import ROOT, cli

#: Request bodies: plain questions, a filter, a question with time words read as of a day.
ASKS = [
    {"question": "Which Russian official did Blinken speak with?"},
    {"question": "When will Hollins Bridge reopen?"},
    {"question": "How much federal aid was approved for Storm Maren?"},
    {"question": "What pay rise did the Bellmare dockworkers accept?"},
    {"question": "What did the Reserve Bank do to the interest rate?"},
    {"question": "How many people died?", "filters": {"sections": ["Weather"]}},
    {"question": "What is the latest death toll from Storm Maren?", "as_of": "2023-02-07"},
]
LAYOUT = [[0, 2], [1]]


def _options(body: dict) -> dict:
    from qa.retrievers.filters import Filters

    f = body.get("filters")
    return {
        "filters": Filters(sections=tuple(f["sections"])) if f else None,
        **({"as_of": body["as_of"]} if "as_of" in body else {}),
    }


def expect_spread(work: Path, env: dict[str, str]) -> tuple[Path, dict]:
    """The sharded index, and the answers, articles and counts a local engine gives on it."""
    import torch

    from qa import Assistant
    from qa.types import answer_to_json

    docs = work / "spread-docs"
    docs.mkdir()
    for f in [*(ROOT / "seeds").iterdir(), *(ROOT / "tests" / "corpora" / "developing").iterdir()]:
        shutil.copy(f, docs / f.name)
    index = work / "sharded"
    built = cli("index", str(docs), "--index", str(index), "--shards", "3", env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    torch.set_num_threads(1)  # as in the replicas: the same float sums
    local = Assistant.open(index)
    stats = local.stats()
    return index, {
        "answers": [answer_to_json(local.ask(b["question"], **_options(b))) for b in ASKS],
        "articles": [{"id": a.id, "title": a.title, "date": a.date, "text": a.text} for a in local.articles()],
        "stats": {k: stats[k] for k in ("articles", "passages", "shards", "passages_per_shard", "embedder")},
    }


def same_answer(got: dict, want: dict) -> bool:
    """Same answer, article, offsets and passages in the same order with the same fused scores; confidence to 1e-4."""

    def ranked(a: dict) -> list:
        return [(p["passage"]["id"], p["score"], p["dense_rank"], p["sparse_rank"]) for p in a["passages"]]

    return (
        [got[k] for k in ("text", "article", "start", "end", "sentence", "copies")]
        == [want[k] for k in ("text", "article", "start", "end", "sentence", "copies")]
        and ranked(got) == ranked(want)
        and abs(got["confidence"] - want["confidence"]) < 1e-4
        and [e["text"] for e in got["timeline"]] == [e["text"] for e in want["timeline"]]
    )


def check_spread(base: str, address: str, expected: dict) -> dict:
    out: dict = {}
    with httpx.Client(base_url=base, timeout=300) as http:
        one_by_one = [http.post("/v1/ask", json=b) for b in ASKS]
        out["statuses"] = sorted({r.status_code for r in one_by_one})
        out["answered"] = sum(bool(r.json()["text"]) for r in one_by_one)
        out["mismatched"] = [
            b["question"] for b, r, want in zip(ASKS, one_by_one, expected["answers"]) if not same_answer(r.json(), want)
        ]
        out["concurrent_match"] = _concurrently(base, expected)
        page = http.get("/v1/articles", params={"text": "true", "limit": 500}).json()
        out["articles_match"] = page["total"] == len(expected["articles"]) and [
            {k: a[k] for k in ("id", "title", "date", "text")} for a in page["articles"]
        ] == expected["articles"]
        some = expected["articles"][4]
        out["article_match"] = http.get(f"/v1/articles/{some['id']}").json()["text"] == some["text"]
        stats = http.get("/v1/stats").json()
        out["stats_match"] = {k: stats[k] for k in expected["stats"]} == expected["stats"]
        out["shard_groups"] = stats.get("shard_groups")
        out["passages_per_shard"] = stats["passages_per_shard"]
    out.update(_groups(address))
    return out


def _concurrently(base: str, expected: dict, clients: int = 4, rounds: int = 6) -> bool:
    """Plain questions from several clients at once (the front answers them in batches): same answers."""
    plain = [(b, want) for b, want in zip(ASKS, expected["answers"]) if len(b) == 1]
    bad: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            for i in range(rounds):
                body, want = plain[(n + i) % len(plain)]
                got = http.post("/v1/ask", json=body).json()
                if [got.get(k) for k in ("text", "article", "start", "end")] != [
                    want[k] for k in ("text", "article", "start", "end")
                ]:
                    bad.append(body["question"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return not bad


def _groups(address: str) -> dict:
    """Running replicas of each deployment, and what each group replica opened (asked through Serve)."""
    import ray
    from ray import serve

    ray.init(address=address, log_to_driver=False)
    try:
        deployments = serve.status().applications["newsdesk"].deployments
        running = {name: int(d.replica_states.get("RUNNING", 0)) for name, d in deployments.items()}
        held = []
        for g in range(len(LAYOUT)):
            summaries = serve.get_deployment_handle(f"shards-{g}", app_name="newsdesk").summaries.remote().result()
            held.append({"shards": [s.shard for s in summaries], "passages": [s.manifest["passages"] for s in summaries]})
        return {"running": running, "held": held}
    finally:
        ray.shutdown()
