"""Sessions API: create / list / get / delete, the session JSON, environment references, audit.

Seed contract §2.8. Every test runs its own pincer wired to a shared pincer-mock-llm.
"""

from __future__ import annotations

import re
import time

import pytest

from conftest import AgentSession, details_node, poll

SESSION_ID_RE = re.compile(r"^ses_[a-z0-9]{12}$")

SEED_SESSION_KEYS = {
    "session_id", "agent_id", "environment_id", "status", "output", "tokens", "cost_usd",
    "error", "created_at", "last_event_at", "turns", "boot_ms", "pool_source", "container_id",
    "container_name", "parent_session_id",
}


def create(server, **body):
    return server.post("/v1/sessions", json=body)


def test_create_requires_agent_id(llm_server):
    server = llm_server()
    r = create(server)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_request"
    assert details_node(body["details"], "agentId")["_errors"], body
    assert server.get("/v1/sessions").json()["count"] == 0


def test_create_with_unknown_agent_is_404(llm_server):
    server = llm_server()
    r = create(server, agentId="agt_doesnotexist")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "agent_not_found"
    assert server.get("/v1/sessions").json()["count"] == 0


def test_create_with_archived_agent_is_409(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    r = server.post(f"/v1/agents/{agent['agent_id']}/archive")
    assert r.status_code == 200, r.text
    r = create(server, agentId=agent["agent_id"])
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "agent_archived"
    assert server.get("/v1/sessions").json()["count"] == 0


def test_create_with_unknown_environment_is_404(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    r = create(server, agentId=agent["agent_id"], environmentId="env_doesnotexist")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "environment_not_found"
    assert server.get("/v1/sessions").json()["count"] == 0


def test_create_with_unknown_vault_is_404(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    r = create(server, agentId=agent["agent_id"], vaultId="vlt_doesnotexist")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "vault_not_found"
    assert server.get("/v1/sessions").json()["count"] == 0


def test_new_session_json_has_every_seed_key(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    env = server.create_environment(name="e1")
    before = int(time.time() * 1000)
    r = create(server, agentId=agent["agent_id"], environmentId=env["environment_id"])
    after = int(time.time() * 1000)
    assert r.status_code == 200, r.text
    s = r.json()
    missing = SEED_SESSION_KEYS - set(s)
    assert not missing, f"session JSON lacks {missing}: {s}"
    assert SESSION_ID_RE.match(s["session_id"]), s
    assert s["agent_id"] == agent["agent_id"]
    assert s["environment_id"] == env["environment_id"]
    assert s["status"] == "idle"
    assert s["output"] is None
    assert s["tokens"]["input"] == 0 and s["tokens"]["output"] == 0
    assert s["cost_usd"] == 0
    assert s["error"] is None
    assert isinstance(s["created_at"], int) and before - 5 <= s["created_at"] <= after + 5
    assert s["last_event_at"] is None
    assert s["turns"] == 0
    for k in ("boot_ms", "pool_source", "container_id", "container_name", "parent_session_id"):
        assert s[k] is None, (k, s)
    # GET returns the same object.
    got = server.get(f"/v1/sessions/{s['session_id']}")
    assert got.status_code == 200
    assert got.json() == s


def test_session_without_environment_has_null_environment_id(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    s = create(server, agentId=agent["agent_id"]).json()
    assert s["environment_id"] is None


def test_list_get_and_delete(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    ids = [create(server, agentId=agent["agent_id"]).json()["session_id"] for _ in range(3)]
    listed = server.get("/v1/sessions")
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 3
    assert [s["session_id"] for s in body["sessions"]] == ids  # created ASC
    for s in body["sessions"]:
        assert SEED_SESSION_KEYS <= set(s)

    r = server.delete(f"/v1/sessions/{ids[1]}")
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted": True}
    r = server.get(f"/v1/sessions/{ids[1]}")
    assert r.status_code == 404
    assert r.json()["error"] == "session_not_found"
    r = server.delete(f"/v1/sessions/{ids[1]}")
    assert r.status_code == 404
    assert r.json()["error"] == "session_not_found"
    r = server.get(f"/v1/sessions/{ids[1]}/events")
    assert r.status_code == 404
    assert r.json()["error"] == "session_not_found"
    body = server.get("/v1/sessions").json()
    assert [s["session_id"] for s in body["sessions"]] == [ids[0], ids[2]]
    assert body["count"] == 2


@pytest.mark.parametrize("method,suffix,body", [
    ("GET", "", None),
    ("DELETE", "", None),
    ("GET", "/events", None),
    ("GET", "/events?stream=true", None),
    ("POST", "/events", {"content": "hi"}),
    ("POST", "/cancel", None),
    ("POST", "/compact", None),
])
def test_unknown_session_is_404(llm_server, method, suffix, body):
    server = llm_server()
    r = server.request(method, "/v1/sessions/ses_doesnotexist" + suffix, json=body)
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "session_not_found"


def test_deleting_an_environment_in_use_is_409(llm_server):
    server = llm_server()
    agent = server.create_agent(model="openai/mock")
    env = server.create_environment(name="shared")
    eid = env["environment_id"]
    s1 = create(server, agentId=agent["agent_id"], environmentId=eid).json()["session_id"]
    s2 = create(server, agentId=agent["agent_id"], environmentId=eid).json()["session_id"]

    r = server.delete(f"/v1/environments/{eid}")
    assert r.status_code == 409, r.text
    assert r.json() == {"error": "environment_in_use",
                        "message": "2 session(s) reference this environment"}
    assert server.get(f"/v1/environments/{eid}").status_code == 200

    assert server.delete(f"/v1/sessions/{s1}").status_code == 200
    r = server.delete(f"/v1/environments/{eid}")
    assert r.status_code == 409
    assert r.json()["message"] == "1 session(s) reference this environment"

    assert server.delete(f"/v1/sessions/{s2}").status_code == 200
    r = server.delete(f"/v1/environments/{eid}")
    assert r.status_code == 200, r.text
    assert server.get(f"/v1/environments/{eid}").status_code == 404


def test_session_create_delete_and_cancel_are_audited(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"hang": True}])
    rows = server.audit(action="session.create")
    assert len(rows) == 1
    assert rows[0]["target"] == s.id
    assert rows[0]["outcome"] == "ok"
    assert rows[0]["metadata"]["agent_id"] == s.agent["agent_id"]

    s.send("wait forever")
    r = server.post(s.path + "/cancel")
    assert r.status_code == 200, r.text
    rows = server.audit(action="session.cancel")
    assert len(rows) == 1 and rows[0]["target"] == s.id and rows[0]["outcome"] == "ok"

    # A refused cancel is audited with its error code.
    r = server.post(s.path + "/cancel")
    assert r.status_code == 409
    rows = server.audit(action="session.cancel")
    assert [row["outcome"] for row in rows] == ["session_not_running", "ok"]

    assert server.delete(s.path).status_code == 200
    rows = server.audit(action="session.delete")
    assert len(rows) == 1 and rows[0]["target"] == s.id and rows[0]["outcome"] == "ok"


def test_deleting_a_running_session_stops_its_turn(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm,
                            steps=[{"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 60000}}]},
                                   {"text": "never"}])
    s.send("go")
    s.wait_event(lambda e: e["type"] == "agent.tool_use", message="the test_sleep call")
    r = server.delete(s.path)
    assert r.status_code == 200, r.text
    assert server.get(s.path).status_code == 404
    # The driver stops: the running gauge drops back to 0 and the mock gets no second call.
    poll(lambda: server.metrics() and
         [v for n, l, v in server.metrics() if n == "sessions_running"] == [0.0],
         timeout=5, message="sessions_running back to 0")
    assert len(s.llm_requests()) == 1
