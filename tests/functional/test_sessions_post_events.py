"""POST /v1/sessions/:id/events: starting turns, validation, the durable FIFO queue,
Idempotency-Key, and per-turn model / thinkingLevel overrides (seed contract §2.8)."""

from __future__ import annotations

import pytest

from conftest import AgentSession, assert_dense, details_node, poll

FORMATS = {"openai": "openai/mock-model", "anthropic": "anthropic/claude-mock"}


def last_user_text(body: dict) -> str:
    """The text of the last user turn in an OpenAI or Anthropic request body."""
    for m in reversed(body["messages"]):
        if m["role"] != "user":
            continue
        if isinstance(m["content"], str):
            return m["content"]
        texts = [b["text"] for b in m["content"] if b.get("type") == "text"]
        if texts:
            return texts[-1]
    raise AssertionError(f"no user text in {body}")


def test_user_message_starts_a_turn(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "hello back"}])
    r = s.post("hello")
    assert r.status_code == 200, r.text
    assert r.json() == {"session_id": s.id, "session_status": "starting", "queued": False}
    done = s.wait()
    assert done["status"] == "idle", done
    assert done["output"] == "hello back"
    assert done["error"] is None
    assert done["turns"] == 1
    assert isinstance(done["last_event_at"], int) and done["last_event_at"] >= done["created_at"]
    types = [e["type"] for e in s.events()]
    assert types[0] == "user.message"
    assert "agent.message" in types


@pytest.mark.parametrize("body", [{"content": ""}, {}, {"content": None}, {"content": 42},
                                  {"type": "user.message", "content": ""}])
def test_bad_content_is_400_naming_content(llm_server, mock_llm, body):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = server.post(s.path + "/events", json=body)
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error"] == "invalid_request", err
    if "details" in err:
        assert details_node(err["details"], "content")["_errors"], err
    else:
        assert "content" in err.get("message", ""), err
    after = s.get()
    assert after["status"] == "idle" and after["turns"] == 0
    assert s.events() == []


def test_unknown_event_type_is_400(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = server.post(s.path + "/events", json={"type": "user.shout", "content": "hi"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert s.get()["turns"] == 0
    assert s.events() == []


def test_tool_confirmation_with_unknown_id_is_404(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = server.post(s.path + "/events", json={"type": "user.tool_confirmation",
                                              "toolUseId": "apr_nope", "result": "allow"})
    assert r.status_code == 404, r.text
    assert "error" in r.json()
    assert s.events() == []


def test_malformed_json_body_is_400(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = server.post(s.path + "/events", data=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert s.events() == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_messages_posted_while_running_are_queued_and_drained_in_order(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"text": "answer A", "delay_ms": 1500},
        {"text": "answer B"},
        {"text": "answer C"},
        {"text": "answer D"},
    ])
    first = s.send("message A")
    assert first["queued"] is False
    for text in ("message B", "message C", "message D"):
        reply = s.send(text)
        assert reply["queued"] is True, (text, reply)
        assert reply["session_id"] == s.id
        assert reply["session_status"] in ("starting", "running"), reply
    # Queued messages are not in the log yet.
    assert [e["content"] for e in s.events() if e["type"] == "user.message"] == ["message A"]

    done = s.wait()
    assert done["status"] == "idle", done
    assert done["turns"] == 4
    assert done["output"] == "answer D"

    assert [last_user_text(b) for b in s.llm_requests()] == \
        ["message A", "message B", "message C", "message D"]
    events = s.events()
    assert_dense(events)
    convo = [(e["type"], e["content"]) for e in events
             if e["type"] in ("user.message", "agent.message")]
    assert convo == [("user.message", "message A"), ("agent.message", "answer A"),
                     ("user.message", "message B"), ("agent.message", "answer B"),
                     ("user.message", "message C"), ("agent.message", "answer C"),
                     ("user.message", "message D"), ("agent.message", "answer D")]
    # The session stays busy while the queue drains: one idle at the very end.
    idles = [e for e in events if e["type"] == "session.status_idle"]
    assert len(idles) == 1 and idles[0]["seq"] == events[-1]["seq"], convo
    # Each later turn sees the earlier ones.
    last = s.llm_requests()[-1]
    assert "answer C" in str(last["messages"]) and "message A" in str(last["messages"])


def test_turns_counts_every_post_including_queued(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "one", "delay_ms": 1000},
                                                     {"text": "two"}])
    s.send("first")
    assert s.get()["turns"] == 1
    assert s.send("second")["queued"] is True
    assert s.get()["turns"] == 2  # counted when queued, not when drained
    s.wait()
    s.run("third", steps=[{"text": "three"}])
    assert s.get()["turns"] == 3


def test_idempotency_key_replays_the_first_reply_and_starts_one_turn(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "once", "delay_ms": 300}])
    h = {"Idempotency-Key": "key-123"}
    r1 = s.post("do it once", headers=h)
    assert r1.status_code == 200, r1.text
    r2 = s.post("do it once", headers=h)
    assert r2.status_code == 200, r2.text
    assert r2.json() == r1.json()
    assert r1.json()["queued"] is False
    s.wait()
    r3 = s.post("do it once", headers=h)
    assert r3.status_code == 200
    assert r3.json() == r1.json()
    assert s.get()["turns"] == 1
    assert [e["type"] for e in s.events()].count("user.message") == 1
    assert len(s.llm_requests()) == 1
    # A different key is a different post.
    r4 = s.post("again", headers={"Idempotency-Key": "key-456"})
    assert r4.status_code == 200 and r4.json()["queued"] is False
    s.wait()
    assert s.get()["turns"] == 2


