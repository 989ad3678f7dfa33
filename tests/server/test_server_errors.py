"""Bad requests get a 4xx with ``{"error": {"code", "message"}}``; nothing leaks a traceback."""

from __future__ import annotations

import json

import pytest

from qa.asking import MAX_QUESTION_CHARS
from qa.errors import InvalidInputError, NewsdeskError
from tests.reliability import tried

QUESTION = "Who is the secretary of state?"

BAD_ASKS = [
    # (body, status, code)
    ({"question": ""}, 400, "empty_question"),
    ({"question": "   ?!  "}, 400, "empty_question"),
    ({"question": "\x1b[31m\x1b]52;c;aGk=\x07"}, 400, "empty_question"),
    ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, 422, "invalid_request"),
    ({}, 422, "invalid_request"),
    ({"question": 42}, 422, "invalid_request"),
    ({"question": QUESTION, "top_k": 0}, 422, "invalid_request"),
    ({"question": QUESTION, "top_k": 51}, 422, "invalid_request"),
    ({"question": QUESTION, "top_k": "5"}, 422, "invalid_request"),
    ({"question": QUESTION, "top_k": True}, 422, "invalid_request"),
    ({"question": QUESTION, "top_k": 2.5}, 422, "invalid_request"),
    ({"question": QUESTION, "threshold": 1.5}, 422, "invalid_request"),
    ({"question": QUESTION, "threshold": -0.1}, 422, "invalid_request"),
    ({"question": QUESTION, "filters": {"date_from": "2024-13-45"}}, 422, "invalid_input"),
    ({"question": QUESTION, "filters": {"date_from": "2024-05", "date_to": "2024-01"}}, 422, "invalid_input"),
    ({"question": QUESTION, "filters": {"sections": "International"}}, 422, "invalid_request"),
    ({"question": QUESTION, "filters": {"section": ["International"]}}, 422, "invalid_request"),
    ({"question": QUESTION, "topk": 3}, 422, "invalid_request"),
    ([QUESTION], 422, "invalid_request"),
]


def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert message and "\n" not in message and len(message) <= 300
    assert "Traceback" not in r.text and "File \"" not in r.text
    return body["error"]


@pytest.mark.parametrize("body,status,code", BAD_ASKS)
def test_bad_asks_are_4xx_with_one_line(client, body, status, code):
    tried("hostile inputs")
    assert_error(client.post("/v1/ask", json=body), status, code)


def test_the_engines_own_messages_are_passed_on(client):
    err = assert_error(client.post("/v1/ask", json={"question": " "}), 400, "empty_question")
    assert err["message"] == "Please type a question with some words in it."
    err = assert_error(client.post("/v1/ask", json={"question": QUESTION, "filters": {"date_to": "04/01/2024"}}),
                       422, "invalid_input")
    assert err["message"] == "date-to '04/01/2024' is not a date: use YYYY-MM-DD, YYYY-MM or YYYY"


def test_malformed_json_is_400(client):
    for raw in (b"{bad", b'{"question": "hi"', b"", b"\xff\xfe"):
        tried("hostile inputs")
        r = client.post("/v1/ask", content=raw, headers={"Content-Type": "application/json"})
        if raw:
            assert_error(r, 400, "malformed_json")
        else:  # no body at all: the question is missing
            assert_error(r, 422, "invalid_request")


def test_nan_threshold_is_refused(client):
    raw = json.dumps({"question": QUESTION, "threshold": float("nan")})
    r = client.post("/v1/ask", content=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 422, "invalid_request")


def test_a_form_body_is_told_to_send_json(client):
    assert_error(client.post("/v1/ask", data={"question": QUESTION}), 415, "unsupported_media_type")


def test_huge_bodies_are_refused_before_they_are_read(client):
    tried("hostile inputs", 2)
    big = b'{"question": "' + b"x" * 400_000 + b'"}'
    assert_error(client.post("/v1/ask", content=big, headers={"Content-Type": "application/json"}),
                 413, "body_too_large")

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 10_000
        yield b'"}'

    assert_error(client.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"}),
                 413, "body_too_large")


def test_ask_many_limits(client):
    assert_error(client.post("/v1/ask_many", json={"questions": []}), 422, "invalid_request")
    assert_error(client.post("/v1/ask_many", json={"questions": [QUESTION] * 65}), 422, "invalid_request")
    err = assert_error(client.post("/v1/ask_many", json={"questions": [QUESTION, " "]}), 400, "empty_question")
    assert err["message"].startswith("questions[1]: ")
    assert client.post("/v1/ask_many", json={"questions": [QUESTION] * 64}).status_code == 200


def test_unknown_routes_and_methods(client):
    assert_error(client.get("/v1/nope"), 404, "not_found")
    assert_error(client.get("/v1/ask"), 405, "method_not_allowed")
    assert_error(client.get("/v1/articles", params={"limit": 0}), 422, "invalid_request")
    assert_error(client.get("/v1/articles", params={"limit": 501}), 422, "invalid_request")
    assert_error(client.get("/v1/articles", params={"offset": -1}), 422, "invalid_request")


def test_an_engine_crash_is_a_bare_500(client, caplog):
    tried("faults injected")
    err = assert_error(client.post("/v1/ask", json={"question": "explode, please"}), 500, "internal_error")
    assert "fell over" not in err["message"] and "RuntimeError" not in err["message"]
    assert "the reader fell over" in caplog.text  # logged on the server, not sent to the client
    assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200  # and the server goes on


def test_engine_errors_map_to_statuses(client, engine, monkeypatch):
    for exc, status, code in ((InvalidInputError("top-k must be a whole number from 1 to 1000, not 0"), 422,
                               "invalid_input"),
                              (NewsdeskError("something the person can fix"), 400, "bad_request")):
        def fail(*_args, exc=exc, **_kwargs):
            raise exc

        monkeypatch.setattr(engine, "ask", fail)
        err = assert_error(client.post("/v1/ask", json={"question": QUESTION}), status, code)
        assert err["message"] == str(exc)
