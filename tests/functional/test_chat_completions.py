"""POST /v1/chat/completions driven by the official `openai` npm package (seed contract §2.9,
issue 5): non-streaming and streaming replies, exact usage, sticky sessions (`user`,
x-openclaw-session-key, x-pincer-session-key), ephemeral sessions that honour the whole
`messages` array and vanish afterwards, 409 session_busy, a disconnect that cancels the run, and
errors in the OpenAI envelope.

The Node side lives in tests/functional/node/ (package.json and lockfile pin `openai`); it is
installed once per test session with `npm ci` into a temporary directory, so parallel runs and
the source tree never share a node_modules. Each script prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import npm_project, poll, unique_key

NODE_TIMEOUT_S = 60.0


# ---- the Node harness (also used by test_models.py) ------------------------------------------

@pytest.fixture(scope="session")
def node_dir() -> Path:
    return npm_project("node", min_node=20)


def run_node(node_dir: Path, script: str, base_url: str, agent_id: str | None = None,
             spec: dict | None = None, api_key: str | None = None,
             timeout: float = NODE_TIMEOUT_S) -> dict:
    """Runs `node <script> <spec-json>` against `base_url` and returns its JSON result."""
    proc = start_node(node_dir, script, base_url, agent_id, spec, api_key)
    return finish_node(proc, timeout)


def start_node(node_dir: Path, script: str, base_url: str, agent_id: str | None = None,
               spec: dict | None = None, api_key: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINCER_")}
    env["PINCER_BASE_URL"] = base_url + "/v1"
    if agent_id is not None:
        env["PINCER_AGENT_ID"] = agent_id
    if api_key is not None:
        env["PINCER_API_KEY"] = api_key
    return subprocess.Popen(["node", script, json.dumps(spec or {})], cwd=node_dir, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_node(proc: subprocess.Popen, timeout: float = NODE_TIMEOUT_S) -> dict:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"node did not finish within {timeout}s: {out}\n{err}")
    lines = [l for l in out.splitlines() if l.strip()]
    assert proc.returncode == 0 and lines, f"node failed ({proc.returncode}):\n{out}\n{err}"
    return json.loads(lines[-1])


# ---- helpers ----------------------------------------------------------------------------------

def chat_agent(server, mock, steps: list[dict] | None = None, instructions: str = "You are a test agent.",
               **agent_body) -> tuple[dict, str]:
    """A fresh agent whose model calls go to the mock under its own script key."""
    key = unique_key("cc")
    agent = server.create_agent(model="openai/mock-model", instructions=f"{instructions} [mock:{key}]",
                                **agent_body)
    if steps:
        mock.script(key, steps)
    return agent, key


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def chat(node_dir, server, agent, body: dict, headers: dict | None = None) -> dict:
    return run_node(node_dir, "chat.mjs", server.base_url, agent["agent_id"],
                    {"body": body, "headers": headers or {}})


def stream(node_dir, server, agent, body: dict, headers: dict | None = None, **spec) -> dict:
    return run_node(node_dir, "stream.mjs", server.base_url, agent["agent_id"],
                    {"body": body, "headers": headers or {}, **spec})


def ok(result: dict) -> dict:
    assert result["ok"], result
    return result


def sdk_error(result: dict) -> dict:
    assert not result["ok"], result
    err = result["error"]
    assert err.get("api_error"), err
    return err


def session_events(server, sid: str) -> list[dict]:
    r = server.get(f"/v1/sessions/{sid}/events")
    assert r.status_code == 200, r.text
    return r.json()["events"]


def assert_openai_envelope(r: requests.Response, status: int, code: str, type_: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "code"}, err
    assert isinstance(err["message"], str) and err["message"], err
    assert err["code"] == code and err["type"] == type_, err
    return err


def raw_chat(server, body: Any, headers: dict | None = None, **kw) -> requests.Response:
    if isinstance(body, (bytes, str)):
        return server.post("/v1/chat/completions", data=body,
                           headers={"content-type": "application/json", **(headers or {})}, **kw)
    return server.post("/v1/chat/completions", json=body, headers=headers or {}, **kw)


# ---- non-streaming ----------------------------------------------------------------------------

def test_non_streaming_reply_with_exact_usage_over_tool_steps(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "echoed"}}],
         "usage": {"input": 100, "output": 7, "cache_read": 20}},
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "again"}}],
         "usage": {"input": 130, "output": 5, "cache_write": 3}},
        {"text": "The final answer.", "usage": {"input": 160, "output": 11}},
    ])
    res = ok(chat(node_dir, server, agent, {"messages": [user("use the tool twice")]}))
    c = res["completion"]
    assert c["object"] == "chat.completion"
    assert c["id"].startswith("chatcmpl-")
    assert c["model"] == "openai/mock-model"
    assert isinstance(c["created"], int) and c["created"] < 10**11  # seconds, not ms
    assert c["choices"] == [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "The final answer."}}]
    # Every model call of the turn counts; prompt tokens include cache reads and writes.
    assert c["usage"] == {"prompt_tokens": 100 + 20 + 130 + 3 + 160,
                          "completion_tokens": 7 + 5 + 11,
                          "total_tokens": 100 + 20 + 130 + 3 + 160 + 7 + 5 + 11}
    assert res["headers"]["content-type"].startswith("application/json")
    sid = res["headers"]["x-pincer-session-id"]
    assert sid.startswith("ses_")
    assert len(mock_llm.requests(key)) == 3
    # The tools really ran: the second model call saw the first tool's output.
    tool_msgs = [m for m in mock_llm.requests(key)[1]["body"]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_msgs] == ["echoed"]


def test_x_pincer_agent_id_header_is_accepted(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, _ = chat_agent(server, mock_llm, steps=[{"text": "via pincer header"}])
    res = ok(run_node(node_dir, "chat.mjs", server.base_url, None,
                      {"body": {"messages": [user("hi")]},
                       "headers": {"x-pincer-agent-id": agent["agent_id"]}}))
    assert res["completion"]["choices"][0]["message"]["content"] == "via pincer header"


def test_content_parts_are_accepted_as_text(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"text": "parts ok"}])
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "part one, "},
                                                      {"type": "text", "text": "part two"}]}]}
    res = ok(chat(node_dir, server, agent, body))
    assert res["completion"]["choices"][0]["message"]["content"] == "parts ok"
    last = mock_llm.requests(key)[0]["body"]["messages"][-1]
    assert last["role"] == "user" and "part one, part two" in json.dumps(last["content"])


# ---- streaming --------------------------------------------------------------------------------

def test_streaming_deltas_concatenate_to_the_final_text(llm_server, mock_llm, node_dir):
    server = llm_server()
    text = "Streaming works, one small piece at a time."
    agent, key = chat_agent(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "x"}}],
         "usage": {"input": 40, "output": 4}},
        {"text": text, "chunk_size": 3, "usage": {"input": 50, "output": 9}},
    ])
    res = ok(stream(node_dir, server, agent, {"messages": [user("stream please")],
                                              "stream_options": {"include_usage": True}}))
    chunks = res["chunks"]
    assert res["headers"]["content-type"].startswith("text/event-stream")
    sid = res["headers"]["x-pincer-session-id"]
    assert sid.startswith("ses_")
    assert all(c["object"] == "chat.completion.chunk" for c in chunks), chunks
    assert len({c["id"] for c in chunks}) == 1, "every chunk of one completion shares its id"
    assert all(c["model"] == "openai/mock-model" for c in chunks)
    # Real streaming: the text arrives as several deltas, and they add up to the reply.
    assert res["content"] == text
    assert res["deltas"] >= len(text) // 3
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[0]["choices"][0]["delta"].get("role") == "assistant"
    last = with_choices[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and not last["delta"].get("content"), last
    assert res["finish_reasons"] == ["stop"]
    # The usage chunk comes last, with no choices, summed over both model calls.
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == res["usage"]
    assert res["usage"] == {"prompt_tokens": 90, "completion_tokens": 13, "total_tokens": 103}
    assert len(mock_llm.requests(key)) == 2
    # An ephemeral streaming session is deleted once the stream is over.
    poll(lambda: server.get(f"/v1/sessions/{sid}").status_code == 404,
         message="the ephemeral session to be deleted")


def test_streaming_without_include_usage_has_no_usage_chunk(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, _ = chat_agent(server, mock_llm, steps=[{"text": "no usage here", "chunk_size": 4}])
    res = ok(stream(node_dir, server, agent, {"messages": [user("hi")]}))
    assert res["content"] == "no usage here"
    assert res["usage"] is None
    assert all(c["choices"] for c in res["chunks"]), res["chunks"]
    assert res["chunks"][-1]["choices"][0]["finish_reason"] == "stop"


def test_streamed_text_matches_the_non_streamed_reply(llm_server, mock_llm, node_dir):
    """A tool step that also says something: the streamed deltas and the non-streamed
    `content` of the same turn must be the same text."""
    server = llm_server()
    steps = [
        {"text": "Let me look that up. ",
         "tool_calls": [{"name": "test_echo", "arguments": {"text": "x"}}]},
        {"text": "It is 42."},
    ]
    agent, key = chat_agent(server, mock_llm, steps=steps)
    plain = ok(chat(node_dir, server, agent, {"messages": [user("question")]}))
    mock_llm.script(key, steps)
    streamed = ok(stream(node_dir, server, agent, {"messages": [user("question")]}))
    assert streamed["content"] == plain["completion"]["choices"][0]["message"]["content"], \
        (streamed["content"], plain["completion"]["choices"][0]["message"])


def test_streamed_deltas_survive_a_retried_provider_stream(llm_server, mock_llm, node_dir):
    """The provider stream breaks after a few chunks and the call is retried: what the client
    receives must still add up to the final text (no repeated prefix)."""
    server = llm_server()
    text = "hello world, said twice?"
    agent, key = chat_agent(server, mock_llm, steps=[
        {"text": text, "chunk_size": 2, "fail_after_chunks": 4},
        {"text": text, "chunk_size": 2},
    ])
    who = unique_key("retry-")
    res = ok(stream(node_dir, server, agent, {"messages": [user("hi")], "user": who}))
    assert len(mock_llm.requests(key)) == 2, "the broken stream was not retried"
    final = [e for e in session_events(server, who) if e["type"] == "agent.message"]
    assert [e["content"] for e in final] == [text]
    assert res["content"] == text, res["content"]


def test_failed_turn_mid_stream_is_an_sdk_error_in_the_envelope(llm_server, mock_llm, node_dir):
    server = llm_server(PINCER_LLM_MAX_RETRIES="0")
    agent, key = chat_agent(server, mock_llm, steps=[
        {"status": 400, "error": {"message": "the provider refused"}}])
    res = stream(node_dir, server, agent, {"messages": [user("hi")]})
    err = sdk_error(res)
    # The stream had started (200, SSE) so the failure arrives as an error event.
    assert res["headers"]["content-type"].startswith("text/event-stream")
    assert "the provider refused" in err["error"]["message"], err
    assert err["error"]["type"] == "run_failed", err
    assert set(err["error"]) == {"message", "type", "code"}, err["error"]
    assert err["error"]["code"] == "provider_bad_request", err["error"]
    # The ephemeral session is removed on the error path too.
    sid = res["headers"]["x-pincer-session-id"]
    poll(lambda: server.get(f"/v1/sessions/{sid}").status_code == 404,
         message="the ephemeral session to be deleted")


def test_failed_turn_non_streaming_is_500_run_failed(llm_server, mock_llm, node_dir):
    server = llm_server(PINCER_LLM_MAX_RETRIES="0")
    agent, key = chat_agent(server, mock_llm, steps=[
        {"status": 400, "error": {"message": "the provider refused"}}])
    err = sdk_error(chat(node_dir, server, agent, {"messages": [user("hi")]}))
    assert err["status"] == 500 and err["type"] == "run_failed", err
    assert "the provider refused" in err["error"]["message"]
    # `code` is what stopped the turn, as in the stream's error frame.
    assert err["code"] == "provider_bad_request", err
    assert server.get("/v1/sessions").json()["count"] == 0


# ---- sticky sessions --------------------------------------------------------------------------

def test_multi_turn_memory_via_user(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[
        {"text": "Nice to meet you, Ada.", "usage": {"input": 10, "output": 2}},
        {"text": "Your name is Ada.", "usage": {"input": 30, "output": 4}}])
    who = unique_key("user-")
    first = ok(chat(node_dir, server, agent, {"messages": [user("My name is Ada.")], "user": who}))
    assert first["headers"]["x-pincer-session-id"] == who
    # The session was created with exactly that id and survives the request.
    s = server.get(f"/v1/sessions/{who}")
    assert s.status_code == 200 and s.json()["agent_id"] == agent["agent_id"], s.text
    second = ok(chat(node_dir, server, agent, {"messages": [user("What is my name?")], "user": who}))
    assert second["completion"]["choices"][0]["message"]["content"] == "Your name is Ada."
    assert second["headers"]["x-pincer-session-id"] == who
    reqs = mock_llm.requests(key)
    assert len(reqs) == 2
    history = [(m["role"], m.get("content")) for m in reqs[1]["body"]["messages"] if m["role"] != "system"]
    assert history == [("user", "My name is Ada."), ("assistant", "Nice to meet you, Ada."),
                       ("user", "What is my name?")]
    # Usage is per request, not the session's running total.
    assert second["completion"]["usage"] == {"prompt_tokens": 30, "completion_tokens": 4,
                                             "total_tokens": 34}
    assert server.get(f"/v1/sessions/{who}").json()["turns"] == 2


@pytest.mark.parametrize("header", ["x-openclaw-session-key", "x-pincer-session-key"])
def test_session_key_headers_make_a_sticky_session(llm_server, mock_llm, node_dir, header):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"text": "one"}, {"text": "two"}])
    sk = unique_key("key_")
    first = ok(chat(node_dir, server, agent, {"messages": [user("first")]}, headers={header: sk}))
    assert first["headers"]["x-pincer-session-id"] == sk
    # The header wins over `user`.
    second = ok(chat(node_dir, server, agent, {"messages": [user("second")], "user": "someone-else"},
                     headers={header: sk}))
    assert second["headers"]["x-pincer-session-id"] == sk
    assert server.get("/v1/sessions/someone-else").status_code == 404
    msgs = mock_llm.requests(key)[1]["body"]["messages"]
    assert [m["content"] for m in msgs if m["role"] in ("user", "assistant")] == ["first", "one", "second"]
    ids = [s["session_id"] for s in server.get("/v1/sessions").json()["sessions"]]
    assert ids == [sk]


def test_sticky_session_of_another_agent_is_409(llm_server, mock_llm, node_dir):
    server = llm_server()
    a1, _ = chat_agent(server, mock_llm, steps=[{"text": "mine"}])
    a2, _ = chat_agent(server, mock_llm)
    sk = unique_key("shared_")
    ok(chat(node_dir, server, a1, {"messages": [user("hi")], "user": sk}))
    err = sdk_error(chat(node_dir, server, a2, {"messages": [user("hi")], "user": sk}))
    assert err["status"] == 409 and err["is_conflict"], err
    assert err["code"] == "session_agent_mismatch", err


def test_invalid_session_key_is_400(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, _ = chat_agent(server, mock_llm)
    err = sdk_error(chat(node_dir, server, agent, {"messages": [user("hi")]},
                         headers={"x-openclaw-session-key": "not a valid key!"}))
    assert err["status"] == 400 and err["is_bad_request"], err
    assert err["type"] == "invalid_request_error"
    assert server.get("/v1/sessions").json()["count"] == 0


# ---- ephemeral sessions -----------------------------------------------------------------------

def test_ephemeral_session_honours_the_whole_messages_array(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, instructions="Agent instructions.",
                            steps=[{"text": "Arr, it be 4."}])
    body = {"messages": [
        {"role": "system", "content": "Always answer like a pirate."},
        user("What is 1+1?"),
        {"role": "assistant", "content": "2"},
        user("And 2+2?"),
    ]}
    res = ok(chat(node_dir, server, agent, body))
    assert res["completion"]["choices"][0]["message"]["content"] == "Arr, it be 4."
    sid = res["headers"]["x-pincer-session-id"]
    reqs = mock_llm.requests(key)
    assert len(reqs) == 1
    msgs = reqs[0]["body"]["messages"]
    system = [m for m in msgs if m["role"] == "system"]
    assert len(system) == 1, msgs
    assert "Agent instructions." in system[0]["content"], system
    assert "Always answer like a pirate." in system[0]["content"], system
    rest = [(m["role"], m["content"]) for m in msgs if m["role"] != "system"]
    assert rest == [("user", "What is 1+1?"), ("assistant", "2"), ("user", "And 2+2?")]
    # The throw-away session is gone.
    assert server.get(f"/v1/sessions/{sid}").status_code == 404
    assert server.get("/v1/sessions").json() == {"sessions": [], "count": 0}


def test_ephemeral_sessions_are_independent(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"text": "a"}, {"text": "b"}])
    r1 = ok(chat(node_dir, server, agent, {"messages": [user("first question")]}))
    r2 = ok(chat(node_dir, server, agent, {"messages": [user("second question")]}))
    assert r1["headers"]["x-pincer-session-id"] != r2["headers"]["x-pincer-session-id"]
    second = [m["content"] for m in mock_llm.requests(key)[1]["body"]["messages"] if m["role"] != "system"]
    assert second == ["second question"]
    assert server.get("/v1/sessions").json()["count"] == 0


# ---- busy, disconnect -------------------------------------------------------------------------

def wait_status(server, sid: str, wanted: str) -> dict:
    def check():
        r = server.get(f"/v1/sessions/{sid}")
        return r.json() if r.status_code == 200 and r.json()["status"] == wanted else None
    return poll(check, timeout=10, message=f"session {sid} {wanted}")


def test_busy_sticky_session_is_409_session_busy(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"hang": True}, {"text": "after"}])
    who = unique_key("busy-")
    first = start_node(node_dir, "chat.mjs", server.base_url, agent["agent_id"],
                       {"body": {"messages": [user("hang")], "user": who}})
    try:
        wait_status(server, who, "running")
        poll(lambda: len(mock_llm.requests(key)) == 1, message="the hanging provider call")
        err = sdk_error(chat(node_dir, server, agent, {"messages": [user("me too")], "user": who}))
        assert err["status"] == 409 and err["is_conflict"], err
        assert err["type"] == "session_busy" and err["code"] == "session_busy", err
        # The rejected request was not queued: the session still has one user message.
        users = [e for e in session_events(server, who) if e["type"] == "user.message"]
        assert [e["content"] for e in users] == ["hang"]
        # Same over raw HTTP, for the envelope.
        assert_openai_envelope(
            raw_chat(server, {"messages": [user("me too")], "user": who},
                     headers={"x-openclaw-agent-id": agent["agent_id"]}),
            409, "session_busy", "session_busy")
        # Streaming requests are refused the same way, before any SSE starts.
        err = sdk_error(stream(node_dir, server, agent, {"messages": [user("stream too")], "user": who}))
        assert err["status"] == 409 and err["code"] == "session_busy", err
    finally:
        r = server.post(f"/v1/sessions/{who}/cancel")
    assert r.status_code == 200, r.text
    # The held request ends with the turn (cancelled): a server error in the envelope.
    res = finish_node(first)
    err = sdk_error(res)
    assert err["status"] == 500 and err["type"] == "run_failed", err
    assert "cancel" in err["error"]["message"], err
    # The session is usable again.
    again = ok(chat(node_dir, server, agent, {"messages": [user("next")], "user": who}))
    assert again["completion"]["choices"][0]["message"]["content"] == "after"


def test_an_interrupted_turn_is_an_error_not_a_partial_reply(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"hang": True}])
    who = unique_key("intr-")
    held = start_node(node_dir, "chat.mjs", server.base_url, agent["agent_id"],
                      {"body": {"messages": [user("hang")], "user": who}})
    wait_status(server, who, "running")
    poll(lambda: len(mock_llm.requests(key)) == 1, message="the hanging provider call")
    r = server.post(f"/v1/sessions/{who}/events", json={"type": "user.interrupt"})
    assert r.status_code == 200, r.text
    err = sdk_error(finish_node(held))
    assert err["status"] == 500 and err["type"] == "run_failed", err
    assert err["code"] == "interrupted" and "interrupted" in err["error"]["message"], err


@pytest.mark.parametrize("sticky", [True, False], ids=["sticky", "ephemeral"])
def test_client_disconnect_mid_stream_cancels_the_run(llm_server, mock_llm, node_dir, sticky):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[
        {"text": "0123456789" * 20, "chunk_size": 1, "chunk_delay_ms": 25}, {"text": "later"}])
    body: dict = {"messages": [user("talk for a while")]}
    if sticky:
        body["user"] = unique_key("gone-")
    res = ok(stream(node_dir, server, agent, body, abort_after_deltas=2))
    assert res["aborted"] and res["content"] == "01", res
    sid = res["headers"]["x-pincer-session-id"]
    if not sticky:
        assert sid.startswith("ses_")
        poll(lambda: server.get(f"/v1/sessions/{sid}").status_code == 404,
             message="the ephemeral session to be deleted")
        poll(lambda: mock_llm.stats()["in_flight"] == 0, timeout=5,
             message="the provider call to be aborted")
        assert server.get("/v1/sessions").json()["count"] == 0
        return
    assert sid == body["user"]
    s = wait_status(server, sid, "idle")
    assert s["error"] is None, s
    # The provider stream is abandoned, not read to the end.
    poll(lambda: mock_llm.stats()["in_flight"] == 0, timeout=5,
         message="the provider call to be aborted")
    events = session_events(server, sid)
    last = events[-1]
    assert last["type"] == "session.status_idle" and last["stop_reason"] == "cancelled", last
    assert not [e for e in events if e["type"] == "agent.message"], events
    # Nothing is written after the cancel: the log is unchanged once the provider call ended.
    assert session_events(server, sid) == events
    assert len(mock_llm.requests(key)) == 1
    # And the session takes the next turn normally.
    again = ok(chat(node_dir, server, agent, {"messages": [user("again")], "user": sid}))
    assert again["completion"]["choices"][0]["message"]["content"] == "later"


def test_client_disconnect_before_the_first_delta_cancels_the_run(llm_server, mock_llm, node_dir):
    """The client leaves while the provider has not answered yet (nothing is being written)."""
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"hang": True}])
    who = unique_key("early-")
    res = ok(stream(node_dir, server, agent, {"messages": [user("wait")], "user": who},
                    abort_after_chunks=1))
    assert res["aborted"] and res["content"] == "", res
    s = wait_status(server, who, "idle")
    assert s["error"] is None, s
    assert session_events(server, who)[-1]["stop_reason"] == "cancelled"
    poll(lambda: mock_llm.stats()["in_flight"] == 0, timeout=5,
         message="the provider call to be aborted")


def test_concurrent_first_requests_on_a_new_key_are_one_turn_and_409s(llm_server, mock_llm):
    """Several clients race to open the same new sticky session: one turn runs, every other
    request is refused as session_busy (never another error)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    server = llm_server()
    agent, key = chat_agent(server, mock_llm)
    mock_llm.config(auto={"text": "raced", "delay_ms": 300})
    try:
        for trial in range(3):
            who = unique_key("race-")
            n = 8
            barrier = threading.Barrier(n)

            def go(i):
                barrier.wait()
                r = requests.post(server.url("/v1/chat/completions"), timeout=20,
                                  json={"messages": [user(f"m{i}")], "user": who},
                                  headers={"x-openclaw-agent-id": agent["agent_id"]})
                return r.status_code, r.json()

            with ThreadPoolExecutor(n) as ex:
                replies = list(ex.map(go, range(n)))
            assert sorted(st for st, _ in replies) == [200] + [409] * (n - 1), replies
            codes = [b["error"]["code"] for st, b in replies if st == 409]
            assert codes == ["session_busy"] * (n - 1), codes
    finally:
        mock_llm.config(auto=None)