def test_idempotency_key_is_per_session(llm_server, mock_llm):
    server = llm_server()
    a = AgentSession.create(server, mock_llm)
    b = AgentSession.create(server, mock_llm)
    h = {"Idempotency-Key": "same"}
    ra = a.post("hi", headers=h).json()
    rb = b.post("hi", headers=h).json()
    assert ra["session_id"] == a.id and rb["session_id"] == b.id
    a.wait()
    b.wait()
    assert a.get()["turns"] == 1 and b.get()["turns"] == 1


def test_idempotency_key_survives_a_restart(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "ok"}])
    h = {"Idempotency-Key": "restart-key"}
    first = s.post("hello", headers=h)
    assert first.status_code == 200
    s.wait()
    server.restart()
    again = s.post("hello", headers=h)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert s.get()["turns"] == 1
    assert [e["type"] for e in s.events()].count("user.message") == 1
    assert len(s.llm_requests()) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_per_turn_model_override(llm_server, mock_llm, fmt):
    server = llm_server()
    agent_model = FORMATS[fmt]
    prefix = agent_model.split("/")[0]
    s = AgentSession.create(server, mock_llm, model=agent_model, steps=[
        {"text": "from override", "expect": {"model": "override-model"}},
        {"text": "from default", "expect": {"model": agent_model.split("/", 1)[1]}},
    ])
    done = s.run("use the override", model=f"{prefix}/override-model")
    assert done["output"] == "from override"
    msg = [e for e in s.events() if e["type"] == "agent.message"][-1]
    assert msg["model"] == f"{prefix}/override-model"
    # The override lasts one turn.
    done = s.run("back to the agent's model")
    assert done["output"] == "from default"
    assert [b["model"] for b in s.llm_requests()] == ["override-model",
                                                      agent_model.split("/", 1)[1]]


def test_model_override_can_switch_wire_format(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="openai/gpt-mock",
                            steps=[{"text": "anthropic answered"}])
    s.run("switch", model="anthropic/claude-override")
    reqs = mock_llm.requests(s.key)
    assert [r["path"] for r in reqs] == ["/v1/messages"]
    assert reqs[0]["body"]["model"] == "claude-override"


def test_empty_model_override_is_400(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = s.post("hi", model="")
    assert r.status_code == 400, r.text
    assert s.get()["turns"] == 0


@pytest.mark.parametrize("level", ["low", "medium", "high"])
def test_thinking_level_sets_openai_reasoning_effort(llm_server, mock_llm, level):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="openai/o-mock", steps=[{"text": "a"},
                                                                            {"text": "b"}])
    s.run("think", thinkingLevel=level)
    s.run("no override")
    first, second = s.llm_requests()
    assert first.get("reasoning_effort") == level, first
    assert "reasoning_effort" not in second, second  # agent default is off


@pytest.mark.parametrize("level,budget", [("low", 2048), ("medium", 8192), ("high", 16384),
                                          ("xhigh", 32768)])
