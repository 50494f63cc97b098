"""GET /v1/audit and the rows that mutating calls write."""

import pytest

from conftest import REQUEST_ID_RE, sha256_hex

EVENT_KEYS = {"id", "ts", "request_id", "actor", "action", "target", "outcome", "metadata"}


def only(events, **match):
    hits = [e for e in events if all(e.get(k) == v for k, v in match.items())]
    assert len(hits) == 1, f"expected one event matching {match}, got {hits}"
    return hits[0]


def test_empty_audit_log(server):
    r = server.get("/v1/audit")
    assert r.status_code == 200
    assert r.json() == {"events": [], "count": 0}


def test_agent_create_row(server):
    r = server.post("/v1/agents", json={"model": "m1"}, headers={"x-request-id": "req-create-1"})
    agent = r.json()
    events = server.audit()
    assert len(events) == 1
    e = events[0]
    assert set(e) == EVENT_KEYS
    assert isinstance(e["id"], int)
    assert isinstance(e["ts"], int)
    assert abs(e["ts"] - agent["created_at"]) < 5_000
    assert e["request_id"] == "req-create-1"
    assert e["actor"] == "ip:127.0.0.1"
    assert e["action"] == "agent.create"
    assert e["target"] == agent["agent_id"]
    assert e["outcome"] == "ok"
    assert isinstance(e["metadata"], dict)


def test_generated_request_id_is_recorded(server):
    r = server.post("/v1/agents", json={"model": "m"})
    rid = r.headers["x-request-id"]
    assert REQUEST_ID_RE.match(rid)
    assert server.audit()[0]["request_id"] == rid


def test_every_mutation_writes_a_row(server):
    a = server.create_agent()
    aid = a["agent_id"]
    server.patch(f"/v1/agents/{aid}", json={"version": 1, "name": "n"})
    server.post(f"/v1/agents/{aid}/archive")
    server.delete(f"/v1/agents/{aid}")
    env = server.create_environment()
    eid = env["environment_id"]
    server.delete(f"/v1/environments/{eid}")
    events = server.audit()
    assert [(e["action"], e["target"], e["outcome"]) for e in events] == [
        ("environment.delete", eid, "ok"),
        ("environment.create", eid, "ok"),
        ("agent.delete", aid, "ok"),
        ("agent.archive", aid, "ok"),
        ("agent.update", aid, "ok"),
        ("agent.create", aid, "ok"),
    ]
    update = only(events, action="agent.update")
    assert update["metadata"]["new_version"] == 2


def test_reads_are_not_audited(server):
    a = server.create_agent()
    e = server.create_environment()
    server.get("/v1/agents")
    server.get(f"/v1/agents/{a['agent_id']}")
    server.get(f"/v1/agents/{a['agent_id']}/versions")
    server.get("/v1/environments")
    server.get(f"/v1/environments/{e['environment_id']}")
    server.get("/v1/audit")
    server.get("/healthz")
    assert len(server.audit()) == 2


@pytest.mark.parametrize("call,action,outcome,target", [
    (lambda s: s.post("/v1/agents", json={}), "agent.create", "invalid_request", None),
    (lambda s: s.post("/v1/agents", data=b"{oops"), "agent.create", "invalid_request", None),
    (lambda s: s.patch("/v1/agents/agt_000000000000", json={"version": 1, "name": "x"}),
     "agent.update", "agent_not_found", "agt_000000000000"),
    (lambda s: s.post("/v1/agents/agt_000000000000/archive"), "agent.archive", "agent_not_found",
     "agt_000000000000"),
    (lambda s: s.delete("/v1/agents/agt_000000000000"), "agent.delete", "agent_not_found",
     "agt_000000000000"),
    (lambda s: s.post("/v1/environments", json={"name": ""}), "environment.create",
     "invalid_request", None),
    (lambda s: s.delete("/v1/environments/env_000000000000"), "environment.delete",
     "environment_not_found", "env_000000000000"),
], ids=["create-invalid", "create-malformed-json", "update-missing", "archive-missing",
        "delete-missing", "env-create-invalid", "env-delete-missing"])
def test_failures_are_audited_with_the_error_code(server, call, action, outcome, target):
    r = call(server)
    assert r.status_code >= 400
    assert r.json()["error"] == outcome
    events = server.audit()
    assert len(events) == 1, events
    e = events[0]
    assert e["action"] == action
    assert e["outcome"] == outcome
    assert e["target"] == target
    assert e["request_id"] == r.headers["x-request-id"]
    assert e["actor"] == "ip:127.0.0.1"


def test_conflicts_are_audited(server):
    a = server.create_agent()
    aid = a["agent_id"]
    r = server.patch(f"/v1/agents/{aid}", json={"version": 9, "name": "x"})
    assert r.status_code == 409
    server.post(f"/v1/agents/{aid}/archive")
    r = server.patch(f"/v1/agents/{aid}", json={"version": 1, "name": "x"})
    assert r.status_code == 409
    updates = server.audit(action="agent.update")
    assert [e["outcome"] for e in updates] == ["agent_archived", "version_conflict"]
    assert all(e["target"] == aid for e in updates)


