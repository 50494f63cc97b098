"""POST /v1/sessions/:id/cancel: stops a running turn at once (a long tool or a hanging
provider call), drops queued messages, and writes nothing after the idle event."""

from __future__ import annotations

import time

import pytest

from conftest import AgentSession, assert_dense, poll

FORMATS = {"openai": "openai/mock-model", "anthropic": "anthropic/claude-mock"}


def cancel(s: AgentSession):
    t0 = time.monotonic()
    r = s.server.post(s.path + "/cancel")
    return r, time.monotonic() - t0


def assert_nothing_after_cancel(s: AgentSession, cancel_seq: int, next_content: str) -> None:
    """After a new post and its turn, the cancel's idle event is followed directly by it."""
    events = s.events()
    assert_dense(events)
    after = [e for e in events if e["seq"] > cancel_seq]
    assert after and after[0]["type"] == "user.message" and after[0]["content"] == next_content, \
        [(e["seq"], e["type"], e["content"]) for e in after]


@pytest.mark.parametrize("fmt", FORMATS)
def test_cancel_during_a_long_tool(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 60000}, "id": "call_sleep"}]},
        {"text": "must not be asked for"},
    ])
    s.send("sleep for a minute")
    s.wait_event(lambda e: e["type"] == "agent.tool_use", message="the test_sleep call")
    assert s.send("queued one")["queued"] is True
    assert s.send("queued two")["queued"] is True

    r, took = cancel(s)
    assert r.status_code == 200, r.text
    assert r.json() == {"session_id": s.id, "session_status": "idle", "cancelled": True}
    assert took < 2.0, took
    now = s.get()
    assert now["status"] == "idle" and now["error"] is None, now

    events = s.events()
    last = events[-1]
    assert last["type"] == "session.status_idle", last
    cancel_seq = last["seq"]
    assert [e["content"] for e in events if e["type"] == "user.message"] == ["sleep for a minute"]

    # The next turn starts cleanly (the cut tool call is answered so providers accept the
    # conversation) and nothing was written between the cancel and it.
    mock_llm.clear_script(s.key)
    s.script([{"text": "fresh start"}])
    done = s.run("after cancel")
    assert done["output"] == "fresh start" and done["error"] is None
    reqs = s.llm_requests()
    assert len(reqs) == 2, "the cancelled turn made another provider call"
    assert "queued one" not in str(reqs[1]["messages"])
    assert "queued two" not in str(reqs[1]["messages"])
    assert_nothing_after_cancel(s, cancel_seq, "after cancel")


@pytest.mark.parametrize("fmt", FORMATS)
def test_cancel_during_a_hanging_provider_call(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[{"hang": True}])
    s.send("hang")
    poll(lambda: len(mock_llm.requests(s.key)) == 1, message="the provider call")
    assert s.send("queued")["queued"] is True

    r, took = cancel(s)
    assert r.status_code == 200, r.text
    assert r.json()["cancelled"] is True
    assert took < 2.0, took
    assert s.get()["status"] == "idle"
    cancel_seq = s.events()[-1]["seq"]
    assert s.events()[-1]["type"] == "session.status_idle"

    # The provider request is aborted, not left running: the mock sees the client leave.
    poll(lambda: mock_llm.stats()["in_flight"] == 0, timeout=3,
         message="the mock to see the aborted request")

    s.script([{"text": "after"}])
    s.run("next")
    assert len(s.llm_requests()) == 2
    assert "queued" not in str(s.llm_requests()[1]["messages"])
    assert_nothing_after_cancel(s, cancel_seq, "next")


def test_cancel_while_waiting_to_retry(llm_server, mock_llm):
    server = llm_server(PINCER_LLM_RETRY_BASE_MS="60000")
    s = AgentSession.create(server, mock_llm, steps=[{"status": 503}, {"text": "late"}])
    s.send("go")
    poll(lambda: len(mock_llm.requests(s.key)) == 1, message="the first attempt")
    r, took = cancel(s)
    assert r.status_code == 200 and took < 2.0
    assert s.get()["status"] == "idle"
    assert len(mock_llm.requests(s.key)) == 1


def test_cancel_when_idle_is_409(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = server.post(s.path + "/cancel")
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "session_not_running"
    s.run("hi", steps=[{"text": "hello"}])
    r = server.post(s.path + "/cancel")
    assert r.status_code == 409
    assert r.json()["error"] == "session_not_running"
    assert s.get()["status"] == "idle"


def test_cancel_a_failed_session_is_409(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="nosuchprovider/x")
    s.run("hi", expect="failed")
    r = server.post(s.path + "/cancel")
    assert r.status_code == 409
    assert r.json()["error"] == "session_not_running"
    assert s.get()["status"] == "failed"
