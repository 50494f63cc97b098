"""POST /v1/agents/:id/run ({task, sessionId?}) and POST /v1/agents/:id/warm."""

from __future__ import annotations

import re
import time

from conftest import AgentSession, poll, unique_key


def test_run_creates_a_session_and_starts_the_task(llm_server, mock_llm):
    server = llm_server()
    key = unique_key()
    agent = server.create_agent(model="openai/mock-model", instructions=f"[mock:{key}]")
    mock_llm.script(key, [{"text": "task done"}])
    before = int(time.time() * 1000)
    r = server.post(f"/v1/agents/{agent['agent_id']}/run", json={"task": "do the task"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"session_id", "agent_id", "status", "started_at"}, body
    assert re.match(r"^ses_[a-z0-9]{12}$", body["session_id"])
    assert body["agent_id"] == agent["agent_id"]
    assert body["status"] == "starting"
    assert isinstance(body["started_at"], int) and body["started_at"] >= before - 5

    sid = body["session_id"]
    s = server.get(f"/v1/sessions/{sid}").json()
    assert s["agent_id"] == agent["agent_id"] and s["turns"] == 1
    done = poll(lambda: (x := server.get(f"/v1/sessions/{sid}").json())["status"] == "idle" and x,
                message="the run to finish")
    assert done["output"] == "task done"
    events = server.get(f"/v1/sessions/{sid}/events").json()["events"]
    assert events[0]["type"] == "user.message" and events[0]["content"] == "do the task"
    assert len(server.audit(action="session.create")) == 1


def test_run_on_an_existing_session(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "first"}, {"text": "second"}])
    s.run("first turn")
    r = server.post(f"/v1/agents/{s.agent['agent_id']}/run",
                    json={"task": "second turn", "sessionId": s.id})
    assert r.status_code == 200, r.text
    assert r.json()["session_id"] == s.id
    assert r.json()["status"] == "starting"
    done = s.wait()
    assert done["output"] == "second" and done["turns"] == 2
    assert server.get("/v1/sessions").json()["count"] == 1


def test_run_on_a_busy_session_queues(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "slow", "delay_ms": 800},
                                                     {"text": "queued answer"}])
    s.send("first")
    r = server.post(f"/v1/agents/{s.agent['agent_id']}/run",
                    json={"task": "second", "sessionId": s.id})
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("starting", "running")
    done = s.wait()
    assert done["output"] == "queued answer" and done["turns"] == 2


def test_run_with_another_agents_session_is_400(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    other = server.create_agent(model="openai/mock-model")
    r = server.post(f"/v1/agents/{other['agent_id']}/run",
                    json={"task": "hijack", "sessionId": s.id})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "session_agent_mismatch"
    assert s.get()["turns"] == 0


def test_run_validation_and_unknowns(llm_server, mock_llm):
    server = llm_server()
    agent = server.create_agent(model="openai/mock-model")
    aid = agent["agent_id"]
    r = server.post(f"/v1/agents/{aid}/run", json={})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = server.post(f"/v1/agents/{aid}/run", json={"task": ""})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = server.post("/v1/agents/agt_doesnotexist/run", json={"task": "x"})
    assert r.status_code == 404 and r.json()["error"] == "agent_not_found"
    r = server.post(f"/v1/agents/{aid}/run", json={"task": "x", "sessionId": "ses_doesnotexist"})
    assert r.status_code == 404 and r.json()["error"] == "session_not_found"
    assert server.get("/v1/sessions").json()["count"] == 0


def test_run_archived_agent_is_409(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock-model")
    assert server.post(f"/v1/agents/{agent['agent_id']}/archive").status_code == 200
    r = server.post(f"/v1/agents/{agent['agent_id']}/run", json={"task": "x"})
    assert r.status_code == 409 and r.json()["error"] == "agent_archived"


def test_warm_is_202(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock-model")
    r = server.post(f"/v1/agents/{agent['agent_id']}/warm")
    assert r.status_code == 202, r.text
    assert r.json() == {"agent_id": agent["agent_id"], "queued": True}
    r = server.post("/v1/agents/agt_doesnotexist/warm")
    assert r.status_code == 404 and r.json()["error"] == "agent_not_found"