def test_thinking_level_sets_anthropic_thinking_budget(llm_server, mock_llm, level, budget):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-mock",
                            steps=[{"text": "a", "thinking": "pondering"}, {"text": "b"}])
    s.run("think", thinkingLevel=level)
    s.run("no override")
    first, second = s.llm_requests()
    assert first["thinking"]["type"] == "enabled"
    assert first["thinking"]["budget_tokens"] == budget
    assert first["max_tokens"] > budget
    assert "thinking" not in second, second


def test_agent_thinking_level_is_the_default(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-mock", thinkingLevel="low",
                            steps=[{"text": "a"}, {"text": "b"}])
    s.run("default level")
    s.run("off this turn", thinkingLevel="off")
    first, second = s.llm_requests()
    assert first["thinking"]["budget_tokens"] == 2048
    assert "thinking" not in second


def test_invalid_thinking_level_is_400(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    r = s.post("hi", thinkingLevel="galaxy-brain")
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert s.get()["turns"] == 0


def test_concurrent_posts_start_one_turn_and_queue_the_rest(llm_server, mock_llm):
    from concurrent.futures import ThreadPoolExecutor
    import requests
    server = llm_server()
    # The first turn's provider call takes a second, so every post lands while it runs.
    s = AgentSession.create(server, mock_llm, steps=[{"text": "r0", "delay_ms": 1000}] +
                            [{"text": f"r{i}"} for i in range(1, 10)])

    def post(i):
        r = requests.post(server.url(s.path + "/events"), json={"content": f"m{i}"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(post, range(10)))
    assert sorted(r["queued"] for r in replies) == [False] + [True] * 9
    poll(lambda: s.get()["status"] == "idle" and len(s.llm_requests()) == 10, timeout=10,
         message="all ten turns")
    assert s.get()["turns"] == 10
    events = s.events()
    assert_dense(events)
    users = [e["content"] for e in events if e["type"] == "user.message"]
    assert sorted(users) == sorted(f"m{i}" for i in range(10))
    # The provider saw the messages in log order.
    assert [last_user_text(b) for b in s.llm_requests()] == users


def test_concurrent_duplicates_with_one_idempotency_key(llm_server, mock_llm):
    from concurrent.futures import ThreadPoolExecutor
    import requests
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "once"}])

    def post(_):
        r = requests.post(server.url(s.path + "/events"), json={"content": "same"},
                          headers={"Idempotency-Key": "dup"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(post, range(8)))
    assert all(r == replies[0] for r in replies), replies
    s.wait()
    assert s.get()["turns"] == 1
    assert len(s.llm_requests()) == 1


def test_session_keeps_the_agent_version_it_was_created_with(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, instructions="Version one.",
                            steps=[{"text": "a"}, {"text": "b"}])
    assert s.created["agent_version"] == s.agent["version"]
    r = server.patch(f"/v1/agents/{s.agent['agent_id']}",
                     json={"version": s.agent["version"], "instructions": f"Version two. [mock:{s.key}]",
                           "model": "openai/other-model"})
    assert r.status_code == 200, r.text
    s.run("old session")
    body = s.llm_requests()[-1]
    assert body["messages"][0]["content"] == f"Version one. [mock:{s.key}]"
    assert body["model"] == "mock-model"
    r = server.post("/v1/sessions", json={"agentId": s.agent["agent_id"]})
    new = AgentSession(server, mock_llm, s.key, s.agent, r.json())
    new.run("new session")
    body = s.llm_requests()[-1]
    assert body["messages"][0]["content"] == f"Version two. [mock:{s.key}]"
    assert body["model"] == "other-model"


def test_posting_to_a_session_of_an_archived_agent_still_works(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "still here"}])
    assert server.post(f"/v1/agents/{s.agent['agent_id']}/archive").status_code == 200
    done = s.run("hello")
    assert done["output"] == "still here"


def test_posting_to_a_session_of_a_deleted_agent_is_404(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    assert server.delete(f"/v1/agents/{s.agent['agent_id']}").status_code == 200
    r = s.post("hello")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "agent_not_found"
    assert s.llm_requests() == []


@pytest.mark.parametrize("fmt,field", [("openai", "max_completion_tokens"),
                                       ("anthropic", "max_tokens")])
def test_output_token_cap_is_sent(llm_server, mock_llm, fmt, field):
    server = llm_server(PINCER_LLM_MAX_TOKENS="1234")
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[{"text": "ok"}])
    s.run("go")
    assert s.llm_requests()[0][field] == 1234
