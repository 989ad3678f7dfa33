"""Run inside a loopback-only network and PID namespace: ``newsdesk serve --ray``, whole and spread.

``python ray_serve_check.py WORKDIR`` indexes the bundled article, starts a
two-node Ray cluster on 127.0.0.1, runs ``newsdesk serve --ray ADDRESS
--replicas 2``, sends 200 requests from 8 clients and compares each answer
with the one a local Assistant gives. Then, on the same cluster, it serves
a 3-shard index with ``--replicas 1 --shard-groups 2`` (a front replica
with the models, two group replicas opening shards {0, 2} and {1}; see
``spread_check.py``). It prints one JSON line of results as its last line
and always stops the servers and the cluster.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback_cluster import ROOT, cli, environment, free_port, two_nodes
from spread_check import check_spread, expect_spread

QUESTIONS = [
    "Who did Antony Blinken speak with on Friday?",
    "What is Antony Blinken's job?",
    "Who is Viktor Bout?",
    "Who won the 2018 World Cup?",
]
CLIENTS, REQUESTS = 8, 200


def key(answer: dict) -> list:
    return [answer["text"], (answer["article"] or {}).get("id"), answer["start"], answer["end"]]


def hammer(base: str) -> tuple[list[tuple[str, int, dict]], list[str], float]:
    results: list[tuple[str, int, dict]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            for i in range(REQUESTS // CLIENTS):
                q = QUESTIONS[(n + i) % len(QUESTIONS)]
                try:
                    r = http.post("/v1/ask", json={"question": q})
                    with lock:
                        results.append((q, r.status_code, r.json()))
                except Exception as exc:  # counted, not raised in the thread
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, failures, time.perf_counter() - t0


def replicas_running(address: str) -> int:
    import ray
    from ray import serve

    ray.init(address=address, log_to_driver=False)
    try:
        status = serve.status().applications["newsdesk"].deployments["newsdesk"]
        return int(status.replica_states.get("RUNNING", 0))
    finally:
        ray.shutdown()


def serving(work: Path, index: Path, address: str, *options: str) -> tuple[subprocess.Popen, str]:
    """``newsdesk serve --ray`` started, and its base URL once /v1/health has said 200 several times in a row."""
    port = free_port()
    log = (work / f"serve-{index.name}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--index", str(index), "--port", str(port), "--ray", address, *options],
        cwd=ROOT,
        env=environment(work),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base, deadline, healthy = f"http://127.0.0.1:{port}", time.monotonic() + 300, 0
    try:
        while healthy < 6:  # several 200s in a row: every replica has its models
            assert proc.poll() is None, Path(log.name).read_text()[-3000:]
            assert time.monotonic() < deadline, "the replicas never became healthy"
            try:
                ok = httpx.get(f"{base}/v1/health", timeout=5).status_code == 200
            except httpx.TransportError:
                ok = False
            healthy = healthy + 1 if ok else 0
            time.sleep(0.2 if ok else 1.0)
    except BaseException:
        stop(proc)
        raise
    return proc, base


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, as a service manager stops it; the exit status."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=30)


def main(work: Path) -> dict:
    env = environment(work)
    index = work / "index"
    built = cli("index", str(ROOT / "seeds"), "--index", str(index), env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    from qa import Assistant

    expected = {
        a.question: [a.text, a.article.id if a.article else None, a.start, a.end]
        for a in Assistant.open(index).ask_many(QUESTIONS)
    }
    spread_index, spread_expected = expect_spread(work, env)
    out: dict = {}
    with two_nodes(env) as address:
        proc, base = serving(work, index, address, "--replicas", "2")
        try:
            out["replicas"] = replicas_running(address)
            results, failures, seconds = hammer(base)
            out["requests"] = len(results)
            out["failures"] = failures[:5]
            out["statuses"] = sorted({status for _, status, _ in results})
            out["all_match"] = all(key(answer) == expected[q] for q, _, answer in results)
            out["requests_per_s"] = round(len(results) / seconds, 1)
        finally:
            out["serve_rc"] = stop(proc)
        proc, base = serving(work, spread_index, address, "--replicas", "1", "--shard-groups", "2")
        try:
            out["spread"] = check_spread(base, address, spread_expected)
        finally:
            out["spread"] = {**out.get("spread", {}), "serve_rc": stop(proc)}
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
