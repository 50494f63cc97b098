"""Crash safety: kill -9 the server mid-turn and restart it on the same data dir. The turn
resumes from the event log, an interrupted tool gets an error result (never a second run),
queued messages drain in order, no event is lost or duplicated, and SSE resumes exactly."""

from __future__ import annotations

import signal

import pytest

from conftest import AgentSession, assert_dense, crash_restart, poll

FORMATS = {"openai": "openai/mock-model", "anthropic": "anthropic/claude-mock"}


def tool_results(body: dict) -> list[tuple[str, str]]:
    """(tool call id, content) of every tool result in an OpenAI or Anthropic request."""
    out = []
    for m in body["messages"]:
        if m["role"] == "tool":
            out.append((m["tool_call_id"], m["content"]))
        elif isinstance(m.get("content"), list):
            for b in m["content"]:
                if b.get("type") == "tool_result":
                    c = b["content"]
                    out.append((b["tool_use_id"], c if isinstance(c, str) else str(c)))
    return out


def last_user_text(body: dict) -> str:
    for m in reversed(body["messages"]):
        if m["role"] != "user":
            continue
        if isinstance(m["content"], str):
            return m["content"]
        texts = [b["text"] for b in m["content"] if b.get("type") == "text"]
        if texts:
            return texts[-1]
    raise AssertionError(body)


def sleeping_session(server, mock_llm, model="openai/mock-model", extra_steps=()):
    # With thinking, so an Anthropic resume must send the signed thinking block back intact
    # (the mock rejects a missing or altered signature).
    s = AgentSession.create(server, mock_llm, model=model, thinkingLevel="low", steps=[
        {"thinking": "I will sleep first",
         "tool_calls": [{"name": "test_sleep", "arguments": {"ms": 60000}, "id": "call_sleep"}]},
        {"text": "resumed after the restart"},
        *extra_steps,
    ])
    return s


@pytest.mark.parametrize("fmt", FORMATS)
def test_kill9_during_a_tool_resumes_with_an_error_result(llm_server, mock_llm, fmt):
    server = llm_server()
    s = sleeping_session(server, mock_llm, model=FORMATS[fmt])
    s.send("sleep then answer")
    s.wait_event(lambda e: e["type"] == "agent.tool_use", message="the test_sleep call")
    before = s.events()

    crash_restart(server)
    done = s.wait(timeout=10)  # a re-run of the 60 s tool would blow this deadline
    assert done["status"] == "idle", done
    assert done["output"] == "resumed after the restart"
    assert done["error"] is None

    events = s.events()
    assert_dense(events)
    assert events[:len(before)] == before, "events written before the crash changed"
    results = [e for e in events if e["type"] == "agent.tool_result"]
    assert len(results) == 1, results
    assert results[0]["tool_call_id"] == "call_sleep"
    assert results[0]["is_error"] is True
    assert "restart" in results[0]["content"], results[0]
    assert [e["type"] for e in events].count("user.message") == 1
    assert [e["type"] for e in events].count("agent.message") == 1

    reqs = s.llm_requests()
    assert len(reqs) == 2
    (result,) = tool_results(reqs[1])
    assert result[0] == "call_sleep" and "restart" in result[1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_kill9_during_the_provider_call_resumes(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"hang": True},
        {"text": "answered after the restart"},
    ])
    s.send("question")
    poll(lambda: len(s.llm_requests()) == 1, message="the provider call")
    before = s.events()

    crash_restart(server)
    done = s.wait(timeout=10)
    assert done["status"] == "idle", done
    assert done["output"] == "answered after the restart"

    events = s.events()
    assert_dense(events)
    assert events[:len(before)] == before
    types = [e["type"] for e in events]
    assert types.count("user.message") == 1
    assert types.count("agent.message") == 1
    reqs = s.llm_requests()
    assert len(reqs) == 2
    assert reqs[1]["messages"] == reqs[0]["messages"], "the retried call differs"


def test_kill9_with_queued_messages_drains_them_in_order(llm_server, mock_llm):
    server = llm_server()
    s = sleeping_session(server, mock_llm, extra_steps=[{"text": "B done"}, {"text": "C done"}])
    s.send("A")
    s.wait_event(lambda e: e["type"] == "agent.tool_use", message="the test_sleep call")
    assert s.send("B")["queued"] is True
    assert s.send("C")["queued"] is True

    crash_restart(server)
    poll(lambda: len(s.llm_requests()) == 4 and s.get()["status"] == "idle", timeout=10,
         message="the resumed turn and both queued turns")
    done = s.get()
    assert done["output"] == "C done"
    assert done["turns"] == 3
    assert [last_user_text(b) for b in s.llm_requests()] == ["A", "A", "B", "C"]
    events = s.events()
    assert_dense(events)
    convo = [(e["type"], e["content"]) for e in events
             if e["type"] in ("user.message", "agent.message")]
    assert convo == [("user.message", "A"), ("agent.message", "resumed after the restart"),
                     ("user.message", "B"), ("agent.message", "B done"),
                     ("user.message", "C"), ("agent.message", "C done")]


