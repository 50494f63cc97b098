"""Agent permission policies (seed contract §2.8, §5.6; issue 5), over raw HTTP and SSE:

- `deny`: the listed tools never run; the model gets an error result naming the policy, and the
  other tools run;
- `always_ask` (every tool, or only the listed ones): the turn persists an
  `agent.tool_confirmation_request` and parks until `user.tool_confirmation` answers it
  (allow / deny with a message); unknown ids are 404, second answers 409, answers after a cancel
  409; a pending request survives SIGTERM and kill -9 and is re-sent to SSE clients; with
  PINCER_APPROVAL_TIMEOUT_MS it is denied on expiry.

Tools are the test tools (test_echo, test_fail) and the real sandboxed `bash`.
"""

from __future__ import annotations

import pytest

from conftest import (AgentSession, SseClient, assert_dense, crash_restart, metric_value, poll)


def policy_session(server, mock, policy: dict, steps: list[dict], **agent_body) -> AgentSession:
    return AgentSession.create(server, mock, steps=steps, permissionPolicy=policy, **agent_body)


def confirm(s: AgentSession, approval_id: str, result: str, **extra):
    body = {"type": "user.tool_confirmation", "toolUseId": approval_id, "result": result, **extra}
    return s.server.post(s.path + "/events", json=body)


def of_type(events: list[dict], type_: str) -> list[dict]:
    return [e for e in events if e["type"] == type_]


def wait_for_request(s: AgentSession, n: int = 1) -> list[dict]:
    """Waits until the log holds `n` confirmation requests; returns them."""
    def check():
        found = of_type(s.events(), "agent.tool_confirmation_request")
        return found if len(found) >= n else None
    return poll(check, timeout=10, message=f"{n} agent.tool_confirmation_request event(s)")


def tool_results(s: AgentSession) -> dict[str, dict]:
    return {e["tool_call_id"]: e for e in of_type(s.events(), "agent.tool_result")}


def tool_messages(request_body: dict) -> dict[str, str]:
    """tool_call_id → content of the tool messages in an OpenAI request the mock received."""
    return {m["tool_call_id"]: m["content"] for m in request_body["messages"] if m["role"] == "tool"}


def is_idle_event(f) -> bool:
    return f.event == "session.status_idle" and f.id is not None


ASK_ECHO = [
    {"tool_calls": [{"name": "test_echo", "arguments": {"text": "the tool ran"}, "id": "call_echo"}]},
    {"text": "all done"},
]


# ---- deny -------------------------------------------------------------------------------------

def test_deny_refuses_the_listed_tool_and_runs_the_others(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "deny", "tools": ["bash"]}, [
        {"tool_calls": [
            {"name": "bash", "arguments": {"command": "echo should-never-run"}, "id": "call_bash"},
            {"name": "test_echo", "arguments": {"text": "echo ran"}, "id": "call_echo"},
        ]},
        {"text": "understood"},
    ])
    done = s.run("try both tools")
    assert done["output"] == "understood"
    results = tool_results(s)
    denied = results["call_bash"]
    assert denied["is_error"] is True and denied["tool_name"] == "bash"
    assert "denied" in denied["content"] and "policy" in denied["content"], denied
    assert "should-never-run" not in denied["content"]
    assert results["call_echo"]["is_error"] is False
    assert results["call_echo"]["content"] == "echo ran"
    uses = {e["tool_call_id"]: e for e in of_type(s.events(), "agent.tool_use")}
    assert uses["call_bash"]["evaluated_permission"] == "deny"
    assert uses["call_echo"]["evaluated_permission"] == "allow"
    # The model was told, in the tool result, that the policy refused the call.
    seen = tool_messages(s.llm_requests()[1])
    assert seen["call_bash"] == denied["content"]
    assert seen["call_echo"] == "echo ran"
    # bash never ran: no sandbox was ever started for the session, and no approval was asked.
    assert done["container_id"] is None, done
    assert not of_type(s.events(), "agent.tool_confirmation_request")
    samples = server.metrics()
    assert metric_value(samples, "tool_calls_total", tool="bash", outcome="denied") == 1
    assert metric_value(samples, "tool_calls_total", tool="bash", outcome="ok") is None


def test_deny_leaves_real_sandbox_tools_that_are_not_listed(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "deny", "tools": ["test_echo"]}, [
        {"tool_calls": [
            {"name": "test_echo", "arguments": {"text": "nope"}, "id": "call_echo"},
            {"name": "bash", "arguments": {"command": "echo bash-ran-$((6*7))"}, "id": "call_bash"},
        ]},
        {"text": "ok"},
    ])
    s.run("go", timeout=30)
    results = tool_results(s)
    assert results["call_echo"]["is_error"] is True and "policy" in results["call_echo"]["content"]
    assert results["call_bash"]["is_error"] is False, results["call_bash"]
    assert "bash-ran-42" in results["call_bash"]["content"]


