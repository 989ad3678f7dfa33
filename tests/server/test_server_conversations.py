"""Conversations over HTTP, and the in-memory store's bounds on count, idle time and turns."""

from __future__ import annotations

from conftest import RecordingAssistant

from qa.server.conversations import ConversationStore, UnknownConversation


def test_follow_ups_are_understood_from_earlier_turns(client):
    r = client.post("/v1/conversations")
    assert r.status_code == 201
    cid = r.json()["id"]
    assert r.json()["idle_timeout_s"] > 0
    first = client.post(f"/v1/conversations/{cid}/ask", json={"question": "Who is the secretary of state?"})
    assert first.status_code == 200 and first.json()["text"] == "Antony Blinken"
    follow = client.post(f"/v1/conversations/{cid}/ask", json={"question": "Who did he speak with?"})
    assert follow.json()["understood_as"] == "Who did Antony Blinken speak with?"
    assert follow.json()["text"] == "Sergey Lavrov"
    assert follow.json()["format"] == "newsdesk.answer"


def test_conversations_do_not_share_turns(client):
    a, b = (client.post("/v1/conversations").json()["id"] for _ in range(2))
    assert a != b
    client.post(f"/v1/conversations/{a}/ask", json={"question": "Who is the secretary of state?"})
    r = client.post(f"/v1/conversations/{b}/ask", json={"question": "Who did he speak with?"})
    assert r.json()["understood_as"] is None


def test_unknown_and_ended_conversations_are_404(client):
    r = client.post("/v1/conversations/no-such-id/ask", json={"question": "Who?"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "conversation_not_found"
    cid = client.post("/v1/conversations").json()["id"]
    assert client.delete(f"/v1/conversations/{cid}").status_code == 204
    assert client.post(f"/v1/conversations/{cid}/ask", json={"question": "Who?"}).status_code == 404
    assert client.delete(f"/v1/conversations/{cid}").status_code == 404


def test_a_bad_question_in_a_conversation_is_4xx(client):
    cid = client.post("/v1/conversations").json()["id"]
    r = client.post(f"/v1/conversations/{cid}/ask", json={"question": ""})
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_question"


def test_store_evicts_the_least_recently_used_when_full():
    store = ConversationStore(max_count=2)
    engine = RecordingAssistant()
    first, second = store.add(engine.conversation()), store.add(engine.conversation())
    store.get(first)  # used again: now second is the oldest
    third = store.add(engine.conversation())
    assert len(store) == 2
    store.get(first), store.get(third)
    try:
        store.get(second)
    except UnknownConversation:
        pass
    else:
        raise AssertionError("the least recently used conversation should have been evicted")


def test_store_forgets_idle_conversations():
    now = [0.0]
    store = ConversationStore(idle_s=60, clock=lambda: now[0])
    engine = RecordingAssistant()
    kept, idle = store.add(engine.conversation()), store.add(engine.conversation())
    now[0] = 50
    store.get(kept)
    now[0] = 100
    store.get(kept)
    assert len(store) == 1
    try:
        store.get(idle)
    except UnknownConversation:
        pass
    else:
        raise AssertionError("an idle conversation should have expired")


def test_store_keeps_only_the_last_turns(make_client):
    store = ConversationStore(max_turns=3)
    client = make_client(conversations=store)
    cid = client.post("/v1/conversations").json()["id"]
    for i in range(5):
        client.post(f"/v1/conversations/{cid}/ask", json={"question": f"Who is the secretary of state? {i}"})
    turns = store.get(cid).turns
    assert [q for q, _ in turns] == [f"Who is the secretary of state? {i}" for i in (2, 3, 4)]
