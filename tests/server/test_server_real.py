"""A real ``newsdesk serve`` on the bundled article: 200 concurrent requests, answers equal to ``ask --json``.

The server runs as its own process on 127.0.0.1 (a free port), with its
index and user data folder under tmp, and is stopped by its process id.
Precision is fixed to fp32 for the server and the command line alike, so
both read with the same numbers and no per-machine probe runs in the test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.reliability import tried

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
QUESTIONS = [
    "Who did Antony Blinken speak with on Friday?",
    "What is Antony Blinken's job?",
    "Who is Viktor Bout?",
    "Who won the 2018 World Cup?",  # not in the articles: no answer, on both sides
]
CLIENTS, REQUESTS = 8, 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _key(answer: dict) -> tuple:
    """What must agree: the answer words, their article and their offsets."""
    return answer["text"], (answer["article"] or {}).get("id"), answer["start"], answer["end"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(base url, {question: answer from `newsdesk ask --json`}, health statuses seen while starting)."""
    tmp = tmp_path_factory.mktemp("live")
    index = tmp / "index"
    env = {**os.environ, "NEWSDESK_HOME": str(tmp / "home"), "NEWSDESK_PRECISION": "fp32",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("NEWSDESK_API_KEY", None)
    built = _cli("index", str(SEEDS), "--index", str(index), env=env)
    assert built.returncode == 0, built.stderr
    port = _free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--index", str(index), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        expected = {}
        for q in QUESTIONS:  # while the server loads its models
            r = _cli("ask", q, "--index", str(index), "--json", env=env)
            assert r.returncode == 0, r.stderr
            expected[q] = json.loads(r.stdout)
        base, seen = f"http://127.0.0.1:{port}", []
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            assert time.monotonic() < deadline, "the server never became healthy"
            try:
                health = httpx.get(f"{base}/v1/health", timeout=5)
            except httpx.TransportError:  # not listening yet
                time.sleep(0.5)
                continue
            seen.append((health.status_code, health.json()["status"]))
            if health.status_code == 200:
                break
            time.sleep(0.5)
        yield base, expected, seen
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


def test_health_reports_loading_then_counts(live):
    base, _, seen = live
    assert set(seen) <= {(503, "loading"), (200, "ok")} and seen[-1] == (200, "ok")
    body = httpx.get(f"{base}/v1/health", timeout=10).json()
    assert body["articles"] == 1 and body["passages"] > 0
    assert httpx.get(f"{base}/v1/articles", timeout=10).json()["total"] == 1


def test_concurrent_clients_get_the_command_lines_answers(live):
    base, expected, _ = live
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
    elapsed = time.perf_counter() - t0
    assert failures == []
    assert len(results) == REQUESTS
    assert [status for _, status, _ in results if status != 200] == []
    for q, _, answer in results:
        assert answer["question"] == q
        assert _key(answer) == _key(expected[q]), q
    print(f"\n{REQUESTS} requests from {CLIENTS} clients in {elapsed:.1f}s ({REQUESTS / elapsed:.1f}/s)")


def test_bad_requests_are_4xx_from_the_real_server(live):
    base, _, _ = live
    tried("hostile inputs", 4)
    with httpx.Client(base_url=base, timeout=60) as http:
        cases = [
            (http.post("/v1/ask", json={"question": "  "}), 400, "empty_question"),
            (http.post("/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"}),
             400, "malformed_json"),
            (http.post("/v1/ask", json={"question": "why? " * 300}), 422, "invalid_request"),
            (http.post("/v1/conversations/nope/ask", json={"question": "Who?"}), 404, "conversation_not_found"),
        ]
        for r, status, code in cases:
            assert r.status_code == status and r.json()["error"]["code"] == code, r.text
            assert "Traceback" not in r.text
        assert http.get("/v1/health").status_code == 200  # and it is still up


def test_a_conversation_on_the_real_server(live):
    base, _, _ = live
    with httpx.Client(base_url=base, timeout=120) as http:
        cid = http.post("/v1/conversations").json()["id"]
        first = http.post(f"/v1/conversations/{cid}/ask", json={"question": "What is Antony Blinken's job?"})
        assert first.status_code == 200 and first.json()["text"]
        follow = http.post(f"/v1/conversations/{cid}/ask", json={"question": "Who did he speak with on Friday?"})
        assert follow.status_code == 200
        assert "Blinken" in (follow.json()["understood_as"] or "")


def test_docs_come_from_the_real_server_itself(live):
    """``/docs`` and ``/redoc`` load Swagger UI and ReDoc from the server: they work with no internet."""
    from tests.server.test_server_docs import assert_served_here

    base, _, _ = live
    with httpx.Client(base_url=base, timeout=60) as http:
        assert_served_here(http, "/docs", kinds={"js", "css"})
        assert_served_here(http, "/redoc", kinds={"js"})