# ---- always_ask -------------------------------------------------------------------------------

def test_always_ask_then_allow_over_sse(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    with s.stream() as c:
        assert c.next_frame(5).event == "session.status_idle"
        s.send("please echo")
        frames = c.frames_until(lambda f: f.event == "agent.tool_confirmation_request", timeout=10)
        req = frames[-1]
        data = req.json
        assert req.id is not None and req.names == ["event", "data", "id"], req.fields
        assert data["type"] == "agent.tool_confirmation_request"
        assert data["session_id"] == s.id
        assert data["approval_id"] and data["event_id"] == data["approval_id"], data
        assert data["tool_name"] == "test_echo"
        assert data["tool_call_id"] == "call_echo"
        assert data["tool_arguments"] == {"text": "the tool ran"}
        assert "test_echo" in data["content"]
        # The tool call is logged first; the tool has not run and the turn is parked.
        use = next(f for f in frames if f.event == "agent.tool_use")
        assert use.json["tool_call_id"] == "call_echo"
        assert use.json["evaluated_permission"] == "ask"
        assert not [f for f in frames if f.event == "agent.tool_result"]
        assert s.get()["status"] == "running"
        assert len(s.llm_requests()) == 1

        r = confirm(s, data["approval_id"], "allow")
        assert r.status_code == 200, r.text
        assert r.json() == {"session_id": s.id, "confirmed": True}
        rest = c.frames_until(is_idle_event, timeout=10)
    types = [f.event for f in rest if f.id is not None]
    assert types[:2] == ["user.tool_confirmation", "agent.tool_result"], types
    answer = rest[[f.event for f in rest].index("user.tool_confirmation")].json
    assert answer["approval_id"] == data["approval_id"] and answer["result"] == "allow", answer
    result = next(f.json for f in rest if f.event == "agent.tool_result")
    assert result["is_error"] is False and result["content"] == "the tool ran"
    assert next(f.json for f in rest if f.event == "agent.message")["content"] == "all done"
    assert tool_messages(s.llm_requests()[1]) == {"call_echo": "the tool ran"}
    assert_dense(s.events())


@pytest.mark.parametrize("message", ["not on my watch", None])
def test_ask_then_deny_tells_the_model(llm_server, mock_llm, message):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    extra = {"denyMessage": message} if message is not None else {}
    r = confirm(s, req["approval_id"], "deny", **extra)
    assert r.status_code == 200 and r.json() == {"session_id": s.id, "confirmed": True}, r.text
    done = s.wait()
    assert done["status"] == "idle" and done["output"] == "all done", done
    expected = "denied by the user" + (f": {message}" if message else "")
    result = tool_results(s)["call_echo"]
    assert result["is_error"] is True and result["content"] == expected, result
    assert "the tool ran" not in str(s.events()[-3:])
    assert tool_messages(s.llm_requests()[1]) == {"call_echo": expected}
    answer = of_type(s.events(), "user.tool_confirmation")
    assert len(answer) == 1 and answer[0]["result"] == "deny"


def test_always_ask_with_a_tools_list_asks_only_for_those(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask", "tools": ["bash"]}, [
        {"tool_calls": [
            {"name": "test_echo", "arguments": {"text": "free to run"}, "id": "call_echo"},
            {"name": "bash", "arguments": {"command": "echo asked-first"}, "id": "call_bash"},
        ]},
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "still free"}, "id": "call_echo2"}]},
        {"text": "finished"},
    ])
    s.send("go")
    req = wait_for_request(s)[0]
    assert req["tool_name"] == "bash" and req["tool_call_id"] == "call_bash"
    assert req["tool_arguments"] == {"command": "echo asked-first"}
    # The unlisted tool ran without asking, before the request.
    results = tool_results(s)
    assert results["call_echo"]["content"] == "free to run" and "call_bash" not in results
    assert confirm(s, req["approval_id"], "allow").status_code == 200
    done = s.wait(timeout=30)
    assert done["status"] == "idle" and done["output"] == "finished", done
    results = tool_results(s)
    assert results["call_bash"]["is_error"] is False and "asked-first" in results["call_bash"]["content"]
    assert results["call_echo2"]["content"] == "still free"
    assert len(of_type(s.events(), "agent.tool_confirmation_request")) == 1


