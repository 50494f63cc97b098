"""Request validation for POST and PATCH /v1/agents.

Every bad body gets 400 {"error":"invalid_request","message":<names the field>,
"details":<zod .format()-like tree>} and creates nothing.
"""

import pytest

from conftest import details_node

M = {"model": "m"}

# (id, body, field path named in message and details)
CREATE_CASES = [
    ("missing-model", {}, "model"),
    ("empty-model", {"model": ""}, "model"),
    ("null-model", {"model": None}, "model"),
    ("model-number", {"model": 5}, "model"),
    ("model-array", {"model": ["m"]}, "model"),
    ("tools-string", {**M, "tools": "bash"}, "tools"),
    ("tools-object", {**M, "tools": {"a": 1}}, "tools"),
    ("tools-item-number", {**M, "tools": ["ok", 1]}, "tools.1"),
    ("tools-item-empty", {**M, "tools": [""]}, "tools.0"),
    ("instructions-number", {**M, "instructions": 5}, "instructions"),
    ("instructions-bool", {**M, "instructions": True}, "instructions"),
    ("name-number", {**M, "name": 5}, "name"),
    ("thinking-unknown", {**M, "thinkingLevel": "extreme"}, "thinkingLevel"),
    ("thinking-uppercase", {**M, "thinkingLevel": "HIGH"}, "thinkingLevel"),
    ("thinking-number", {**M, "thinkingLevel": 3}, "thinkingLevel"),
    ("policy-string", {**M, "permissionPolicy": "always_allow"}, "permissionPolicy"),
    ("policy-no-type", {**M, "permissionPolicy": {}}, "permissionPolicy.type"),
    ("policy-bad-type", {**M, "permissionPolicy": {"type": "sometimes"}}, "permissionPolicy.type"),
    ("policy-deny-no-tools", {**M, "permissionPolicy": {"type": "deny"}}, "permissionPolicy.tools"),
    ("policy-deny-empty-tools", {**M, "permissionPolicy": {"type": "deny", "tools": []}},
     "permissionPolicy.tools"),
    ("policy-tools-not-array", {**M, "permissionPolicy": {"type": "always_ask", "tools": "bash"}},
     "permissionPolicy.tools"),
    ("callable-string", {**M, "callableAgents": "agt_x"}, "callableAgents"),
    ("callable-item-number", {**M, "callableAgents": [1]}, "callableAgents.0"),
    ("depth-negative", {**M, "maxSubagentDepth": -1}, "maxSubagentDepth"),
    ("depth-fraction", {**M, "maxSubagentDepth": 1.5}, "maxSubagentDepth"),
    ("depth-string", {**M, "maxSubagentDepth": "2"}, "maxSubagentDepth"),
    ("mcp-not-object", {**M, "mcpServers": []}, "mcpServers"),
    ("mcp-server-not-object", {**M, "mcpServers": {"s": "npx"}}, "mcpServers.s"),
    ("mcp-url-not-url", {**M, "mcpServers": {"s": {"url": "not a url"}}}, "mcpServers.s.url"),
    ("mcp-url-no-scheme", {**M, "mcpServers": {"s": {"url": "example.com/sse"}}},
     "mcpServers.s.url"),
    ("mcp-url-number", {**M, "mcpServers": {"s": {"url": 5}}}, "mcpServers.s.url"),
    ("mcp-command-number", {**M, "mcpServers": {"s": {"command": 1}}}, "mcpServers.s.command"),
    ("mcp-args-string", {**M, "mcpServers": {"s": {"args": "-y"}}}, "mcpServers.s.args"),
    ("mcp-env-array-value", {**M, "mcpServers": {"s": {"env": {"A": [1]}}}},
     "mcpServers.s.env.A"),
    ("mcp-headers-number", {**M, "mcpServers": {"s": {"headers": {"X": 1}}}},
     "mcpServers.s.headers.X"),
    ("quota-not-object", {**M, "quota": 5}, "quota"),
    ("quota-unknown-key", {**M, "quota": {"maxCost": 1}}, "quota.maxCost"),
    ("quota-cost-zero", {**M, "quota": {"maxCostUsdPerSession": 0}}, "quota.maxCostUsdPerSession"),
    ("quota-cost-negative", {**M, "quota": {"maxCostUsdPerSession": -1}},
     "quota.maxCostUsdPerSession"),
    ("quota-cost-string", {**M, "quota": {"maxCostUsdPerSession": "1"}},
     "quota.maxCostUsdPerSession"),
    ("quota-tokens-zero", {**M, "quota": {"maxTokensPerSession": 0}}, "quota.maxTokensPerSession"),
    ("quota-tokens-fraction", {**M, "quota": {"maxTokensPerSession": 1.5}},
     "quota.maxTokensPerSession"),
    ("quota-wall-negative", {**M, "quota": {"maxWallDurationMs": -5}}, "quota.maxWallDurationMs"),
    ("channels-string", {**M, "channels": "telegram"}, "channels"),
    ("channels-enabled-string", {**M, "channels": {"telegram": {"enabled": "yes"}}},
     "channels.telegram.enabled"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in CREATE_CASES],
                         ids=[c[0] for c in CREATE_CASES])