def test_approval_during_a_chat_completion_is_answered_on_the_native_api(llm_server, mock_llm,
                                                                          node_dir):
    """An always_ask agent behind the OpenAI API: the completion waits while the request is
    pending and finishes once it is answered through POST /v1/sessions/:id/events."""
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, permissionPolicy={"type": "always_ask"}, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "approved"}, "id": "call_a"}]},
        {"text": "The tool said approved."},
    ])
    who = unique_key("ask-")
    proc = start_node(node_dir, "stream.mjs", server.base_url, agent["agent_id"],
                      {"body": {"messages": [user("run it")], "user": who}})
    try:
        req = poll(lambda: next((e for e in (session_events(server, who)
                                             if server.get(f"/v1/sessions/{who}").status_code == 200
                                             else [])
                                 if e["type"] == "agent.tool_confirmation_request"), None),
                   timeout=10, message="the confirmation request")
        r = server.post(f"/v1/sessions/{who}/events",
                        json={"type": "user.tool_confirmation", "toolUseId": req["approval_id"],
                              "result": "allow"})
        assert r.status_code == 200, r.text
    finally:
        res = finish_node(proc)
    ok(res)
    assert res["content"] == "The tool said approved."
    assert res["finish_reasons"] == ["stop"]


# ---- errors -----------------------------------------------------------------------------------