def test_sse_resume_after_a_crash_continues_exactly(llm_server, mock_llm):
    server = llm_server()
    s = sleeping_session(server, mock_llm)
    with s.stream() as c:
        c.next_frame(5)
        s.send("sleep")
        seen = c.frames_until(lambda f: f.event == "agent.tool_use", timeout=10)
        server.kill()
        seen += c.read_to_end(timeout=5)  # the connection dies with the process
    seen = [f for f in seen if f.id is not None]
    last = seen[-1].id

    crash_restart(server)
    with s.stream(headers={"Last-Event-ID": last}) as c:
        first = c.next_frame(5)
        assert first.event.startswith("session.status_")
        rest = c.frames_until(lambda f: f.event == "session.status_idle" and f.id is not None,
                              timeout=10)
    seen += [f for f in rest if f.id is not None]
    events = s.events()
    assert_dense(events)
    assert [int(f.id) for f in seen] == [e["seq"] for e in events]
    assert [f.json for f in seen] == events


def test_graceful_restart_mid_turn_also_resumes(llm_server, mock_llm):
    server = llm_server()
    s = sleeping_session(server, mock_llm)
    s.send("sleep")
    s.wait_event(lambda e: e["type"] == "agent.tool_use", message="the test_sleep call")
    code = server.stop(signal.SIGTERM)
    assert code == 0
    server.session = type(server.session)()
    server.start()
    done = s.wait(timeout=10)
    assert done["status"] == "idle" and done["output"] == "resumed after the restart"
    events = s.events()
    assert_dense(events)
    results = [e for e in events if e["type"] == "agent.tool_result"]
    assert len(results) == 1 and results[0]["is_error"] is True


def test_repeated_crashes_keep_the_log_consistent(llm_server, mock_llm):
    server = llm_server()
    steps = []
    for i in range(3):
        steps.append({"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 60000},
                                      "id": f"call_{i}"}]})
    steps.append({"text": "finally done"})
    s = AgentSession.create(server, mock_llm, steps=steps)
    s.send("go")
    for i in range(3):
        s.wait_event(lambda e, i=i: e["type"] == "agent.tool_use" and e["tool_call_id"] == f"call_{i}",
                     message=f"tool call {i}")
        crash_restart(server)
    done = s.wait(timeout=10)
    assert done["status"] == "idle" and done["output"] == "finally done"
    events = s.events()
    assert_dense(events)
    results = [(e["tool_call_id"], e["is_error"]) for e in events
               if e["type"] == "agent.tool_result"]
    assert results == [("call_0", True), ("call_1", True), ("call_2", True)]
    assert len(s.llm_requests()) == 4


def test_kill9_between_tools_of_one_step_reruns_nothing(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-mock", steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "one"}, "id": "toolu_one"},
                        {"name": "test_sleep", "arguments": {"ms": 60000}, "id": "toolu_two"},
                        {"name": "test_echo", "arguments": {"text": "three"}, "id": "toolu_three"}]},
        {"text": "all answered"},
    ])
    s.send("three tools")
    s.wait_event(lambda e: e["type"] == "agent.tool_result" and e["tool_call_id"] == "toolu_one",
                 message="the first tool's result")
    crash_restart(server)
    done = s.wait(timeout=10)
    assert done["status"] == "idle" and done["output"] == "all answered"
    events = s.events()
    assert_dense(events)
    results = [(e["tool_call_id"], e["is_error"], e["content"]) for e in events
               if e["type"] == "agent.tool_result"]
    assert [r[0] for r in results] == ["toolu_one", "toolu_two", "toolu_three"]
    assert results[0] == ("toolu_one", False, "one")
    assert results[1][1] is True and "restart" in results[1][2]
    # A call that had not started when the server died is cut as well (it is not known to
    # be safe to run), or run once: either way exactly one result.
    reqs = s.llm_requests()
    assert len(reqs) == 2
    assert [r[0] for r in tool_results(reqs[1])] == ["toolu_one", "toolu_two", "toolu_three"]


def test_kill9_right_after_the_post_is_accepted(llm_server, mock_llm):
    server = llm_server()
    # Whether or not the first provider call got out before the kill, the turn ends with
    # exactly one answer.
    s = AgentSession.create(server, mock_llm, steps=[{"text": "the answer", "delay_ms": 300},
                                                     {"text": "the answer", "delay_ms": 300}])
    reply = s.send("question")
    assert reply["queued"] is False
    crash_restart(server)
    done = s.wait(timeout=10)
    assert done["status"] == "idle" and done["output"] == "the answer", done
    assert done["turns"] == 1
    events = s.events()
    assert_dense(events)
    types = [e["type"] for e in events]
    assert types.count("user.message") == 1
    assert types.count("agent.message") == 1
    assert types[-1] == "session.status_idle"