def test_create_rejects_bad_body(server, body, field):
    r = server.post("/v1/agents", json=body)
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error"] == "invalid_request"
    assert field in err["message"], err["message"]
    node = details_node(err["details"], field)
    assert node["_errors"], f"no error recorded at {field}: {err['details']}"
    assert err["details"]["_errors"] == []
    assert server.agent_count() == 0


def test_missing_model_matches_the_seed_shape(server):
    r = server.post("/v1/agents", json={})
    assert r.status_code == 400
    err = r.json()
    assert set(err) == {"error", "message", "details"}
    assert set(err["details"]) == {"_errors", "model"}
    assert err["details"]["_errors"] == []
    assert set(err["details"]["model"]) == {"_errors"}
    assert len(err["details"]["model"]["_errors"]) == 1
    assert isinstance(err["details"]["model"]["_errors"][0], str)


def test_every_bad_field_is_reported(server):
    r = server.post("/v1/agents", json={"model": "", "thinkingLevel": "x", "tools": 5,
                                         "quota": {"bogus": 1}})
    assert r.status_code == 400
    err = r.json()
    for field in ("model", "thinkingLevel", "tools", "quota.bogus"):
        assert field in err["message"], field
        assert details_node(err["details"], field)["_errors"]


@pytest.mark.parametrize("raw", [b"[]", b"[{\"model\":\"m\"}]", b"\"model\"", b"5", b"null",
                                 b"true"])
def test_create_rejects_non_object_body(server, raw):
    r = server.post("/v1/agents", data=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()
    assert err["error"] == "invalid_request"
    assert err["details"]["_errors"], err
    assert server.agent_count() == 0


@pytest.mark.parametrize("body", [
    {"model": "m", "maxSubagentDepth": 0},
    {"model": "m", "maxSubagentDepth": 3},
    {"model": "m", "quota": {}},
    {"model": "m", "quota": {"maxCostUsdPerSession": 0.01}},
    {"model": "m", "mcpServers": {"s": {"url": "http://localhost:3000/mcp"}}},
    {"model": "m", "mcpServers": {"s": {"command": "x", "env": {"A": "1", "B": 2, "C": False}}}},
    {"model": "m", "name": ""},
    {"model": "m", "instructions": ""},
    {"model": "m", "permissionPolicy": {"type": "always_ask", "tools": []}},
])
def test_create_accepts_boundary_values(server, body):
    r = server.post("/v1/agents", json=body)
    assert r.status_code == 200, r.text


PATCH_CASES = [
    ("missing-version", {"name": "x"}, "version"),
    ("version-zero", {"version": 0}, "version"),
    ("version-string", {"version": "1"}, "version"),
    ("version-fraction", {"version": 1.5}, "version"),
    ("version-null", {"version": None}, "version"),
    ("model-empty", {"version": 1, "model": ""}, "model"),
    ("thinking-unknown", {"version": 1, "thinkingLevel": "max"}, "thinkingLevel"),
    ("policy-deny-no-tools", {"version": 1, "permissionPolicy": {"type": "deny"}},
     "permissionPolicy.tools"),
    ("quota-strict", {"version": 1, "quota": {"maxTokens": 5}}, "quota.maxTokens"),
    ("mcp-url", {"version": 1, "mcpServers": {"s": {"url": "nope"}}}, "mcpServers.s.url"),
    ("tools-string", {"version": 1, "tools": "bash"}, "tools"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in PATCH_CASES],
                         ids=[c[0] for c in PATCH_CASES])
def test_patch_rejects_bad_body(server, body, field):
    a = server.create_agent()
    r = server.patch(f"/v1/agents/{a['agent_id']}", json=body)
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error"] == "invalid_request"
    assert field in err["message"], err["message"]
    assert details_node(err["details"], field)["_errors"]
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == a


def test_patch_bad_body_is_400_even_for_unknown_agent(server):
    r = server.patch("/v1/agents/agt_000000000000", json={"name": "x"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_patch_non_object_body(server):
    a = server.create_agent()
    r = server.patch(f"/v1/agents/{a['agent_id']}", data=b"[1]",
                     headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