def test_archived_agent_is_409(llm_server, mock_llm, node_dir):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm, steps=[{"text": "never"}])
    r = server.post(f"/v1/agents/{agent['agent_id']}/archive")
    assert r.status_code == 200, r.text
    err = sdk_error(chat(node_dir, server, agent, {"messages": [user("hi")]}))
    assert err["status"] == 409 and err["is_conflict"] and err["code"] == "agent_archived", err
    assert_openai_envelope(raw_chat(server, {"messages": [user("hi")]},
                                    headers={"x-openclaw-agent-id": agent["agent_id"]}),
                           409, "agent_archived", "agent_archived")
    assert mock_llm.requests(key) == []
    assert server.get("/v1/sessions").json()["count"] == 0


def test_unknown_agent_is_404(llm_server, mock_llm, node_dir):
    server = llm_server()
    err = sdk_error(chat(node_dir, server, {"agent_id": "agt_doesnotexist"}, {"messages": [user("hi")]}))
    assert err["status"] == 404 and err["is_not_found"], err
    assert err["type"] == "not_found_error" and err["code"] == "agent_not_found", err
    assert_openai_envelope(raw_chat(server, {"messages": [user("hi")]},
                                    headers={"x-openclaw-agent-id": "agt_doesnotexist"}),
                           404, "agent_not_found", "not_found_error")


