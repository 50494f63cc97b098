"""GET /v1/sessions/:id/events: {session_id, events, count}, dense seq, the seed event shapes
(seed contract §3.1–3.2), and ?after=&limit= pagination (an extension over the seed)."""

from __future__ import annotations

import re

import pytest

from conftest import AgentSession, assert_dense

EVENT_ID_RE = re.compile(r"^evt_[a-z0-9]+$")
BASE_KEYS = {"event_id", "session_id", "type", "content", "created_at"}


def rich_session(llm_server, mock_llm, fmt_model="anthropic/claude-sonnet-4-6") -> AgentSession:
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=fmt_model, thinkingLevel="low", steps=[
        {"thinking": "plan the echo", "text": "I'll echo.",
         "tool_calls": [{"name": "test_echo", "arguments": {"text": "ping"}, "id": "toolu_echo"},
                        {"name": "test_fail", "arguments": {"message": "nope"}, "id": "toolu_fail"}],
         "usage": {"input": 120, "output": 30}},
        {"text": "Echoed ping; the other failed.", "usage": {"input": 200, "output": 12}},
    ])
    s.run("echo ping then fail")
    return s


def test_events_envelope_and_dense_seq(llm_server, mock_llm):
    s = rich_session(llm_server, mock_llm)
    r = s.server.get(s.path + "/events")
    assert r.status_code == 200
    body = r.json()
    assert body["session_id"] == s.id
    assert body["count"] == len(body["events"]) > 0
    events = body["events"]
    assert_dense(events)
    for e in events:
        assert BASE_KEYS <= set(e), e
        assert EVENT_ID_RE.match(e["event_id"]), e
        assert e["session_id"] == s.id
        assert isinstance(e["created_at"], int)
        assert isinstance(e["content"], str)
        assert not [k for k in e if k.startswith("_")], e
    times = [e["created_at"] for e in events]
    assert times == sorted(times)
    # The listing is stable.
    assert s.events() == events


def test_event_shapes(llm_server, mock_llm):
    s = rich_session(llm_server, mock_llm)
    events = s.events()
    by_type: dict[str, list[dict]] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)

    (user,) = by_type["user.message"]
    assert user["content"] == "echo ping then fail"
    for k in ("tokens", "cost_usd", "model", "tool_name", "tool_call_id", "tool_arguments",
              "is_error"):
        assert k not in user, (k, user)

    (thinking,) = by_type["agent.thinking"]
    assert thinking["content"] == "plan the echo"

    msgs = by_type["agent.message"]
    assert [m["content"] for m in msgs] == ["I'll echo.", "Echoed ping; the other failed."]
    for m, (i, o) in zip(msgs, [(120, 30), (200, 12)]):
        assert m["tokens"]["input"] == i and m["tokens"]["output"] == o, m
        assert m["model"] == "anthropic/claude-sonnet-4-6"
        assert m["cost_usd"] == pytest.approx((i * 3.0 + o * 15.0) / 1e6)
        assert "tool_name" not in m and "is_error" not in m

    uses = by_type["agent.tool_use"]
    assert [(u["content"], u["tool_name"], u["tool_call_id"], u["tool_arguments"]) for u in uses] == [
        ("test_echo", "test_echo", "toolu_echo", {"text": "ping"}),
        ("test_fail", "test_fail", "toolu_fail", {"message": "nope"}),
    ]
    results = by_type["agent.tool_result"]
    assert [(r["tool_name"], r["tool_call_id"], r["content"], r["is_error"]) for r in results] == [
        ("test_echo", "toolu_echo", "ping", False),
        ("test_fail", "toolu_fail", "nope", True),
    ]
    for r in results:
        assert "tokens" not in r and "tool_arguments" not in r

    # Within one model response thinking comes first; results follow their tool uses.
    order = [e["type"] for e in events if e["type"].startswith("agent.")]
    assert order[0] == "agent.thinking"
    assert sorted(order[1:4]) == ["agent.message", "agent.tool_use", "agent.tool_use"]
    assert order[4:] == ["agent.tool_result", "agent.tool_result", "agent.message"]


def test_empty_tool_output_is_no_output(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": ""}, "id": "call_empty"}]},
        {"text": "ok"},
    ])
    s.run("go")
    result = next(e for e in s.events() if e["type"] == "agent.tool_result")
    assert result["content"] == "(no output)"


def test_status_events_carry_status(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "ok"}])
    s.run("go")
    statuses = [e for e in s.events() if e["type"].startswith("session.status_")]
    assert statuses, s.events()
    for e in statuses:
        assert e["status"] == e["type"][len("session.status_"):]
    assert statuses[-1]["type"] == "session.status_idle"


def test_pagination_with_after_and_limit(llm_server, mock_llm):
    s = rich_session(llm_server, mock_llm)
    s.run("second turn", steps=[{"text": "more"}])
    full = s.events()
    n = len(full)
    assert n >= 10

    r = s.server.get(s.path + "/events", params={"limit": 3})
    body = r.json()
    assert [e["seq"] for e in body["events"]] == [1, 2, 3]
    assert body["count"] == 3
    assert body["has_more"] is True and body["next_after"] == 3

    pages, after = [], 0
    while True:
        body = s.server.get(s.path + "/events", params={"after": after, "limit": 4}).json()
        pages.append(body["events"])
        if not body["has_more"]:
            assert body["next_after"] is None
            break
        after = body["next_after"]
        assert after == body["events"][-1]["seq"]
    assert [e for page in pages for e in page] == full
    assert all(len(p) == 4 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 4

    # after alone: everything after that seq.
    tail = s.events(after=n - 2)
    assert [e["seq"] for e in tail] == [n - 1, n]
    assert s.events(after=n) == []
    # An exact last page has no more.
    body = s.server.get(s.path + "/events", params={"after": n - 2, "limit": 2}).json()
    assert body["has_more"] is False and body["next_after"] is None


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"},
                                    {"after": "abc"}, {"after": -1}])
def test_bad_pagination_params_are_400(llm_server, mock_llm, params):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = server.get(s.path + "/events", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"


def test_events_of_a_fresh_session_are_empty(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    assert server.get(s.path + "/events").json() == {"session_id": s.id, "events": [], "count": 0}


def test_events_metric_counts_posts(llm_server, mock_llm):
    from conftest import metric_value
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "a"}, {"text": "b"}])
    s.run("one")
    s.run("two")
    assert metric_value(server.metrics(), "session_events_total", type="user.message") == 2
