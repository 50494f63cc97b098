"""/v1/agents: create, list, get, update, versions, archive, delete, pagination."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import AGENT_ID_RE, poll

AGENT_KEYS = {"agent_id", "model", "tools", "instructions", "permission_policy",
              "callable_agents", "max_subagent_depth", "mcp_servers", "thinking_level",
              "channels", "version", "created_at", "updated_at", "archived_at"}

FULL_BODY = {
    "model": "openai/gpt-5.5",
    "tools": ["bash", "web_search"],
    "instructions": "Be terse.",
    "permissionPolicy": {"type": "deny", "tools": ["bash"]},
    "name": "researcher",
    "thinkingLevel": "high",
    "callableAgents": ["agt_aaaaaaaaaaaa"],
    "maxSubagentDepth": 2,
    "mcpServers": {
        "fs": {"command": "npx", "args": ["-y", "@mcp/fs"], "env": {"DEBUG": "1", "N": 3,
                                                                    "ON": True},
               "cwd": "/work"},
        "remote": {"url": "https://mcp.example.com/sse",
                   "headers": {"Authorization": "Bearer x"}},
    },
    "quota": {"maxCostUsdPerSession": 1.5, "maxTokensPerSession": 100000,
              "maxWallDurationMs": 60000},
    "channels": {"telegram": {"enabled": True}},
}


def patch(server, agent, **fields):
    body = {"version": agent["version"], **fields}
    return server.patch(f"/v1/agents/{agent['agent_id']}", json=body)


# ---- create -----------------------------------------------------------------------------

def test_create_with_defaults(server):
    before = int(time.time() * 1000)
    r = server.post("/v1/agents", json={"model": "anthropic/claude-opus-4.7"})
    after = int(time.time() * 1000)
    assert r.status_code == 200  # creates return 200, never 201
    assert r.headers["content-type"].startswith("application/json")
    a = r.json()
    assert set(a) == AGENT_KEYS  # name and quota are omitted when unset
    assert AGENT_ID_RE.match(a["agent_id"])
    assert a["model"] == "anthropic/claude-opus-4.7"
    assert a["tools"] == []
    assert a["instructions"] == ""
    assert a["permission_policy"] == {"type": "always_allow"}
    assert a["callable_agents"] == []
    assert a["max_subagent_depth"] == 0
    assert a["mcp_servers"] == {}
    assert a["thinking_level"] == "off"
    assert a["channels"] == {"telegram": {"enabled": False}}
    assert a["version"] == 1
    assert isinstance(a["created_at"], int)
    assert before - 1000 <= a["created_at"] <= after + 1000
    assert a["updated_at"] == a["created_at"]
    assert a["archived_at"] is None


def test_create_echoes_every_field(server):
    a = server.create_agent(**FULL_BODY)
    assert set(a) == AGENT_KEYS | {"name", "quota"}
    assert a["model"] == FULL_BODY["model"]
    assert a["tools"] == FULL_BODY["tools"]
    assert a["instructions"] == FULL_BODY["instructions"]
    assert a["permission_policy"] == {"type": "deny", "tools": ["bash"]}
    assert a["name"] == "researcher"
    assert a["thinking_level"] == "high"
    assert a["callable_agents"] == ["agt_aaaaaaaaaaaa"]
    assert a["max_subagent_depth"] == 2
    assert a["mcp_servers"] == FULL_BODY["mcpServers"]  # passthrough: keys keep their case
    assert a["quota"] == FULL_BODY["quota"]
    assert a["channels"] == {"telegram": {"enabled": True}}
    # GET returns exactly what create returned.
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == a


@pytest.mark.parametrize("level", ["off", "low", "medium", "high", "xhigh"])
def test_create_accepts_each_thinking_level(server, level):
    assert server.create_agent(thinkingLevel=level)["thinking_level"] == level


@pytest.mark.parametrize("policy,expected", [
    ({"type": "always_allow"}, {"type": "always_allow"}),
    ({"type": "always_ask"}, {"type": "always_ask"}),
    ({"type": "always_ask", "tools": ["bash"]}, {"type": "always_ask", "tools": ["bash"]}),
    ({"type": "deny", "tools": ["bash", "fetch"]}, {"type": "deny", "tools": ["bash", "fetch"]}),
])
def test_create_permission_policies(server, policy, expected):
    assert server.create_agent(permissionPolicy=policy)["permission_policy"] == expected


def test_create_ignores_unknown_fields(server):
    a = server.create_agent(bogus=1, agent_id="agt_chosenbyme0")
    assert "bogus" not in a
    assert a["agent_id"] != "agt_chosenbyme0"
    assert AGENT_ID_RE.match(a["agent_id"])


def test_create_generates_distinct_ids(server):
    ids = {server.create_agent()["agent_id"] for _ in range(20)}
    assert len(ids) == 20
    assert all(AGENT_ID_RE.match(i) for i in ids)


def test_create_preserves_unicode(server):
    a = server.create_agent(name="Ägent 🦀", instructions="日本語\n\t\"quoted\"")
    got = server.get(f"/v1/agents/{a['agent_id']}").json()
    assert got["name"] == "Ägent 🦀"
    assert got["instructions"] == "日本語\n\t\"quoted\""


# ---- list / get -------------------------------------------------------------------------

def test_list_empty(server):
    r = server.get("/v1/agents")
    assert r.status_code == 200
    assert r.json() == {"agents": [], "count": 0}


def test_list_in_creation_order(server):
    created = [server.create_agent(name=f"a{i}") for i in range(5)]
    body = server.get("/v1/agents").json()
    assert set(body) == {"agents", "count"}  # no pagination fields unless asked
    assert body["count"] == 5
    assert body["agents"] == created


def test_get_agent(server):
    a = server.create_agent(name="x")
    r = server.get(f"/v1/agents/{a['agent_id']}")
    assert r.status_code == 200
    assert r.json() == a


@pytest.mark.parametrize("agent_id", ["agt_000000000000", "agt_short", "nope", "env_000000000000",
                                      "AGT_000000000000"])
def test_get_unknown_agent_is_404(server, agent_id):
    r = server.get(f"/v1/agents/{agent_id}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "agent_not_found"


# ---- update -----------------------------------------------------------------------------

def test_patch_requires_version(server):
    a = server.create_agent()
    r = server.patch(f"/v1/agents/{a['agent_id']}", json={"model": "other"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_request"
    assert "version" in body["message"]
    assert body["details"]["version"]["_errors"]
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == a


def test_patch_updates_and_bumps_version(server):
    a = server.create_agent()
    r = patch(server, a, model="openai/gpt-5.5", tools=["bash"], name="renamed",
              thinkingLevel="low", maxSubagentDepth=1)
    assert r.status_code == 200
    b = r.json()
    assert b["agent_id"] == a["agent_id"]
    assert b["version"] == 2
    assert b["model"] == "openai/gpt-5.5"
    assert b["tools"] == ["bash"]
    assert b["name"] == "renamed"
    assert b["thinking_level"] == "low"
    assert b["max_subagent_depth"] == 1
    assert b["instructions"] == a["instructions"]  # untouched fields are kept
    assert b["created_at"] == a["created_at"]
    assert b["updated_at"] >= a["updated_at"]
    assert b["archived_at"] is None
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == b


def test_patch_every_field(server):
    a = server.create_agent()
    fields = {k: v for k, v in FULL_BODY.items()}
    r = patch(server, a, **fields)
    assert r.status_code == 200, r.text
    b = r.json()
    expected = server.create_agent(**FULL_BODY)
    for key in AGENT_KEYS | {"name", "quota"}:
        if key in ("agent_id", "version", "created_at", "updated_at"):
            continue
        assert b[key] == expected[key], key


def test_version_conflict(server):
    a = server.create_agent()
    assert patch(server, a, name="v2").status_code == 200
    r = server.patch(f"/v1/agents/{a['agent_id']}", json={"version": 1, "name": "stale"})
    assert r.status_code == 409
    assert r.json() == {"error": "version_conflict", "message": "expected version 2, got 1"}
    r = server.patch(f"/v1/agents/{a['agent_id']}", json={"version": 7, "name": "future"})
    assert r.status_code == 409
    assert r.json() == {"error": "version_conflict", "message": "expected version 2, got 7"}
    assert server.get(f"/v1/agents/{a['agent_id']}").json()["name"] == "v2"


def test_noop_patch_returns_unchanged_agent(server):
    a = server.create_agent(name="same", tools=["bash"])
    r = patch(server, a, name="same", tools=["bash"], model=a["model"])
    assert r.status_code == 200
    assert r.json() == a
    r = patch(server, a)  # only the version
    assert r.status_code == 200
    assert r.json() == a
    versions = server.get(f"/v1/agents/{a['agent_id']}/versions").json()
    assert versions["count"] == 1


def test_patch_null_resets_nullable_fields(server):
    a = server.create_agent(**FULL_BODY)
    r = patch(server, a, tools=None, instructions=None, name=None, callableAgents=None,
              mcpServers=None, quota=None)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["version"] == 2
    assert b["tools"] == []
    assert b["instructions"] == ""
    assert "name" not in b
    assert b["callable_agents"] == []
    assert b["mcp_servers"] == {}
    assert "quota" not in b
    assert set(b) == AGENT_KEYS
    # Fields not mentioned are kept.
    assert b["model"] == FULL_BODY["model"]
    assert b["permission_policy"] == {"type": "deny", "tools": ["bash"]}
    assert b["thinking_level"] == "high"


@pytest.mark.parametrize("field", ["model", "permissionPolicy", "thinkingLevel",
                                   "maxSubagentDepth", "channels"])
def test_patch_null_is_rejected_for_non_nullable_fields(server, field):
    a = server.create_agent()
    r = patch(server, a, **{field: None})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_request"
    assert field in body["message"]
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == a


def test_patch_unknown_agent_is_404(server):
    r = server.patch("/v1/agents/agt_000000000000", json={"version": 1, "name": "x"})
    assert r.status_code == 404
    assert r.json()["error"] == "agent_not_found"


def wait_past(ms):
    """Returns once the wall clock (shared with the server) is past `ms`."""
    poll(lambda: time.time() * 1000 > ms + 1, timeout=2, message=f"clock to pass {ms}")


def test_versions_list_ascending(server):
    a = server.create_agent(name="v1")
    wait_past(a["updated_at"])
    b = patch(server, a, name="v2").json()
    wait_past(b["updated_at"])
    c = patch(server, b, name="v3", tools=["bash"]).json()
    assert a["created_at"] < b["updated_at"] < c["updated_at"]
    r = server.get(f"/v1/agents/{a['agent_id']}/versions")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"agent_id", "versions", "count"}
    assert body["agent_id"] == a["agent_id"]
    assert body["count"] == 3
    vs = body["versions"]
    assert [v["version"] for v in vs] == [1, 2, 3]
    assert [v["name"] for v in vs] == ["v1", "v2", "v3"]
    assert vs[0] == a
    assert vs[2]["tools"] == ["bash"]
    for v in vs:
        assert v["agent_id"] == a["agent_id"]
        assert v["archived_at"] is None
    # Seed: each version row reports its own creation time as both created_at and updated_at.
    for v, made_at in zip(vs, [a["created_at"], b["updated_at"], c["updated_at"]]):
        assert (v["version"], v["created_at"], v["updated_at"]) == (v["version"], made_at,
                                                                     made_at)


def test_versions_of_unknown_agent_is_404(server):
    r = server.get("/v1/agents/agt_000000000000/versions")
    assert r.status_code == 404
    assert r.json()["error"] == "agent_not_found"


# ---- archive ----------------------------------------------------------------------------

def test_archive_sets_archived_at(server):
    a = server.create_agent()
    r = server.post(f"/v1/agents/{a['agent_id']}/archive")
    assert r.status_code == 200
    b = r.json()
    assert isinstance(b["archived_at"], int)
    assert b["archived_at"] >= a["created_at"]
    assert b["updated_at"] == b["archived_at"]
    assert b["version"] == a["version"]
    got = server.get(f"/v1/agents/{a['agent_id']}").json()
    assert got == b
    # Archived agents are still listed, and their versions are still readable.
    assert server.get("/v1/agents").json()["agents"] == [b]
    vs = server.get(f"/v1/agents/{a['agent_id']}/versions").json()["versions"]
    assert [v["archived_at"] for v in vs] == [None]


def test_archive_twice_keeps_the_agent_archived(server):
    a = server.create_agent()
    first = server.post(f"/v1/agents/{a['agent_id']}/archive").json()
    r = server.post(f"/v1/agents/{a['agent_id']}/archive")
    assert r.status_code == 200
    assert r.json()["archived_at"] is not None
    assert r.json()["archived_at"] >= first["archived_at"]


def test_patch_after_archive_is_409(server):
    a = server.create_agent()
    server.post(f"/v1/agents/{a['agent_id']}/archive")
    r = patch(server, a, name="nope")
    assert r.status_code == 409
    assert r.json() == {"error": "agent_archived", "message": "archived agents cannot be updated"}


def test_archive_unknown_agent_is_404(server):
    r = server.post("/v1/agents/agt_000000000000/archive")
    assert r.status_code == 404
    assert r.json()["error"] == "agent_not_found"


# ---- delete -----------------------------------------------------------------------------

def test_delete_agent(server):
    a = server.create_agent()
    keep = server.create_agent()
    patch(server, a, name="v2")
    r = server.delete(f"/v1/agents/{a['agent_id']}")
    assert r.status_code == 200
    assert r.json() == {"deleted": True}
    r = server.get(f"/v1/agents/{a['agent_id']}")
    assert r.status_code == 404
    assert r.json()["error"] == "agent_not_found"
    assert server.get(f"/v1/agents/{a['agent_id']}/versions").status_code == 404
    r = server.delete(f"/v1/agents/{a['agent_id']}")
    assert r.status_code == 404
    assert r.json()["error"] == "agent_not_found"
    assert server.get("/v1/agents").json() == {"agents": [keep], "count": 1}


def test_delete_archived_agent(server):
    a = server.create_agent()
    server.post(f"/v1/agents/{a['agent_id']}/archive")
    assert server.delete(f"/v1/agents/{a['agent_id']}").json() == {"deleted": True}
    assert server.get(f"/v1/agents/{a['agent_id']}").status_code == 404


# ---- pagination -------------------------------------------------------------------------

def test_cursor_pagination_walks_every_page(server):
    created = [server.create_agent(name=f"a{i}")["agent_id"] for i in range(5)]
    seen = []
    after = None
    pages = 0
    while True:
        params = {"limit": 2}
        if after:
            params["after"] = after
        r = server.get("/v1/agents", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"agents", "count", "has_more", "next_after"}
        assert body["count"] == len(body["agents"]) <= 2
        seen += [a["agent_id"] for a in body["agents"]]
        pages += 1
        if not body["has_more"]:
            assert body["next_after"] is None
            break
        assert body["next_after"] == body["agents"][-1]["agent_id"]
        after = body["next_after"]
        assert pages < 10
    assert seen == created
    assert pages == 3


def test_pagination_exact_multiple(server):
    created = [server.create_agent()["agent_id"] for _ in range(4)]
    first = server.get("/v1/agents", params={"limit": 2}).json()
    second = server.get("/v1/agents", params={"limit": 2, "after": first["next_after"]}).json()
    assert [a["agent_id"] for a in first["agents"] + second["agents"]] == created
    assert second["has_more"] is False
    assert second["next_after"] is None


def test_pagination_limit_larger_than_list(server):
    a = server.create_agent()
    body = server.get("/v1/agents", params={"limit": 1000}).json()
    assert body == {"agents": [a], "count": 1, "has_more": False, "next_after": None}


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "abc", "1.5", "", "2x"])
def test_pagination_bad_limit_is_400(server, limit):
    server.create_agent()
    r = server.get(f"/v1/agents?limit={limit}")
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_request"
    assert "limit" in body["message"]


@pytest.mark.parametrize("after", ["agt_000000000000", "garbage", "x" * 65])
def test_pagination_unknown_cursor_is_400(server, after):
    server.create_agent()
    r = server.get("/v1/agents", params={"limit": 2, "after": after})
    assert r.status_code == 400
    assert "after" in r.json()["message"]



def test_stale_version_noop_patch_is_409(server):
    a = server.create_agent(name="x")
    b = patch(server, a, name="y").json()
    r = server.patch(f"/v1/agents/{a['agent_id']}", json={"version": 1, "name": "y"})
    assert r.status_code == 409
    assert r.json()["error"] == "version_conflict"
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == b


def test_percent_encoded_id_is_decoded(server):
    a = server.create_agent()
    aid = a["agent_id"]
    encoded = aid[:4] + "%" + format(ord(aid[4]), "02x") + aid[5:]
    status, _, body = server.raw("GET", f"/v1/agents/{encoded}")
    assert status == 200
    assert json.loads(body) == a


# ---- concurrency ------------------------------------------------------------------------

def test_concurrent_creates(server):
    def create(i):
        with requests.Session() as s:
            r = s.post(server.url("/v1/agents"), json={"model": "m", "name": f"c{i}"}, timeout=10)
            return r.status_code, r.json().get("agent_id")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(create, range(64)))
    assert {status for status, _ in results} == {200}
    ids = [aid for _, aid in results]
    assert len(set(ids)) == 64
    listed = server.get("/v1/agents").json()
    assert listed["count"] == 64
    assert {a["agent_id"] for a in listed["agents"]} == set(ids)
    assert len(server.audit(action="agent.create", limit=1000)) == 64


def test_concurrent_patches_of_one_version_have_one_winner(server):
    a = server.create_agent()
    barrier = threading.Barrier(12)

    def update(i):
        with requests.Session() as s:
            barrier.wait(timeout=10)
            r = s.patch(server.url(f"/v1/agents/{a['agent_id']}"),
                        json={"version": 1, "name": f"writer-{i}"}, timeout=10)
            return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(update, range(12)))
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1, results
    assert all(body == {"error": "version_conflict", "message": "expected version 2, got 1"}
               for body in losers), losers
    final = server.get(f"/v1/agents/{a['agent_id']}").json()
    assert final == winners[0]
    assert final["version"] == 2
    assert server.get(f"/v1/agents/{a['agent_id']}/versions").json()["count"] == 2


def test_patch_replaces_objects_wholesale(server):
    a = server.create_agent(mcpServers={"a": {"command": "x"}}, quota={"maxTokensPerSession": 5},
                            channels={"telegram": {"enabled": True}})
    r = patch(server, a, mcpServers={"b": {"url": "https://b.example"}},
              quota={"maxWallDurationMs": 10}, channels={"slack": {"enabled": False}})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["mcp_servers"] == {"b": {"url": "https://b.example"}}
    assert b["quota"] == {"maxWallDurationMs": 10}
    assert b["channels"] == {"slack": {"enabled": False}}


def test_empty_quota_is_kept(server):
    a = server.create_agent(quota={})
    assert a["quota"] == {}
    assert server.get(f"/v1/agents/{a['agent_id']}").json()["quota"] == {}
