"""The HTTP API's shape over the FakeAssistant: answers, ask_many, articles, stats, health, API key."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import RecordingAssistant, wait_ready
from fakes import BLINKEN, HEATWAVE, FakeAssistant
from fastapi.testclient import TestClient

from qa.errors import IndexError_
from qa.retrievers.filters import Filters
from qa.server import create_app
from qa.types import Article, answer_from_json, answer_to_json

QUESTION = "Who is the secretary of state?"


def test_ask_returns_the_one_json_form_of_the_answer(client, engine):
    r = client.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == answer_to_json(FakeAssistant().ask(QUESTION))
    assert answer_from_json(r.json()).text == "Antony Blinken"


def test_ask_passes_top_k_threshold_and_filters_to_the_engine(client, engine):
    body = {"question": QUESTION, "top_k": 7, "threshold": 0.25,
            "filters": {"date_from": "2022-07", "date_to": "2022", "sections": ["International"]}}
    assert client.post("/v1/ask", json=body).status_code == 200
    kind, questions, options = engine.calls[-1]
    assert (kind, questions) == ("ask", [QUESTION])
    assert options == {"top_k": 7, "threshold": 0.25,
                       "filters": Filters("2022-07-01", "2022-12-31", ("International",))}


def test_ask_as_of_reaches_the_engine_and_is_never_batched(make_client):
    """as_of moves the anchor of time words; ask_many has none, so such a question is asked on its own."""
    gate = threading.Event()
    engine = RecordingAssistant(gate=gate)
    # A long collection window: all four requests are taken into one batch before the first is answered.
    client = make_client(lambda: engine, max_batch=8, max_wait_s=1.0)
    bodies = [{"question": QUESTION, "as_of": "2022-07-31"}] * 3 + [{"question": QUESTION, "as_of": "2022-08"}]
    with ThreadPoolExecutor(len(bodies)) as pool:
        futures = [pool.submit(client.post, "/v1/ask", json=b) for b in bodies]
        worker = client.app.state.worker
        deadline = time.monotonic() + 30
        while not engine.asked:
            assert time.monotonic() < deadline, "the engine was never asked"
            time.sleep(0.01)
        assert worker.report()["queued"] == 0 and len(engine.calls) == 1  # the rest wait in the same batch
        gate.set()
        assert all(f.result().status_code == 200 for f in futures)
    assert sorted(options["as_of"] for kind, _, options in engine.calls if kind == "ask") == [
        "2022-07-31", "2022-07-31", "2022-07-31", "2022-08"]
    assert not [c for c in engine.calls if c[0] == "ask_many"]


def test_no_filters_and_empty_filters_mean_none(client, engine):
    client.post("/v1/ask", json={"question": QUESTION, "filters": {}})
    client.post("/v1/ask", json={"question": QUESTION})
    assert [c[2] for c in engine.calls] == [{"top_k": None, "threshold": None, "filters": None}] * 2


def test_ask_many_answers_in_order(client):
    questions = ["how hot was it in Seville?", QUESTION, "Who won the 2018 World Cup?"]
    r = client.post("/v1/ask_many", json={"questions": questions})
    assert r.status_code == 200
    answers = [answer_from_json(a) for a in r.json()]
    assert [a.question for a in answers] == questions
    assert [a.text for a in answers] == ["44 degrees Celsius", "Antony Blinken", ""]


def test_articles_are_paged_without_text_unless_asked(client):
    r = client.get("/v1/articles", params={"limit": 1})
    assert r.status_code == 200
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
    assert [a["id"] for a in page["articles"]] == [BLINKEN.id]
    assert page["articles"][0]["text"] is None
    second = client.get("/v1/articles", params={"limit": 1, "offset": 1}).json()["articles"]
    assert [a["id"] for a in second] == [HEATWAVE.id]
    assert client.get("/v1/articles", params={"offset": 5}).json()["articles"] == []
    with_text = client.get("/v1/articles", params={"text": "true"}).json()["articles"]
    assert with_text[1]["text"] == HEATWAVE.text


def test_one_article_comes_with_its_plain_text(make_client):
    markup = Article(id="odd", title="<b>Odd</b> [bold]title[/bold]", text="<script>alert(1)</script> & more",
                     date="2022-01-01")
    client = make_client(lambda: RecordingAssistant(articles=[markup]))
    r = client.get("/v1/articles/odd")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["text"] == markup.text and r.json()["title"] == markup.title  # text, never rendered
    missing = client.get("/v1/articles/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "article_not_found"


def test_stats_are_the_engines_and_the_servers(client):
    client.post("/v1/ask", json={"question": QUESTION})
    client.post("/v1/conversations")
    r = client.get("/v1/stats")
    assert r.status_code == 200
    body = r.json()
    server = body.pop("server")
    assert body == FakeAssistant().stats()
    assert server == {"queued": 0, "max_batch": 8, "engine_calls_by_batch_size": {"1": 1}, "mean_batch": 1.0,
                      "conversations": 1}


def test_health_is_503_while_loading_then_200_with_counts(make_client):
    gate = threading.Event()

    def slow_factory():
        gate.wait(10)
        return RecordingAssistant()

    client = make_client(slow_factory, ready=False)
    loading = client.get("/v1/health")
    assert loading.status_code == 503 and loading.json() == {"status": "loading"}
    assert loading.headers["retry-after"]
    busy = client.post("/v1/ask", json={"question": QUESTION})
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "loading"
    assert client.get("/v1/articles").status_code == 503
    gate.set()
    wait_ready(client)
    assert client.get("/v1/health").json() == {"status": "ok", "articles": 2, "passages": 6}


def test_models_are_warmed_on_the_engine_thread_at_startup(client, engine):
    assert engine.warmed
    client.post("/v1/ask", json={"question": QUESTION})
    client.post("/v1/ask_many", json={"questions": [QUESTION]})
    assert engine.threads == {"newsdesk-engine"}


def test_a_failed_start_is_reported_not_hidden(make_client):
    def broken():
        raise IndexError_("no index in /nowhere: run `newsdesk index PATH... --index /nowhere`")

    client = make_client(broken, ready=False)
    for _ in range(200):
        health = client.get("/v1/health")
        if health.json()["status"] != "loading":
            break
        threading.Event().wait(0.01)
    assert health.status_code == 503
    assert health.json()["status"] == "failed"
    assert "no index in /nowhere" in health.json()["error"]["message"]
    r = client.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 503 and r.json()["error"]["code"] == "startup_failed"


def test_concurrent_requests_share_engine_calls(make_client):
    gate = threading.Event()
    engine = RecordingAssistant(gate=gate)
    client = make_client(lambda: engine, max_batch=8, max_wait_s=0.05)
    questions = [QUESTION, "how hot was it?", "Who did Blinken speak with?", "what about Bout?"] * 3
    with ThreadPoolExecutor(len(questions)) as pool:
        futures = [pool.submit(client.post, "/v1/ask", json={"question": q}) for q in questions]
        worker = client.app.state.worker
        deadline = time.monotonic() + 30
        # The first engine call waits at the gate until every other request is queued behind it.
        while not (engine.asked and worker.report()["queued"] + sum(len(qs) for _, qs, _ in engine.calls)
                   == len(questions)):
            assert time.monotonic() < deadline, "the requests never queued up"
            time.sleep(0.01)
        gate.set()
        replies = [f.result() for f in futures]
    assert all(r.status_code == 200 for r in replies)
    assert [r.json()["question"] for r in replies] == questions
    for r in replies:
        assert r.json() == answer_to_json(FakeAssistant().ask(r.json()["question"]))
    assert any(kind == "ask_many" and len(qs) > 1 for kind, qs, _ in engine.calls)
    assert sum(len(qs) for _, qs, _ in engine.calls) == len(questions)


def test_api_key_guards_everything_but_health(make_client):
    client = make_client(api_key="s3cret")
    assert client.get("/v1/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"},
                    {"Authorization": "Bearer s3cret-and-more"}):
        r = client.post("/v1/ask", json={"question": QUESTION}, headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/articles").status_code == 401
    assert client.get("/v1/stats").status_code == 401
    assert client.post("/v1/conversations").status_code == 401
    ok = {"Authorization": "Bearer s3cret"}
    assert client.post("/v1/ask", json={"question": QUESTION}, headers=ok).status_code == 200
    assert client.get("/v1/stats", headers=ok).status_code == 200


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/ask_many", "/v1/conversations", "/v1/conversations/{conversation_id}/ask",
            "/v1/articles", "/v1/stats", "/v1/health"} <= set(paths)


def test_importing_qa_does_not_load_fastapi():
    import subprocess
    import sys

    code = "import sys, qa, tui.cli; sys.exit('fastapi' in sys.modules or 'uvicorn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_app_can_be_made_twice(engine):
    for _ in range(2):
        with TestClient(create_app(lambda: engine)) as client:
            wait_ready(client)
            assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200