def test_newest_first(server):
    for i in range(5):
        server.create_agent(name=str(i))
    events = server.audit()
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, reverse=True)
    ts = [e["ts"] for e in events]
    assert ts == sorted(ts, reverse=True)
    created = server.get("/v1/agents").json()["agents"]
    assert [e["target"] for e in events] == [a["agent_id"] for a in reversed(created)]


def test_actor_uses_first_forwarded_for_entry(server):
    server.post("/v1/agents", json={"model": "m"},
                headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
    assert server.audit()[0]["actor"] == "ip:203.0.113.9"


def test_actor_uses_real_ip_without_forwarded_for(server):
    server.post("/v1/agents", json={"model": "m"}, headers={"X-Real-IP": "198.51.100.4"})
    assert server.audit()[0]["actor"] == "ip:198.51.100.4"


def test_actor_for_bearer_token_when_auth_is_off(server):
    server.post("/v1/agents", json={"model": "m"}, headers={"Authorization": "Bearer abc"})
    assert server.audit()[0]["actor"] == "token:" + sha256_hex("abc")[:8]


# ---- filters ----------------------------------------------------------------------------

@pytest.fixture
def populated(server):
    """Three agents (one updated, one deleted) and one environment."""
    a = server.create_agent()
    b = server.create_agent()
    c = server.create_agent()
    server.patch(f"/v1/agents/{a['agent_id']}", json={"version": 1, "name": "x"})
    server.delete(f"/v1/agents/{b['agent_id']}")
    e = server.create_environment()
    return server, a, b, c, e


def test_filter_action_exact(populated):
    server, a, b, c, _ = populated
    events = server.audit(action="agent.create")
    assert [e["target"] for e in events] == [c["agent_id"], b["agent_id"], a["agent_id"]]
    assert server.audit(action="agent") == []  # exact, not prefix


def test_filter_action_like(populated):
    server, a, b, c, e = populated
    events = server.audit(action="agent.%")
    assert len(events) == 5
    assert {ev["action"] for ev in events} == {"agent.create", "agent.update", "agent.delete"}
    events = server.audit(action="%.create")
    assert {ev["action"] for ev in events} == {"agent.create", "environment.create"}
    assert len(events) == 4
    assert len(server.audit(action="%")) == 6


def test_filter_target(populated):
    server, a, *_ = populated
    events = server.audit(target=a["agent_id"])
    assert [e["action"] for e in events] == ["agent.update", "agent.create"]
    assert server.audit(target="agt_000000000000") == []


def test_filter_limit(populated):
    server, *_ = populated
    all_events = server.audit()
    assert len(all_events) == 6
    assert server.audit(limit=2) == all_events[:2]
    assert server.audit(limit=1000) == all_events


def test_limit_is_clamped(populated):
    server, *_ = populated
    all_events = server.audit()
    assert server.audit(limit=0) == all_events[:1]
    assert server.audit(limit=-5) == all_events[:1]
    assert server.audit(limit=999999) == all_events


def test_filter_since_until(populated):
    server, *_ = populated
    events = server.audit()
    oldest, newest = events[-1]["ts"], events[0]["ts"]
    assert server.audit(since=oldest) == events
    assert server.audit(until=newest) == events
    assert server.audit(since=newest + 1) == []
    assert server.audit(until=oldest - 1) == []
    assert server.audit(since=oldest, until=newest) == events
    mid = events[2]["ts"]
    assert server.audit(since=mid) == [e for e in events if e["ts"] >= mid]
    assert server.audit(until=mid) == [e for e in events if e["ts"] <= mid]


def test_filters_combine(populated):
    server, a, *_ = populated
    events = server.audit(action="agent.%", target=a["agent_id"], limit=1)
    assert [e["action"] for e in events] == ["agent.update"]


def test_default_limit_is_100(server):
    for _ in range(105):
        server.post("/v1/agents", json={})  # cheap rejected creates still write rows
    events = server.audit()
    assert len(events) == 100
    assert len(server.audit(limit=1000)) == 105


@pytest.mark.parametrize("param,value", [
    ("since", "yesterday"), ("since", "1.5"), ("since", ""), ("until", "abc"), ("until", "1e3"),
    ("limit", "ten"), ("limit", "2.0"),
])
def test_non_integer_params_are_400(server, param, value):
    r = server.get(f"/v1/audit?{param}={value}")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request",
                        "message": "since, until, and limit must be integers"}


def test_audit_cursor_pagination(server):
    for _ in range(5):
        server.create_agent()
    everything = server.audit()
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        r = server.get("/v1/audit", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"events", "count", "has_more", "next_after"}
        seen += body["events"]
        pages += 1
        if not body["has_more"]:
            assert body["next_after"] is None
            break
        after = body["next_after"]
        assert pages < 10
    assert seen == everything
    assert pages == 3


def test_audit_bad_cursor_is_400(server):
    for after in ("abc", "0", "-3"):
        r = server.get("/v1/audit", params={"after": after})
        assert r.status_code == 400, after
        assert r.json()["error"] == "invalid_request"