def test_each_call_of_a_step_asks_separately(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, [
        {"tool_calls": [
            {"name": "test_echo", "arguments": {"text": "one"}, "id": "call_1"},
            {"name": "test_echo", "arguments": {"text": "two"}, "id": "call_2"},
        ]},
        {"text": "both answered"},
    ])
    s.send("two calls")
    first = wait_for_request(s, 1)[0]
    assert first["tool_call_id"] == "call_1"
    assert confirm(s, first["approval_id"], "deny", denyMessage="not this one").status_code == 200
    second = wait_for_request(s, 2)[1]
    assert second["tool_call_id"] == "call_2" and second["approval_id"] != first["approval_id"]
    assert confirm(s, second["approval_id"], "allow").status_code == 200
    assert s.wait()["output"] == "both answered"
    assert tool_messages(s.llm_requests()[1]) == {"call_1": "denied by the user: not this one",
                                                  "call_2": "two"}


# ---- answer errors ----------------------------------------------------------------------------

def test_unknown_approval_id_is_404(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    r = confirm(s, "apv_doesnotexist", "allow")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "approval_not_found", r.text
    # The id of an event that is not a confirmation request is not an approval either.
    user_msg = of_type(s.events(), "user.message")[0]
    r = confirm(s, user_msg["event_id"], "allow")
    assert r.status_code == 404 and r.json()["error"] == "approval_not_found", r.text
    # An approval of another session is unknown here.
    other = policy_session(server, mock_llm, {"type": "always_ask"}, [])
    r = confirm(other, req["approval_id"], "allow")
    assert r.status_code == 404 and r.json()["error"] == "approval_not_found", r.text
    r = server.post("/v1/sessions/ses_doesnotexist/events",
                    json={"type": "user.tool_confirmation", "toolUseId": req["approval_id"],
                          "result": "allow"})
    assert r.status_code == 404 and r.json()["error"] == "session_not_found", r.text
    # None of that answered the real request.
    assert s.get()["status"] == "running"
    assert not of_type(s.events(), "user.tool_confirmation")
    assert confirm(s, req["approval_id"], "allow").status_code == 200
    assert s.wait()["output"] == "all done"


@pytest.mark.parametrize("body, field", [
    ({"toolUseId": "apv_x"}, "result"),
    ({"toolUseId": "apv_x", "result": "maybe"}, "result"),
    ({"result": "allow"}, "toolUseId"),
    ({"toolUseId": "", "result": "allow"}, "toolUseId"),
])
def test_malformed_confirmation_is_400(llm_server, mock_llm, body, field):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, [])
    r = server.post(s.path + "/events", json={"type": "user.tool_confirmation", **body})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert field in r.text


def test_answer_addressed_by_the_tool_use_event_id(llm_server, mock_llm):
    """toolUseId may also name the agent.tool_use event that asked (the Anthropic dialect's
    addressing); an agent.tool_use that did not ask is refused."""
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask", "tools": ["test_fail"]}, [
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "free"}, "id": "call_free"},
                        {"name": "test_fail", "arguments": {"message": "boom"}, "id": "call_ask"}]},
        {"text": "done"},
    ])
    s.send("go")
    req = wait_for_request(s)[0]
    uses = {e["tool_call_id"]: e for e in of_type(s.events(), "agent.tool_use")}
    assert req["tool_use_event_id"] == uses["call_ask"]["event_id"]
    r = confirm(s, uses["call_free"]["event_id"], "allow")
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "tool_use_not_awaiting_confirmation", r.text
    r = confirm(s, uses["call_ask"]["event_id"], "deny", denyMessage="by use id")
    assert r.status_code == 200 and r.json() == {"session_id": s.id, "confirmed": True}, r.text
    assert s.wait()["output"] == "done"
    answer = of_type(s.events(), "user.tool_confirmation")
    assert len(answer) == 1 and answer[0]["approval_id"] == req["approval_id"], answer
    assert tool_results(s)["call_ask"]["content"] == "denied by the user: by use id"
    # The same request cannot be answered again under its other name.
    r = confirm(s, req["approval_id"], "allow")
    assert r.status_code == 409 and r.json()["error"] == "approval_already_answered", r.text