def test_missing_agent_header_is_400(llm_server, mock_llm, node_dir):
    server = llm_server()
    res = run_node(node_dir, "chat.mjs", server.base_url, None, {"body": {"messages": [user("hi")]}})
    err = sdk_error(res)
    assert err["status"] == 400 and err["is_bad_request"], err
    assert err["type"] == "invalid_request_error", err
    assert "x-openclaw-agent-id" in err["error"]["message"], err
    assert_openai_envelope(raw_chat(server, {"messages": [user("hi")]}), 400,
                           "invalid_request_error", "invalid_request_error")


@pytest.mark.parametrize("messages", [
    [{"role": "system", "content": "only a system prompt"}],
    [user("")],
    [{"role": "assistant", "content": "only an assistant turn"}],
], ids=["system-only", "empty-user", "assistant-only"])
def test_no_user_message_is_400(llm_server, mock_llm, node_dir, messages):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm)
    err = sdk_error(chat(node_dir, server, agent, {"messages": messages}))
    assert err["status"] == 400 and err["is_bad_request"], err
    assert err["type"] == "invalid_request_error", err
    assert "no user message" in err["error"]["message"], err
    assert_openai_envelope(raw_chat(server, {"messages": messages},
                                    headers={"x-openclaw-agent-id": agent["agent_id"]}),
                           400, "invalid_request_error", "invalid_request_error")
    assert mock_llm.requests(key) == []
    assert server.get("/v1/sessions").json()["count"] == 0


