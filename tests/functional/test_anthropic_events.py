"""Session events in the Anthropic dialect (issue 6) at the wire level, with plain `requests`
and a raw SSE reader:

- send validation, a message sent while the turn is parked is queued (`processed_at: null`)
  and runs afterwards;
- the events list: `order`, `limit` paging (never more than `limit` per page, no repeats);
- a failed turn is `session.error` (type, retry_status) then `session.status_idle` with
  `retries_exhausted`, and the session takes the next message;
- tool confirmations and custom tool results: unknown ids 404, second answers 409;
- the stream: `event: ping` heartbeats, no replay, `event:` equal to the data's type, the
  `session.deleted` frame and the end of the stream, bad `event_deltas[]` 400;
- a turn parked on a custom tool survives kill -9.

Helpers (the `dialect` fixture, the client) come from test_anthropic_dialect.py.
"""

from __future__ import annotations

import json

import pytest

from conftest import SseClient, crash_restart, unique_key
from test_anthropic_dialect import TOKEN, Dialect, check_envelope, custom, parse_time
from test_anthropic_dialect import api, dialect  # noqa: F401 (fixtures)

ASK_BASH = [{"type": "agent_toolset_20260401",
             "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}}]}]


def text(t: str) -> list[dict]:
    return [{"type": "text", "text": t}]


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def idle_reasons(events: list[dict]) -> list[dict]:
    return [e["stop_reason"] for e in events if e["type"] == "session.status_idle"]


def parked_session(api: Dialect, steps: list[dict], **agent_body) -> tuple[str, str, list[dict]]:
    """A session whose first turn runs `steps` and parks (requires_action). Returns the
    session id, the mock key and the log so far."""
    key = unique_key("ev")
    agent = api.agent(key=key, **agent_body)
    sid = api.session(agent)["id"]
    api.mock.script(key, steps)
    api.message(sid, "start")
    evs = api.wait_idle(sid)
    assert idle_reasons(evs)[-1]["type"] == "requires_action", evs
    return sid, key, evs


def stream(api: Dialect, sid: str, query: str = "") -> SseClient:
    c = SseClient(api.server, f"/anthropic/v1/sessions/{sid}/events/stream{query}",
                  headers={"x-api-key": TOKEN, "anthropic-version": "2023-06-01"})
    assert c.status == 200, c.body_text()
    assert c.headers["content-type"].startswith("text/event-stream"), c.headers
    assert c.headers.get("request-id", "").startswith("req_"), c.headers
    return c


def frames_until_idle(c: SseClient, timeout: float = 15.0) -> list:
    frames = c.frames_until(lambda f: f.event == "session.status_idle", timeout=timeout)
    return [f for f in frames if f.event != "ping"]


# ==== send =====================================================================================

@pytest.mark.parametrize("body, field", [
    ({}, "events:"),
    ({"events": []}, "events:"),
    ({"events": {"type": "user.message"}}, "events:"),
    ({"events": [{"type": "user.message", "content": text("x")}] * 51}, "events:"),
    ({"events": [{"type": "user.bogus"}]}, "events.0.type:"),
    ({"events": [{"content": text("x")}]}, "events.0.type:"),
    ({"events": [{"type": "user.message"}]}, "events.0.content:"),
    ({"events": [{"type": "user.message", "content": "plain string"}]}, "events.0.content:"),
    ({"events": [{"type": "user.message", "content": []}]}, "events.0.content:"),
    ({"events": [{"type": "user.message", "content": [{"type": "text"}]}]}, "events.0.content.0.text:"),
    ({"events": [{"type": "user.message", "content": [
        {"type": "text", "text": "look"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]},
     "events.0.content.1.type:"),
    ({"events": [{"type": "user.message", "content": text("ok")},
                 {"type": "user.tool_confirmation", "tool_use_id": "x", "result": "maybe"}]},
     "events.1.result:"),
    ({"events": [{"type": "user.custom_tool_result"}]}, "events.0.custom_tool_use_id:"),
    ({"events": [{"type": "user.message", "content": text("x"), "extra": 1}]}, "events.0.extra:"),
])
def test_send_validation(api, body, field):
    sid = api.session(api.agent())["id"]
    err = api.err("POST", f"/sessions/{sid}/events", 400, "invalid_request_error", json=body)
    assert field in err["message"], err
    if field == "events.0.content.1.type:":
        assert "image" in err["message"], err
    assert api.events(sid) == [], "a rejected send left events behind"
    assert api.get(f"/sessions/{sid}")["status"] == "idle"


def test_send_to_unknown_session_is_404(api):
    api.err("POST", "/sessions/ses_000000000000/events", 404, "not_found_error",
            json={"events": [{"type": "user.message", "content": text("hi")}]})
    api.err("GET", "/sessions/ses_000000000000/events", 404, "not_found_error")
    api.err("GET", "/sessions/ses_000000000000/events/stream", 404, "not_found_error")


def test_a_message_sent_while_the_turn_is_parked_is_queued_then_runs(api):
    sid, key, evs = parked_session(api, [
        {"tool_calls": [{"name": "lookup", "arguments": {"q": "weather"}, "id": "toolu_q1"}]},
        {"text": "first answer"},
        {"text": "second answer"},
    ], tools=[custom("lookup")])
    use = next(e for e in evs if e["type"] == "agent.custom_tool_use")
    assert (use["name"], use["input"]) == ("lookup", {"q": "weather"})
    assert idle_reasons(evs)[-1] == {"type": "requires_action", "event_ids": [use["id"]]}
    assert api.get(f"/sessions/{sid}")["status"] == "idle"

    queued = api.message(sid, "and a follow-up")
    assert queued["type"] == "user.message" and queued["processed_at"] is None, queued
    assert queued["content"] == text("and a follow-up")
    assert queued["id"] not in {e["id"] for e in api.events(sid)}, "a queued message is not processed yet"

    (answer,) = api.send(sid, {"type": "user.custom_tool_result", "custom_tool_use_id": use["id"],
                               "content": text("sunny")})
    assert answer["type"] == "user.custom_tool_result" and answer["custom_tool_use_id"] == use["id"]
    assert answer["content"] == text("sunny") and answer["is_error"] is False
    parse_time(answer["processed_at"])

    evs = api.wait_idle(sid, count=2)
    tail = evs[len(types(evs)) - 1 - types(evs)[::-1].index("user.custom_tool_result"):]
    assert types(tail) == ["user.custom_tool_result", "session.status_running", "agent.message",
                           "user.message", "agent.message", "session.status_idle"], types(evs)
    assert tail[2]["content"] == text("first answer") and tail[4]["content"] == text("second answer")
    assert tail[3]["id"] == queued["id"] and tail[3]["content"] == text("and a follow-up")
    parse_time(tail[3]["processed_at"])
    assert idle_reasons(evs)[-1] == {"type": "end_turn"}

    bodies = api.llm_bodies(key)
    assert len(bodies) == 3
    assert "sunny" in json.dumps(bodies[1]["messages"]) and "and a follow-up" not in json.dumps(bodies[1])
    assert "and a follow-up" in json.dumps(bodies[2]["messages"])


# ==== the events list ==========================================================================

def test_events_order_and_limit_paging(api):
    sid, key, _ = parked_session(api, [
        {"tool_calls": [{"name": "lookup", "arguments": {}, "id": "toolu_p1"}]},
        {"tool_calls": [{"name": "lookup", "arguments": {"n": 2}, "id": "toolu_p2"}]},
        {"text": "done"},
    ], tools=[custom("lookup")])
    use = api.wait_event(sid, lambda e: e["type"] == "agent.custom_tool_use")
    api.send(sid, {"type": "user.custom_tool_result", "custom_tool_use_id": use["id"], "content": text("1")})
    evs = api.wait_idle(sid, count=2)
    use2 = [e for e in evs if e["type"] == "agent.custom_tool_use"][-1]
    api.send(sid, {"type": "user.custom_tool_result", "custom_tool_use_id": use2["id"],
                   "content": text("2"), "is_error": True})
    api.wait_idle(sid, count=3)
    full = api.get(f"/sessions/{sid}/events")
    assert full["next_page"] is None
    asc = full["data"]
    assert len(asc) >= 12, types(asc)
    ids = [e["id"] for e in asc]
    assert len(set(ids)) == len(ids), ids
    assert all(isinstance(e["processed_at"], str) for e in asc)
    assert [parse_time(e["processed_at"]) for e in asc] == sorted(parse_time(e["processed_at"]) for e in asc)
    assert api.get(f"/sessions/{sid}/events", params={"order": "asc"})["data"] == asc
    assert api.get(f"/sessions/{sid}/events", params={"order": "desc"})["data"] == asc[::-1]

    for limit in (1, 2, 3, 5):
        for order, want in (("asc", asc), ("desc", asc[::-1])):
            got = api.list_all(f"/sessions/{sid}/events", limit=limit, order=order)
            assert [e["id"] for e in got] == [e["id"] for e in want], (limit, order)
    first = api.get(f"/sessions/{sid}/events", params={"limit": 4})
    assert first["data"] == asc[:4] and isinstance(first["next_page"], str)

    # Filters: types[] and created_at bounds (on processed_at), with paging.
    wanted = ["agent.custom_tool_use", "user.custom_tool_result"]
    got = api.list_all(f"/sessions/{sid}/events", limit=1, **{"types[]": wanted})
    assert [e["id"] for e in got] == [e["id"] for e in asc if e["type"] in wanted] and len(got) == 4, types(got)
    pivot = asc[len(asc) // 2]["processed_at"]
    after = api.get(f"/sessions/{sid}/events", params={"created_at[gte]": pivot})["data"]
    assert [e["id"] for e in after] == [e["id"] for e in asc if parse_time(e["processed_at"]) >= parse_time(pivot)]
    before = api.get(f"/sessions/{sid}/events", params={"created_at[lt]": pivot})["data"]
    assert before + after == asc


# ==== failed turns =============================================================================

@pytest.mark.parametrize("status, error_type, retry", [
    (400, "model_request_failed_error", "terminal"),
    (500, "model_overloaded_error", "exhausted"),
])
def test_a_failed_turn_is_session_error_then_idle_retries_exhausted(dialect, status, error_type, retry):
    api = dialect(PINCER_LLM_MAX_RETRIES="1")
    key = unique_key("fail")
    sid = api.session(api.agent(key=key))["id"]
    fault = {"status": status, "error": {"message": "mock says no"}}
    api.mock.script(key, [fault] * (1 if status < 500 else 2) + [{"text": "recovered"}])
    with stream(api, sid) as c:
        api.message(sid, "this fails")
        frames = frames_until_idle(c)
    evs = api.wait_idle(sid)
    assert types(evs) == ["user.message", "session.status_running", "session.error", "session.status_idle"]
    assert [(f.event, f.json["id"]) for f in frames] == [(e["type"], e["id"]) for e in evs]
    err = evs[2]["error"]
    assert err["type"] == error_type and err["retry_status"] == {"type": retry}, err
    assert "mock says no" in err["message"], err
    assert evs[3]["stop_reason"] == {"type": "retries_exhausted"}
    assert len(api.mock.requests(key)) == (1 if status < 500 else 2)
    got = api.get(f"/sessions/{sid}")
    assert got["status"] == "idle", got

    api.message(sid, "try again")
    evs = api.wait_idle(sid, count=2)
    assert types(evs)[4:] == ["user.message", "session.status_running", "agent.message", "session.status_idle"]
    assert idle_reasons(evs)[-1] == {"type": "end_turn"}
    assert evs[-2]["content"] == text("recovered")


# ==== answers: confirmations and custom tool results ===========================================

def test_tool_confirmation_unknown_id_is_404_and_a_second_answer_409(api):
    sid, key, evs = parked_session(api, [
        {"tool_calls": [{"name": "bash", "arguments": {"command": "echo hi"}, "id": "toolu_b1"}]},
        {"text": "after the denial"},
    ], tools=ASK_BASH)
    use = next(e for e in evs if e["type"] == "agent.tool_use")
    assert (use["name"], use["input"], use["evaluated_permission"]) == ("bash", {"command": "echo hi"}, "ask")
    assert idle_reasons(evs)[-1] == {"type": "requires_action", "event_ids": [use["id"]]}
    user_msg = evs[0]

    def confirm(tool_use_id, result="deny", **extra):
        return {"type": "user.tool_confirmation", "tool_use_id": tool_use_id, "result": result, **extra}

    for bad in ("evt_000000000000", user_msg["id"]):
        err = api.err("POST", f"/sessions/{sid}/events", 404, "not_found_error", json={"events": [confirm(bad)]})
        assert err["details"]["error_code"] == "approval_not_found", err
    (echo,) = api.send(sid, confirm(use["id"], deny_message="not today"))
    assert echo["type"] == "user.tool_confirmation" and echo["tool_use_id"] == use["id"]
    assert echo["result"] == "deny" and echo["deny_message"] == "not today"
    for again in ("deny", "allow"):
        err = api.err("POST", f"/sessions/{sid}/events", 409, json={"events": [confirm(use["id"], again)]})
        assert err["details"]["error_code"] == "approval_already_answered", err

    evs = api.wait_idle(sid, count=2)
    result = next(e for e in evs if e["type"] == "agent.tool_result")
    assert result["tool_use_id"] == use["id"] and result["is_error"] is True
    assert "denied" in json.dumps(result["content"]) and "not today" in json.dumps(result["content"])
    assert idle_reasons(evs)[-1] == {"type": "end_turn"}
    assert types(evs).count("user.tool_confirmation") == 1
    api.err("POST", f"/sessions/{sid}/events", 409, json={"events": [confirm(use["id"])]})


def test_custom_tool_result_unknown_id_is_404_and_a_second_answer_409(api):
    sid, key, evs = parked_session(api, [
        {"tool_calls": [{"name": "lookup", "arguments": {"q": "a"}, "id": "toolu_c1"}]},
        {"text": "thanks"},
    ], tools=[custom("lookup")])
    use = next(e for e in evs if e["type"] == "agent.custom_tool_use")

    def result(use_id):
        return {"events": [{"type": "user.custom_tool_result", "custom_tool_use_id": use_id,
                            "content": text("42")}]}

    for bad in ("evt_000000000000", evs[0]["id"]):
        err = api.err("POST", f"/sessions/{sid}/events", 404, "not_found_error", json=result(bad))
        assert err["details"]["error_code"] == "custom_tool_use_not_found", err
    api.send(sid, *result(use["id"])["events"])
    err = api.err("POST", f"/sessions/{sid}/events", 409, json=result(use["id"]))
    assert err["details"]["error_code"] == "custom_tool_use_already_answered", err
    evs = api.wait_idle(sid, count=2)
    assert types(evs).count("user.custom_tool_result") == 1
    assert "agent.tool_result" not in types(evs)
    assert idle_reasons(evs)[-1] == {"type": "end_turn"}
    api.err("POST", f"/sessions/{sid}/events", 409, json=result(use["id"]))


# ==== the stream ===============================================================================

def test_stream_pings_never_replays_and_ends_on_delete(dialect):
    api = dialect(PINCER_SSE_HEARTBEAT_MS="100")
    key = unique_key("sse")
    sid = api.session(api.agent(key=key))["id"]
    api.mock.script(key, [{"text": "history"}, {"text": "live"}])
    api.message(sid, "before the stream")
    history = api.wait_idle(sid)
    history_ids = {e["id"] for e in history}

    with stream(api, sid) as c:
        ping = c.next_frame(timeout=5)
        assert ping.event == "ping" and ping.json == {"type": "ping"}, ping
        pings = c.frames_until(lambda f: f.event == "ping", timeout=5)
        assert len(pings) == 1, f"history replayed: {pings}"

        echo = api.message(sid, "while streaming")
        frames = frames_until_idle(c)
        for f in frames:
            assert f.event == f.json["type"], f
            assert f.json["id"] not in history_ids, f"replayed {f}"
            parse_time(f.json["processed_at"])
        assert [f.event for f in frames] == ["user.message", "session.status_running", "agent.message",
                                             "session.status_idle"]
        assert frames[0].json == echo
        assert frames[2].json["content"] == text("live")
        listed = api.events(sid)
        assert [f.json for f in frames] == listed[len(history):]

        assert api.ok("DELETE", f"/sessions/{sid}") == {"id": sid, "type": "session_deleted"}
        rest = [f for f in c.read_to_end(timeout=5) if f.event != "ping"]
        assert [f.event for f in rest] == ["session.deleted"], rest
        assert rest[0].json["type"] == "session.deleted"
        assert c.ended


def test_event_deltas_stream_the_text_of_the_agent_message_to_come(api):
    key = unique_key("deltas")
    sid = api.session(api.agent(key=key))["id"]
    api.mock.script(key, [{"text": "streamed in small pieces", "chunk_size": 4}])
    with stream(api, sid, "?event_deltas[]=agent.message") as c:
        api.message(sid, "go")
        frames = frames_until_idle(c)
    names = [f.event for f in frames]
    message = next(f.json for f in frames if f.event == "agent.message")
    starts = [f.json for f in frames if f.event == "event_start"]
    deltas = [f.json for f in frames if f.event == "event_delta"]
    assert starts == [{"type": "event_start", "event": {"type": "agent.message", "id": message["id"]}}], starts
    assert len(deltas) > 1, names
    assert all(d["event_id"] == message["id"] and d["delta"]["type"] == "content_delta" for d in deltas), deltas
    assert "".join(d["delta"]["content"]["text"] for d in deltas) == "streamed in small pieces"
    # event_start, then every delta, then the event itself; none of them is listed.
    assert names.index("event_start") < names.index("event_delta") < names.index("agent.message"), names
    assert max(i for i, n in enumerate(names) if n == "event_delta") < names.index("agent.message"), names
    assert message["id"] in {e["id"] for e in api.events(sid)}
    assert not {"event_start", "event_delta"} & set(types(api.events(sid)))


def test_stream_parameters_and_auth(api):
    sid = api.session(api.agent())["id"]
    for q in ("?event_deltas[]=bogus", "?event_deltas[]=agent.message&event_deltas[]=agent.tool_use"):
        r = api.request("GET", f"/sessions/{sid}/events/stream{q}", stream=True)
        err = check_envelope(r, 400, "invalid_request_error")
        assert "event_deltas" in err["message"]
    with stream(api, sid, "?event_deltas[]=agent.message&event_deltas[]=agent.thinking&beta=true"):
        pass
    r = api.request("GET", f"/sessions/{sid}/events/stream", headers={"x-api-key": "nope"}, stream=True)
    check_envelope(r, 401, "authentication_error")


# ==== durability ===============================================================================

def test_a_turn_parked_on_a_custom_tool_survives_kill9(api):
    sid, key, evs = parked_session(api, [
        {"tool_calls": [{"name": "lookup", "arguments": {"q": "durable"}, "id": "toolu_d1"}]},
        {"text": "finished after the restart"},
    ], tools=[custom("lookup")])
    use = next(e for e in evs if e["type"] == "agent.custom_tool_use")

    crash_restart(api.server)
    got = api.get(f"/sessions/{sid}")
    assert got["status"] == "idle", got
    after = api.events(sid)
    assert after == evs, "the log changed across the restart"
    assert idle_reasons(after)[-1] == {"type": "requires_action", "event_ids": [use["id"]]}
    assert [s["id"] for s in api.get("/sessions", params={"statuses[]": "idle"})["data"]] == [sid]

    api.send(sid, {"type": "user.custom_tool_result", "custom_tool_use_id": use["id"],
                   "content": text("result after restart")})
    evs = api.wait_idle(sid, count=2)
    assert idle_reasons(evs)[-1] == {"type": "end_turn"}
    assert evs[-2]["content"] == text("finished after the restart")
    bodies = api.llm_bodies(key)
    assert len(bodies) == 2
    assert "result after restart" in json.dumps(bodies[1]["messages"])
    assert api.get(f"/sessions/{sid}")["status"] == "idle"