def test_second_answer_is_409(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    assert confirm(s, req["approval_id"], "allow").status_code == 200
    for result in ("allow", "deny"):
        r = confirm(s, req["approval_id"], result)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "approval_already_answered", r.text
    assert s.wait()["output"] == "all done"
    # Still 409 once the turn is over, and only the first answer is in the log.
    r = confirm(s, req["approval_id"], "deny")
    assert r.status_code == 409 and r.json()["error"] == "approval_already_answered", r.text
    answers = of_type(s.events(), "user.tool_confirmation")
    assert [a["result"] for a in answers] == ["allow"]
    assert tool_results(s)["call_echo"]["content"] == "the tool ran"


def test_cancel_while_waiting_then_answer_is_409(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    r = server.post(s.path + "/cancel")
    assert r.status_code == 200, r.text
    assert r.json() == {"session_id": s.id, "session_status": "idle", "cancelled": True}
    assert s.get()["status"] == "idle"
    last = s.events()[-1]
    assert last["type"] == "session.status_idle" and last["stop_reason"] == "cancelled", last
    r = confirm(s, req["approval_id"], "allow")
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "session_not_running", r.text
    # The tool never ran and nothing was written after the cancel.
    assert s.events()[-1] == last
    assert "call_echo" not in tool_results(s)
    # The next turn works: the cut call is closed off so the provider accepts the history.
    mock_llm.clear_script(s.key)
    done = s.run("start over", steps=[{"text": "fresh"}])
    assert done["output"] == "fresh"
    assert len(s.llm_requests()) == 2
    assert not of_type(s.events(), "agent.tool_result")


def test_answer_for_a_cancelled_turn_is_refused_while_a_new_turn_runs(llm_server, mock_llm):
    """The request belongs to a turn that was cancelled; a later turn is running. Answering the
    old request must not be accepted (nothing waits for it any more)."""
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    old = wait_for_request(s)[0]
    assert server.post(s.path + "/cancel").status_code == 200
    mock_llm.clear_script(s.key)
    s.script([{"hang": True}])
    s.send("a new turn")
    s.wait(("running",))
    poll(lambda: len(s.llm_requests()) == 2, message="the new turn's provider call")
    r = confirm(s, old["approval_id"], "allow")
    try:
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "session_not_running", r.text
        assert not of_type(s.events(), "user.tool_confirmation")
    finally:
        server.post(s.path + "/cancel")


# ---- durability -------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_pending_approval_survives_a_restart(llm_server, mock_llm, how):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    before = s.events()
    if how == "sigterm":
        server.restart()
    else:
        crash_restart(server)
    # Still pending after the restart: the turn is in flight and the request unanswered.
    assert s.get()["status"] == "running"
    assert s.events()[:len(before)] == before
    assert not of_type(s.events(), "user.tool_confirmation")
    assert not of_type(s.events(), "agent.tool_result")
    # A client that reconnects gets the request in the catch-up.
    with s.stream() as c:
        assert c.next_frame(5).event == "session.status_running"
        caught = c.frames_until(lambda f: f.event == "agent.tool_confirmation_request", timeout=10)
        again = caught[-1].json
        assert again == req, (again, req)
        # Answering it completes the turn, seen live on the same stream.
        r = confirm(s, req["approval_id"], "allow")
        assert r.status_code == 200 and r.json()["confirmed"] is True, r.text
        rest = c.frames_until(is_idle_event, timeout=10)
    result = next(f.json for f in rest if f.event == "agent.tool_result")
    assert result["tool_call_id"] == "call_echo" and result["content"] == "the tool ran"
    assert next(f.json for f in rest if f.event == "agent.message")["content"] == "all done"
    assert s.get()["output"] == "all done"
    # The provider was not asked again for the step that was already answered.
    assert len(s.llm_requests()) == 2
    assert len(of_type(s.events(), "agent.tool_confirmation_request")) == 1
    assert_dense(s.events())


def test_resume_from_a_later_event_still_sees_the_pending_request(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    # A client that resumes from the very event, or from before it, gets it; one that resumes
    # after it saw it already.
    with SseClient(server, s.path + f"/events?stream=true&after={req['seq'] - 1}") as c:
        c.next_frame(5)
        first = c.frames_until(lambda f: f.id is not None, timeout=5)[-1]
        assert first.event == "agent.tool_confirmation_request"
        assert first.json["approval_id"] == req["approval_id"]
    assert confirm(s, req["approval_id"], "allow").status_code == 200
    assert s.wait()["output"] == "all done"


def test_reconnect_after_the_request_still_re_sends_it(llm_server, mock_llm):
    """A client that saw the request and reconnects with Last-Event-ID at (or after) it is
    re-sent the pending request, as the seed re-emits pending approvals on every connect
    (§3.3), so a reloaded UI learns that the turn waits for it."""
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    assert s.events()[-1]["event_id"] == req["event_id"]
    with s.stream(headers={"Last-Event-ID": str(req["seq"])}) as c:
        assert c.next_frame(5).event == "session.status_running"
        f = c.frames_until(lambda f: f.event == "agent.tool_confirmation_request", timeout=3)[-1]
        assert f.json["approval_id"] == req["approval_id"]
    assert confirm(s, req["approval_id"], "allow").status_code == 200
    assert s.wait()["output"] == "all done"


def test_approval_timeout_denies(llm_server, mock_llm):
    server = llm_server(PINCER_APPROVAL_TIMEOUT_MS="300")
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_ECHO)
    s.send("please echo")
    req = wait_for_request(s)[0]
    done = s.wait(timeout=10)
    assert done["status"] == "idle" and done["output"] == "all done", done
    result = tool_results(s)["call_echo"]
    assert result["is_error"] is True, result
    assert "300 ms" in result["content"] and "PINCER_APPROVAL_TIMEOUT_MS" in result["content"], result
    answers = of_type(s.events(), "user.tool_confirmation")
    assert len(answers) == 1 and answers[0]["result"] == "deny", answers
    assert answers[0]["approval_id"] == req["approval_id"]
    assert tool_messages(s.llm_requests()[1])["call_echo"] == result["content"]
    # Too late to answer now.
    r = confirm(s, req["approval_id"], "allow")
    assert r.status_code == 409 and r.json()["error"] == "approval_already_answered", r.text


ASK_TWO = [
    {"tool_calls": [{"name": "test_echo", "arguments": {"text": "first ran"}, "id": "call_one"},
                    {"name": "test_echo", "arguments": {"text": "second ran"}, "id": "call_two"}]},
    {"text": "both handled"},
]


def test_a_later_call_of_the_step_can_be_answered_before_it_is_asked(llm_server, mock_llm):
    """Two calls the policy asks about in one step: the turn asks one at a time, but a client
    that answers every `ask` tool use it sees (by tool use event id, as the Anthropic dialect
    does) must not be refused for the second; the turn takes that answer instead of asking."""
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_TWO)
    s.send("run both")
    (first,) = wait_for_request(s)
    uses = {e["tool_call_id"]: e for e in of_type(s.events(), "agent.tool_use")}
    assert {u["evaluated_permission"] for u in uses.values()} == {"ask"}
    early = confirm(s, uses["call_two"]["event_id"], "deny", denyMessage="not the second one")
    assert early.status_code == 200, early.text
    again = confirm(s, uses["call_two"]["event_id"], "allow")
    assert again.status_code == 409 and again.json()["error"] == "approval_already_answered", again.text
    assert confirm(s, first["approval_id"], "allow").status_code == 200
    done = s.wait()
    assert done["output"] == "both handled", done
    results = tool_results(s)
    assert results["call_one"]["is_error"] is False and results["call_one"]["content"] == "first ran"
    assert results["call_two"]["is_error"] is True, results["call_two"]
    assert "not the second one" in results["call_two"]["content"], results["call_two"]
    # Only the first call was asked; the second was answered before its turn came.
    assert len(of_type(s.events(), "agent.tool_confirmation_request")) == 1
    assert_dense(s.events())


def test_a_call_not_yet_asked_when_the_server_died_is_asked_after_the_restart(llm_server, mock_llm):
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_TWO)
    s.send("run both")
    (first,) = wait_for_request(s)
    assert confirm(s, first["approval_id"], "allow").status_code == 200
    second = wait_for_request(s, 2)[1]
    assert second["tool_call_id"] == "call_two"
    crash_restart(server)
    # The second request still waits after the restart; answering it completes the turn.
    assert s.get()["status"] == "running"
    assert confirm(s, second["approval_id"], "allow").status_code == 200
    assert s.wait()["output"] == "both handled"
    results = tool_results(s)
    assert results["call_two"]["is_error"] is False and results["call_two"]["content"] == "second ran"


def test_a_later_call_that_never_started_runs_after_a_restart(llm_server, mock_llm):
    """The server dies while the first of two calls waits: the second never started, so after
    the restart it is asked (not failed as 'may have run')."""
    server = llm_server()
    s = policy_session(server, mock_llm, {"type": "always_ask"}, ASK_TWO)
    s.send("run both")
    (first,) = wait_for_request(s)
    crash_restart(server)
    assert confirm(s, first["approval_id"], "allow").status_code == 200
    second = wait_for_request(s, 2)[1]
    assert second["tool_call_id"] == "call_two"
    assert confirm(s, second["approval_id"], "allow").status_code == 200
    assert s.wait()["output"] == "both handled"
    results = tool_results(s)
    assert [results[c]["content"] for c in ("call_one", "call_two")] == ["first ran", "second ran"], results