@pytest.mark.parametrize("body", [
    b"{not json",
    b"[]",
    {"messages": []},
    {"messages": "hi"},
    {"model": "x"},
], ids=["malformed", "array", "empty-messages", "string-messages", "no-messages"])
def test_bad_bodies_are_400_in_the_openai_envelope(llm_server, mock_llm, body):
    server = llm_server()
    agent, key = chat_agent(server, mock_llm)
    r = raw_chat(server, body, headers={"x-openclaw-agent-id": agent["agent_id"]})
    assert_openai_envelope(r, 400, "invalid_request_error", "invalid_request_error")
    assert mock_llm.requests(key) == []


def test_bearer_token_is_the_sdk_api_key(llm_server, mock_llm, node_dir):
    server = llm_server(PINCER_API_TOKEN="s3cret-token")
    r = server.post("/v1/agents", json={"model": "openai/mock-model",
                                        "instructions": "auth [mock:authkey]"},
                    headers={"authorization": "Bearer s3cret-token"})
    assert r.status_code == 200, r.text
    agent = r.json()
    mock_llm.script("authkey", [{"text": "authorised"}])
    res = ok(run_node(node_dir, "chat.mjs", server.base_url, agent["agent_id"],
                      {"body": {"messages": [user("hi")]}}, api_key="s3cret-token"))
    assert res["completion"]["choices"][0]["message"]["content"] == "authorised"
    err = sdk_error(run_node(node_dir, "chat.mjs", server.base_url, agent["agent_id"],
                             {"body": {"messages": [user("hi")]}}, api_key="wrong"))
    assert err["status"] == 401 and err["is_authentication"], err
