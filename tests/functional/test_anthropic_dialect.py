"""The Anthropic Managed Agents dialect under /anthropic/v1 at the wire level (issue 6), with plain
`requests`: what the official SDK tests (test_anthropic_sdk.py) do not pin down.

- transport: x-api-key and Bearer auth, the error envelope and its headers on every kind of
  error, `?beta=true`, both API versions, the beta list; native routes keep the native shape;
- RFC 3339 timestamps and prefixed ids;
- lists: `{data, next_page[, prev_page]}`, limit / page / order / include_archived /
  created_at bounds, the sessions filters, keyset paging under concurrent deletes;
- agents (validation, model object, toolsets, versions and conflicts, archive),
  environments (unique names, networking and packages, delete), sessions (pinned versions,
  create errors, update, archive, delete, usage) and vaults (secrets never leave the server).

Events, the live stream, failed turns and restarts are in test_anthropic_events.py, which
imports the helpers below.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import PincerServer, poll, unique_key
from test_sandbox_helpers import reap_sandboxes

TOKEN = "tok-" + os.urandom(8).hex()
BETA = "managed-agents-2026-04-01"
HEADERS = {"x-api-key": TOKEN, "anthropic-version": "2023-06-01", "anthropic-beta": BETA}
MODEL = "claude-sonnet-4-6"
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
REQUEST_ID_RE = re.compile(r"^req_[0-9a-f]{16}$")


def parse_time(ts: str) -> datetime:
    assert isinstance(ts, str) and TIME_RE.match(ts), ts
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def fmt_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{dt.microsecond // 1000:03d}Z"


def newest_first(items: list[dict]) -> list[str]:
    """Ids in the lists' default order: created_at descending, ties by id descending."""
    return [x["id"] for x in sorted(items, key=lambda x: (parse_time(x["created_at"]), x["id"]),
                                    reverse=True)]


class Dialect:
    """A client of one server's /anthropic/v1 surface (SDK-like headers by default)."""

    def __init__(self, server: PincerServer, mock=None):
        self.server = server
        self.mock = mock
        self.http = requests.Session()

    def request(self, method: str, path: str, headers: dict | None = None,
                **kw) -> requests.Response:
        h = dict(HEADERS)
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.server.url("/anthropic/v1" + path), headers=h, **kw)

    def ok(self, method: str, path: str, **kw) -> Any:
        r = self.request(method, path, **kw)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        assert REQUEST_ID_RE.match(r.headers.get("request-id", "")), r.headers
        assert r.headers["content-type"].startswith("application/json"), r.headers
        return r.json()

    def err(self, method: str, path: str, status: int, error_type: str | None = None,
            **kw) -> dict:
        """Asserts the dialect's error envelope; returns the `error` object."""
        r = self.request(method, path, **kw)
        return check_envelope(r, status, error_type)

    def get(self, path: str, **kw) -> Any:
        return self.ok("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> Any:
        return self.ok("POST", path, json=body if body is not None else {}, **kw)

    def native(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.server.url(path),
                                 headers={"authorization": "Bearer " + TOKEN}, **kw)

    # ---- resources ------------------------------------------------------------------

    def agent(self, key: str | None = None, **body) -> dict:
        body.setdefault("name", "agent-" + unique_key())
        body.setdefault("model", MODEL)
        if key is not None:
            body.setdefault("system", f"You are a dialect test agent. [mock:{key}]")
        return self.post("/agents", body)

    def environment(self, **body) -> dict:
        body.setdefault("name", "env-" + unique_key())
        return self.post("/environments", body)

    def session(self, agent: dict | str, env: dict | None = None, **body) -> dict:
        if env is None:
            env = self.environment()
        is_agent_object = isinstance(agent, dict) and "name" in agent
        body.setdefault("agent", agent["id"] if is_agent_object else agent)
        body.setdefault("environment_id", env["id"])
        return self.post("/sessions", body)

    def vault(self, **body) -> dict:
        body.setdefault("display_name", "vault-" + unique_key())
        return self.post("/vaults", body)

    # ---- lists and events -----------------------------------------------------------

    def list_all(self, path: str, **params) -> list[dict]:
        """Every item of a list, following next_page (asserting each page's size)."""
        out: list[dict] = []
        page = None
        for _ in range(1000):
            q = dict(params)
            if page:
                q["page"] = page
            body = self.get(path, params=q)
            if "limit" in params:
                assert len(body["data"]) <= int(params["limit"]), body
            out += body["data"]
            page = body["next_page"]
            if not page:
                return out
        raise AssertionError("paging never ended")

    def events(self, sid: str, **params) -> list[dict]:
        params.setdefault("limit", 1000)
        return self.list_all(f"/sessions/{sid}/events", **params)

    def send(self, sid: str, *events: dict) -> list[dict]:
        return self.post(f"/sessions/{sid}/events", {"events": list(events)})["data"]

    def message(self, sid: str, text: str = "hi") -> dict:
        (echo,) = self.send(sid, {"type": "user.message",
                                  "content": [{"type": "text", "text": text}]})
        return echo

    def wait_idle(self, sid: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
        """Waits until the log holds `count` session.status_idle events; returns the log."""
        def check():
            evs = self.events(sid)
            return evs if sum(e["type"] == "session.status_idle" for e in evs) >= count else None
        return poll(check, timeout=timeout, message=f"{count} session.status_idle event(s) in {sid}")

    def wait_event(self, sid: str, pred, timeout: float = 15.0, message: str = "an event") -> dict:
        def check():
            return next((e for e in self.events(sid) if pred(e)), None)
        return poll(check, timeout=timeout, message=message)

    def llm_bodies(self, key: str) -> list[dict]:
        return [r["body"] for r in self.mock.requests(key)]


def check_envelope(r: requests.Response, status: int, error_type: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"type", "error", "request_id"}, body
    assert body["type"] == "error"
    assert REQUEST_ID_RE.match(body["request_id"]), body
    assert r.headers["request-id"] == body["request_id"], (r.headers, body)
    assert r.headers["x-should-retry"] == ("true" if status >= 500 or status in (408, 429) else "false")
    err = body["error"]
    assert isinstance(err["message"], str) and err["message"], err
    if error_type is not None:
        assert err["type"] == error_type, err
    return err


@pytest.fixture
def dialect(llm_server, mock_llm):
    """Factory: dialect(**env) -> a Dialect client of a new token-protected server."""
    started: list[PincerServer] = []

    def factory(data_dir: str | None = None, **env) -> Dialect:
        env.setdefault("PINCER_API_TOKEN", TOKEN)
        s = llm_server(data_dir=data_dir, **env)
        started.append(s)
        return Dialect(s, mock_llm)

    yield factory
    for s in started:  # no test here runs a sandbox; this only guards against a leak
        s.kill()
        reap_sandboxes(s.data_dir)


@pytest.fixture
def api(dialect) -> Dialect:
    return dialect()


# ==== transport ================================================================================

def test_both_auth_headers_work_and_a_bad_key_gets_the_401_envelope(api):
    for headers in ({"x-api-key": TOKEN},
                    {"x-api-key": None, "authorization": "Bearer " + TOKEN}):
        body = api.ok("GET", "/agents", headers=headers)
        assert body == {"data": [], "next_page": None}

    for headers in ({"x-api-key": "wrong"}, {"x-api-key": None},
                    {"x-api-key": None, "authorization": "Bearer wrong"},
                    {"x-api-key": ""}):
        r = api.request("GET", "/agents", headers=headers)
        check_envelope(r, 401, "authentication_error")

    r = api.request("POST", "/agents", headers={"x-api-key": "wrong"},
                    json={"name": "n", "model": MODEL})
    check_envelope(r, 401, "authentication_error")
    assert api.get("/agents")["data"] == [], "an unauthenticated create went through"


def test_versions_beta_list_and_beta_query_are_accepted(api):
    for version in ("2023-06-01", "2026-10-21"):
        a = api.post("/agents?beta=true", {"name": "v-" + version, "model": MODEL},
                     headers={"anthropic-version": version,
                              "anthropic-beta": f"files-api-2025-04-14,{BETA}, skills-2025-10-02"})
        assert a["name"] == "v-" + version
        assert api.get(f"/agents/{a['id']}?beta=true", headers={"anthropic-version": version})["id"] == a["id"]
    listed = api.get("/agents", params={"beta": "true"}, headers={"anthropic-beta": None,
                                                                 "anthropic-version": None})
    assert len(listed["data"]) == 2


def test_every_error_kind_has_the_envelope_and_matching_request_id(api):
    err = api.err("GET", "/agents/agt_000000000000", 404, "not_found_error")
    assert err["details"]["error_code"] == "agent_not_found"
    api.err("GET", "/nothing/here", 404, "not_found_error")
    api.err("GET", "", 404, "not_found_error")
    r = api.http.get(api.server.url("/anthropic"), headers=HEADERS, timeout=10)
    check_envelope(r, 404, "not_found_error")
    err = api.err("DELETE", "/agents", 405)
    assert err["type"] == "invalid_request_error"
    err = api.err("POST", "/agents", 400, "invalid_request_error", data=b"{not json",
                  headers={"content-type": "application/json"})
    # Success responses carry a request-id too, distinct per request.
    ids = {api.request("GET", "/agents").headers["request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(REQUEST_ID_RE.match(i) for i in ids)


def test_native_routes_keep_the_native_error_shape(api):
    r = api.native("GET", "/v1/agents/agt_000000000000")
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "agent_not_found" and "type" not in body and "request_id" not in body
    assert "x-should-retry" not in r.headers
    r = api.http.get(api.server.url("/v1/agents"), timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized", r.text
    assert "x-should-retry" not in r.headers


# ==== timestamps and ids =======================================================================

def test_timestamps_are_rfc3339_utc_and_ids_are_prefixed(api):
    before = datetime.now(timezone.utc)
    agent = api.agent()
    env = api.environment()
    sess = api.session(agent, env)
    vault = api.vault()
    cred = api.post(f"/vaults/{vault['id']}/credentials",
                    {"auth": {"type": "static_bearer", "mcp_server_url": "https://mcp.example.com/x",
                              "token": "t-" + unique_key()}})
    for obj, type_, prefix in ((agent, "agent", "agt_"), (env, "environment", "env_"),
                               (sess, "session", "ses_"), (vault, "vault", "vlt_"),
                               (cred, "vault_credential", "vcrd_")):
        assert obj["type"] == type_
        assert isinstance(obj["id"], str) and obj["id"].startswith(prefix), obj
        assert re.fullmatch(r"[a-z]+_[a-z0-9]+", obj["id"]), obj["id"]
        for field in ("created_at", "updated_at"):
            t = parse_time(obj[field])
            assert abs((t - before).total_seconds()) < 60, (field, obj[field])
        assert obj["archived_at"] is None
    assert sess["agent"]["id"] == agent["id"] and sess["agent"]["version"] == 1
    archived = api.post(f"/agents/{agent['id']}/archive")
    assert parse_time(archived["archived_at"]) >= parse_time(agent["created_at"])


# ==== lists ====================================================================================

LISTS = ["/agents", "/environments", "/sessions", "/vaults"]


def test_list_parameters_are_validated(api):
    agent = api.agent()
    sess = api.session(agent)
    vault = api.vault()
    api.post(f"/vaults/{vault['id']}/credentials", {"auth": {
        "type": "static_bearer", "mcp_server_url": "https://mcp.example.com/a", "token": "t"}})
    paths = LISTS + [f"/agents/{agent['id']}/versions", f"/vaults/{vault['id']}/credentials"]
    for path in paths:
        for limit in ("0", "101", "x", "", "-1", "2.5"):
            err = api.err("GET", path, 400, "invalid_request_error", params={"limit": limit})
            assert "limit" in err["message"], (path, limit, err)
        for page in ("garbage", "p12", "px_agt_1"):
            err = api.err("GET", path, 400, "invalid_request_error", params={"page": page})
            assert "page" in err["message"], (path, err)
        err = api.err("GET", path, 400, params={"order": "sideways"})
        assert "order" in err["message"]
        err = api.err("GET", path, 400, params={"include_archived": "yes"})
        assert "include_archived" in err["message"]
        err = api.err("GET", path, 400, params={"created_at[gte]": "yesterday"})
        assert "created_at[gte]" in err["message"]
        assert api.get(path, params={"limit": "100"})["next_page"] is None
        assert len(api.get(path, params={"limit": "1"})["data"]) == 1
    events = f"/sessions/{sess['id']}/events"
    for limit in ("0", "1001", "x"):
        assert "limit" in api.err("GET", events, 400, params={"limit": limit})["message"]
    assert api.get(events, params={"limit": "1000"}) == {"data": [], "next_page": None}
    assert "page" in api.err("GET", events, 400, params={"page": "nope"})["message"]


def test_list_paging_order_archived_and_created_at_bounds(api):
    agents = [api.agent(name=f"list-{i}") for i in range(5)]
    ids = [a["id"] for a in agents]
    # Newest first by default (ties broken by id, consistently).
    body = api.get("/agents", params={"limit": 2})
    assert set(body) == {"data", "next_page"} and isinstance(body["next_page"], str)
    desc = api.list_all("/agents", limit=2)
    assert sorted(a["id"] for a in desc) == sorted(ids) and len(desc) == 5
    assert [parse_time(a["created_at"]) for a in desc] == \
        sorted((parse_time(a["created_at"]) for a in desc), reverse=True)
    asc = api.list_all("/agents", limit=2, order="asc")
    assert [a["id"] for a in asc] == [a["id"] for a in reversed(desc)]
    assert api.list_all("/agents", limit=100) == desc

    api.post(f"/agents/{ids[1]}/archive")
    live = [a["id"] for a in api.list_all("/agents", limit=3)]
    assert ids[1] not in live and len(live) == 4
    every = api.list_all("/agents", limit=3, include_archived="true")
    assert ids[1] in [a["id"] for a in every] and len(every) == 5
    assert [a["id"] for a in api.list_all("/agents", include_archived="false")] == live

    lo, hi = parse_time(agents[1]["created_at"]), parse_time(agents[3]["created_at"])
    expected = sorted(a["id"] for a in agents if lo <= parse_time(a["created_at"]) <= hi)
    got = api.list_all("/agents", include_archived="true", **{
        "created_at[gte]": agents[1]["created_at"], "created_at[lte]": agents[3]["created_at"]})
    assert sorted(a["id"] for a in got) == expected and ids[2] in expected
    assert api.get("/agents", params={"created_at[gt]": fmt_time(datetime.now(timezone.utc).replace(
        year=2100))})["data"] == []
    old = api.get("/agents", params={"created_at[lt]": "2001-01-01T00:00:00Z"})
    assert old == {"data": [], "next_page": None}


def test_session_list_filters(api):
    key = unique_key("d")
    a = api.agent(key=key)
    b = api.agent(key=key)
    env = api.environment()
    s1 = api.session(a, env)
    api.post(f"/agents/{a['id']}", {"description": "v2"})
    s2 = api.session(a, env)
    s3 = api.session(b, env)
    assert (s1["agent"]["version"], s2["agent"]["version"]) == (1, 2)

    def ids(**params):
        body = api.get("/sessions", params=params)
        assert set(body) == {"data", "next_page", "prev_page"}, body
        assert body["prev_page"] is None
        return [s["id"] for s in body["data"]]

    assert ids() == newest_first([s1, s2, s3])
    assert ids(order="asc") == newest_first([s1, s2, s3])[::-1]
    assert ids(agent_id=a["id"]) == newest_first([s1, s2])
    assert ids(agent_id=a["id"], agent_version=1) == [s1["id"]]
    assert ids(agent_id=a["id"], agent_version=2) == [s2["id"]]
    assert ids(agent_id="agt_000000000000") == []
    for bad in ("0", "x", "-2"):
        assert "agent_version" in api.err("GET", "/sessions", 400,
                                          params={"agent_version": bad})["message"]
    assert "statuses" in api.err("GET", "/sessions?statuses[]=bogus", 400)["message"]
    assert ids(**{"statuses[]": "idle"}) == newest_first([s1, s2, s3])

    # A running session: its turn waits on the mock, then is interrupted.
    api.mock.script(key, [{"delay_ms": 3000, "text": "late"}])
    api.message(s2["id"])
    assert api.get(f"/sessions/{s2['id']}")["status"] == "running"
    assert ids(**{"statuses[]": "running"}) == [s2["id"]]
    assert ids(**{"statuses[]": "idle"}) == newest_first([s1, s3])
    r = api.request("GET", "/sessions?statuses[]=idle&statuses[]=running")
    assert [s["id"] for s in r.json()["data"]] == newest_first([s1, s2, s3])
    api.send(s2["id"], {"type": "user.interrupt"})
    assert api.get(f"/sessions/{s2['id']}")["status"] == "idle"
    assert ids(**{"statuses[]": "running"}) == []

    api.post(f"/sessions/{s3['id']}/archive")
    assert ids() == newest_first([s1, s2])
    assert ids(include_archived="true") == newest_first([s1, s2, s3])


def _page_with_deletes(api: Dialect, path: str, created: list[str], delete) -> None:
    """Pages `path` two at a time, deleting one seen and one unseen item between pages."""
    deleted: set[str] = set()
    seen: list[str] = []
    page = None
    while True:
        params = {"limit": 2}
        if page:
            params["page"] = page
        body = api.get(path, params=params)
        got = [x["id"] for x in body["data"]]
        assert not deleted & set(got), f"deleted items returned: {deleted & set(got)}"
        seen += got
        page = body["next_page"]
        if not page:
            break
        unseen = [i for i in created if i not in seen and i not in deleted]
        for victim in ([seen[-1]] if seen[-1] not in deleted else []) + unseen[-1:]:
            delete(victim)
            deleted.add(victim)
    assert len(seen) == len(set(seen)), f"an item was returned twice: {seen}"
    survivors = [i for i in created if i not in deleted]
    assert sorted(i for i in seen if i not in deleted) == sorted(survivors), (seen, survivors)


def test_paging_under_concurrent_deletes_never_repeats_or_skips(api):
    envs = [api.environment(name=f"page-{i}")["id"] for i in range(9)]
    _page_with_deletes(api, "/environments", envs,
                       lambda i: api.ok("DELETE", f"/environments/{i}"))
    agent = api.agent()
    env = api.environment()
    sessions = [api.session(agent, env)["id"] for _ in range(9)]
    _page_with_deletes(api, "/sessions", sessions, lambda i: api.ok("DELETE", f"/sessions/{i}"))


# ==== agents ===================================================================================

def custom(name: str, description: str = "a client tool") -> dict:
    return {"type": "custom", "name": name, "description": description,
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}


@pytest.mark.parametrize("body, fields", [
    ({}, ["name", "model"]),
    ({"name": "x"}, ["model"]),
    ({"model": MODEL}, ["name"]),
    ({"name": "", "model": MODEL}, ["name"]),
    ({"name": "x", "model": {"speed": "fast"}}, ["model.id"]),
    ({"name": "x", "model": {"id": MODEL, "speed": "warp"}}, ["model.speed"]),
    ({"name": "x", "model": MODEL, "tools": [{"type": "bogus"}]}, ["tools.0.type"]),
    ({"name": "x", "model": MODEL, "tools": [custom("lookup"), custom("lookup")]}, ["tools.1.name"]),
    ({"name": "x", "model": MODEL, "tools": [custom("bash")]}, ["tools.0.name"]),
    ({"name": "x", "model": MODEL, "tools": [custom("bad name")]}, ["tools.0.name"]),
    ({"name": "x", "model": MODEL, "tools": [{"type": "mcp_toolset", "mcp_server_name": "gh"}]},
     ["tools.0.mcp_server_name"]),
    ({"name": "x", "model": MODEL, "tools": [{"type": "agent_toolset_20260401",
                                               "configs": [{"name": "teleport"}]}]},
     ["tools.0.configs.0.name"]),
    ({"name": "x", "model": MODEL, "tools": [{"type": "agent_toolset_20260401",
                                               "default_config": {"permission_policy": {"type": "deny"}}}]},
     ["tools.0.default_config.permission_policy.type"]),
    ({"name": "x", "model": MODEL, "metadata": {f"k{i}": "v" for i in range(17)}}, ["metadata"]),
    ({"name": "x", "model": MODEL, "metadata": {"big": "v" * 513}}, ["metadata.big"]),
    ({"name": "x", "model": MODEL, "metadata": {"n": 1}}, ["metadata.n"]),
    ({"name": "x", "model": MODEL, "surprise": True}, ["surprise"]),
])
def test_agent_create_validation(api, body, fields):
    err = api.err("POST", "/agents", 400, "invalid_request_error", json=body)
    for f in fields:
        assert f + ":" in err["message"], (f, err["message"])
    assert err["details"]["error_code"] == "invalid_request"
    assert api.get("/agents")["data"] == []


def test_agent_limits_are_inclusive(api):
    a = api.agent(metadata={f"k{i}": "v" * 512 for i in range(16)},
                  tools=[custom("lookup"), custom("other-tool_2")])
    assert len(a["metadata"]) == 16
    assert [t["name"] for t in a["tools"]] == ["lookup", "other-tool_2"]


def test_agent_model_forms_and_tool_configuration(api):
    fast = api.agent(model={"id": MODEL, "speed": "fast"})
    assert fast["model"] == {"id": MODEL, "speed": "fast"}
    assert api.get(f"/agents/{fast['id']}")["model"] == {"id": MODEL, "speed": "fast"}
    plain = api.agent(model="claude-haiku-4-5")
    assert plain["model"] == {"id": "claude-haiku-4-5", "speed": "standard"}

    def native_agent(agent_id):
        r = api.native("GET", f"/v1/agents/{agent_id}")
        assert r.status_code == 200, r.text
        return r.json()

    for body in ({"tools": []}, {}):
        bare = api.agent(**body)
        assert bare["tools"] == [], bare["tools"]
        assert native_agent(bare["id"])["tools"] == ["none"]

    only_read = api.agent(tools=[{"type": "agent_toolset_20260401",
                                  "default_config": {"enabled": False},
                                  "configs": [{"name": "read", "enabled": True}]},
                                 custom("lookup")])
    assert native_agent(only_read["id"])["tools"] == ["read"]
    toolset, lookup = only_read["tools"]
    assert toolset["type"] == "agent_toolset_20260401"
    assert toolset["default_config"] == {"enabled": False, "permission_policy": {"type": "always_allow"}}
    configs = {c["name"]: c for c in toolset["configs"]}
    assert set(configs) == {"bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"}
    assert {n for n, c in configs.items() if c["enabled"]} == {"read"}
    assert all(c["permission_policy"] == {"type": "always_allow"} for c in configs.values())
    assert lookup == custom("lookup")

    asking = api.agent(tools=[{"type": "agent_toolset_20260401",
                               "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}}]}])
    configs = {c["name"]: c for c in asking["tools"][0]["configs"]}
    assert all(c["enabled"] for c in configs.values())
    assert configs["bash"]["permission_policy"] == {"type": "always_ask"}
    assert configs["read"]["permission_policy"] == {"type": "always_allow"}
    assert len(native_agent(asking["id"])["tools"]) == 8

    with_mcp = api.agent(mcp_servers=[{"type": "url", "name": "gh", "url": "https://mcp.example.com/gh"}],
                         tools=[{"type": "mcp_toolset", "mcp_server_name": "gh"}])
    assert with_mcp["mcp_servers"] == [{"type": "url", "name": "gh", "url": "https://mcp.example.com/gh"}]
    assert with_mcp["tools"][0]["type"] == "mcp_toolset"
    assert with_mcp["tools"][0]["mcp_server_name"] == "gh"


def test_agent_updates_versions_and_conflicts(api):
    a = api.agent(system="one", metadata={"keep": "1", "drop": "2"})
    aid = a["id"]
    assert a["version"] == 1
    v2 = api.post(f"/agents/{aid}", {"version": 1, "system": "two", "metadata": {"drop": None, "new": "3"}})
    assert (v2["version"], v2["system"]) == (2, "two")
    assert v2["metadata"] == {"keep": "1", "new": "3"}
    assert v2["name"] == a["name"] and v2["model"] == a["model"]

    err = api.err("POST", f"/agents/{aid}", 409, json={"version": 1, "system": "stale"})
    assert err["details"]["error_code"] == "version_conflict"
    assert api.get(f"/agents/{aid}")["system"] == "two"

    v3 = api.post(f"/agents/{aid}", {"system": "three"})  # no version: last write wins
    assert v3["version"] == 3
    same = api.post(f"/agents/{aid}", {"version": 3, "system": "three", "metadata": {"keep": "1"}})
    assert same["version"] == 3 and same["updated_at"] == v3["updated_at"]
    assert api.post(f"/agents/{aid}", {})["version"] == 3

    for bad in ({"version": 0}, {"version": "3"}, {"name": None}, {"model": None}):
        api.err("POST", f"/agents/{aid}", 400, "invalid_request_error", json=bad)

    old = api.get(f"/agents/{aid}", params={"version": 1})
    assert (old["version"], old["system"], old["metadata"]) == (1, "one", {"keep": "1", "drop": "2"})
    assert api.get(f"/agents/{aid}", params={"version": 2})["system"] == "two"
    api.err("GET", f"/agents/{aid}", 404, "not_found_error", params={"version": 9})
    api.err("GET", f"/agents/{aid}", 400, params={"version": "latest"})

    versions = api.list_all(f"/agents/{aid}/versions", limit=2)
    assert [(v["version"], v["system"]) for v in versions] == [(3, "three"), (2, "two"), (1, "one")]
    assert all(v["id"] == aid for v in versions)
    asc = api.get(f"/agents/{aid}/versions", params={"order": "asc"})["data"]
    assert [v["version"] for v in asc] == [1, 2, 3]
    api.err("GET", "/agents/agt_000000000000/versions", 404, "not_found_error")

    env = api.environment()
    archived = api.post(f"/agents/{aid}/archive")
    assert archived["archived_at"] is not None and archived["version"] == 3
    assert api.post(f"/agents/{aid}/archive")["archived_at"] == archived["archived_at"]
    err = api.err("POST", f"/agents/{aid}", 409, json={"system": "four"})
    assert err["details"]["error_code"] == "agent_archived"
    err = api.err("POST", "/sessions", 409, json={"agent": aid, "environment_id": env["id"]})
    assert err["details"]["error_code"] == "agent_archived"
    assert api.get(f"/agents/{aid}")["archived_at"] == archived["archived_at"]
    api.err("POST", "/agents/agt_000000000000/archive", 404, "not_found_error")


# ==== environments =============================================================================

def test_environment_names_are_unique_among_live_environments(api):
    first = api.environment(name="shared-name")
    err = api.err("POST", "/environments", 409, json={"name": "shared-name"})
    assert err["details"]["error_code"] == "environment_name_taken"
    other = api.environment(name="other-name")
    api.err("POST", f"/environments/{other['id']}", 409, json={"name": "shared-name"})
    archived = api.post(f"/environments/{first['id']}/archive")
    assert archived["archived_at"] is not None
    err = api.err("POST", f"/environments/{first['id']}", 409, json={"description": "x"})
    assert err["details"]["error_code"] == "environment_archived"
    second = api.environment(name="shared-name")
    assert second["id"] != first["id"]
    names = [(e["name"], e["archived_at"] is None) for e in api.list_all("/environments", include_archived="true")]
    assert sorted(names) == [("other-name", True), ("shared-name", False), ("shared-name", True)]
    assert [e["id"] for e in api.list_all("/environments")] == newest_first([second, other])


def test_environment_config_validation(api):
    default = api.environment()
    assert default["config"]["type"] == "cloud"
    assert default["config"]["networking"] == {"type": "unrestricted"}
    assert default["config"]["packages"] == {"type": "packages", "apt": [], "cargo": [], "gem": [],
                                             "go": [], "npm": [], "pip": []}

    limited = api.environment(config={"type": "cloud", "networking": {
        "type": "limited", "allowed_hosts": ["api.example.com", "*.example.org"]}})
    assert limited["config"]["networking"] == {"type": "limited",
                                               "allowed_hosts": ["api.example.com", "*.example.org"],
                                               "allow_mcp_servers": False, "allow_package_managers": False}
    assert api.get(f"/environments/{limited['id']}")["config"] == limited["config"]

    err = api.err("POST", "/environments", 400, "invalid_request_error", json={
        "name": "bad-hosts", "config": {"networking": {
            "type": "limited", "allowed_hosts": ["ok.example.com", "https://x.example.com/p", "10.0.0.1:80"]}}})
    assert "config.networking.allowed_hosts.1:" in err["message"], err
    assert "config.networking.allowed_hosts.2:" in err["message"], err
    assert "allowed_hosts.0:" not in err["message"]

    pkgs = {"type": "packages", "pip": ["requests"], "apt": ["jq"]}
    err = api.err("POST", "/environments", 400, json={"name": "p", "config": {
        "networking": {"type": "limited", "allowed_hosts": []}, "packages": pkgs}})
    assert "config.networking.allow_package_managers:" in err["message"]
    ok = api.environment(config={"networking": {"type": "limited", "allow_package_managers": True},
                                 "packages": pkgs})
    assert ok["config"]["packages"]["pip"] == ["requests"] and ok["config"]["packages"]["apt"] == ["jq"]
    assert ok["config"]["networking"]["allow_package_managers"] is True
    unrestricted = api.environment(config={"packages": pkgs})
    assert unrestricted["config"]["packages"]["pip"] == ["requests"]

    err = api.err("POST", "/environments", 400, json={"name": "sh", "config": {"type": "self_hosted"}})
    assert "config.type:" in err["message"] and "self_hosted" in err["message"]
    err = api.err("POST", "/environments", 400, json={"name": "w", "config": {"networking": {"type": "open"}}})
    assert "config.networking.type:" in err["message"]
    err = api.err("POST", "/environments", 400, json={"config": {}})
    assert "name:" in err["message"]
    err = api.err("POST", "/environments", 400, json={"name": "m", "metadata": {f"k{i}": "v" for i in range(17)}})
    assert "metadata:" in err["message"]
    names = {e["name"] for e in api.list_all("/environments")}
    assert not names & {"bad-hosts", "p", "sh", "w", "m"}


def test_environment_update_archive_and_delete(api):
    env = api.environment(description="d1", metadata={"a": "1", "b": "2"})
    upd = api.post(f"/environments/{env['id']}", {"metadata": {"a": None, "c": "3"}, "description": "d2"})
    assert upd["metadata"] == {"b": "2", "c": "3"} and upd["description"] == "d2"
    assert upd["name"] == env["name"] and upd["config"] == env["config"]
    assert parse_time(upd["updated_at"]) >= parse_time(env["updated_at"])
    upd = api.post(f"/environments/{env['id']}", {"config": {"networking": {"type": "limited",
                                                                            "allowed_hosts": ["a.example"]}}})
    assert upd["config"]["networking"]["allowed_hosts"] == ["a.example"]
    assert upd["metadata"] == {"b": "2", "c": "3"}
    api.err("POST", f"/environments/{env['id']}", 400, json={"metadata": {"x": 5}})

    sess = api.session(api.agent(), env)
    err = api.err("DELETE", f"/environments/{env['id']}", 409)
    assert err["details"]["error_code"] == "environment_in_use"
    assert api.get(f"/environments/{env['id']}")["id"] == env["id"]
    assert api.ok("DELETE", f"/sessions/{sess['id']}") == {"id": sess["id"], "type": "session_deleted"}
    assert api.ok("DELETE", f"/environments/{env['id']}") == {"id": env["id"], "type": "environment_deleted"}
    api.err("GET", f"/environments/{env['id']}", 404, "not_found_error")
    api.err("DELETE", f"/environments/{env['id']}", 404, "not_found_error")
    api.err("POST", "/environments/env_000000000000/archive", 404, "not_found_error")

    other = api.environment()
    api.post(f"/environments/{other['id']}/archive")
    assert api.ok("DELETE", f"/environments/{other['id']}")["type"] == "environment_deleted"


# ==== sessions =================================================================================

def test_session_create_errors(api):
    agent = api.agent()
    env = api.environment()
    vault = api.vault()
    aid, eid = agent["id"], env["id"]

    def fails(status, body, code=None, field=None):
        err = api.err("POST", "/sessions", status, json=body)
        if code:
            assert err["details"]["error_code"] == code, err
        if field:
            assert field in err["message"], err
        return err

    fails(404, {"agent": "agt_000000000000", "environment_id": eid}, "agent_not_found")
    fails(404, {"agent": {"type": "agent", "id": aid, "version": 7}, "environment_id": eid},
          "agent_version_not_found")
    fails(404, {"agent": aid, "environment_id": "env_000000000000"}, "environment_not_found")
    fails(404, {"agent": aid, "environment_id": eid, "vault_ids": [vault["id"], "vlt_000000000000"]},
          "vault_not_found")
    archived_vault = api.vault()
    api.post(f"/vaults/{archived_vault['id']}/archive")
    fails(409, {"agent": aid, "environment_id": eid, "vault_ids": [vault["id"], archived_vault["id"]]},
          "vault_archived")
    fails(400, {"agent": aid}, field="environment_id:")
    fails(400, {"environment_id": eid}, field="agent:")
    fails(400, {"agent": {"type": "agent_with_overrides", "id": aid}, "environment_id": eid},
          field="agent.type:")
    err = fails(400, {"agent": aid, "environment_id": eid,
                      "resources": [{"type": "file", "file_id": "file_1"}]}, field="resources:")
    assert "not supported" in err["message"]
    err = fails(400, {"agent": aid, "environment_id": eid, "initial_events": [
        {"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]}, field="initial_events:")
    assert "not supported" in err["message"]
    fails(400, {"agent": aid, "environment_id": eid, "metadata": {f"k{i}": "v" for i in range(17)}},
          field="metadata:")
    assert api.get("/sessions")["data"] == []

    ok = api.session(agent, env, resources=[], initial_events=[], vault_ids=[vault["id"]])
    assert ok["vault_ids"] == [vault["id"]] and ok["resources"] == []
    api.post(f"/environments/{eid}/archive")
    fails(409, {"agent": aid, "environment_id": eid}, "environment_archived")


def test_session_update_archive_and_delete(api):
    agent = api.agent()
    s = api.session(agent, title="first", metadata={"a": "1", "b": "2"})
    sid = s["id"]
    assert (s["status"], s["title"], s["metadata"]) == ("idle", "first", {"a": "1", "b": "2"})
    assert s["agent"]["id"] == agent["id"] and s["agent"]["name"] == agent["name"]
    assert s["usage"]["input_tokens"] == 0 and s["usage"]["output_tokens"] == 0
    assert s["stats"]["duration_seconds"] >= 0

    upd = api.post(f"/sessions/{sid}", {"title": "second", "metadata": {"a": None, "c": "3"}})
    assert (upd["title"], upd["metadata"]) == ("second", {"b": "2", "c": "3"})
    assert api.get(f"/sessions/{sid}")["title"] == "second"
    assert api.post(f"/sessions/{sid}", {"title": None})["title"] is None
    err = api.err("POST", f"/sessions/{sid}", 400, json={"vault_ids": []})
    assert "vault_ids:" in err["message"]
    api.err("POST", "/sessions/ses_000000000000", 404, "not_found_error", json={"title": "x"})

    arch = api.post(f"/sessions/{sid}/archive")
    assert arch["status"] == "idle" and arch["archived_at"] is not None
    assert api.get(f"/sessions/{sid}")["archived_at"] == arch["archived_at"]
    err = api.err("POST", f"/sessions/{sid}/events", 409, json={"events": [
        {"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]})
    assert err["details"]["error_code"] == "session_archived"
    api.err("POST", f"/sessions/{sid}", 409, json={"title": "third"})
    assert api.get(f"/sessions/{sid}")["status"] == "idle"
    assert api.get(f"/sessions/{sid}/events")["data"] == []

    assert api.ok("DELETE", f"/sessions/{sid}") == {"id": sid, "type": "session_deleted"}
    for method, path in (("GET", f"/sessions/{sid}"), ("GET", f"/sessions/{sid}/events"),
                         ("DELETE", f"/sessions/{sid}"), ("POST", f"/sessions/{sid}/archive")):
        api.err(method, path, 404, "not_found_error")
    assert api.native("GET", f"/v1/sessions/{sid}").status_code == 404


def test_session_pins_the_requested_agent_version(api):
    key = unique_key("pin")
    agent = api.agent(key=key, system=f"first prompt [mock:{key}]")
    api.post(f"/agents/{agent['id']}", {"version": 1, "system": f"second prompt [mock:{key}]"})
    pinned = api.session({"type": "agent", "id": agent["id"], "version": 1})
    latest = api.session(agent["id"])
    assert pinned["agent"]["version"] == 1 and pinned["agent"]["system"] == f"first prompt [mock:{key}]"
    assert latest["agent"]["version"] == 2 and latest["agent"]["system"] == f"second prompt [mock:{key}]"
    native = api.native("GET", f"/v1/sessions/{pinned['id']}").json()
    assert native["agent_version"] == 1

    api.mock.script(key, [{"text": "from v1"}, {"text": "from v2"}])
    api.message(pinned["id"], "which prompt?")
    api.wait_idle(pinned["id"])
    api.message(latest["id"], "and now?")
    api.wait_idle(latest["id"])
    first, second = (json.dumps(b.get("system")) for b in api.llm_bodies(key))
    assert "first prompt" in first and "second prompt" not in first
    assert "second prompt" in second and "first prompt" not in second
    assert api.get(f"/sessions/{pinned['id']}")["agent"]["version"] == 1


def test_session_usage_after_a_turn_matches_the_native_view(api):
    key = unique_key("use")
    s = api.session(api.agent(key=key))
    api.mock.script(key, [{"text": "counted", "usage": {"input": 321, "output": 17}}])
    api.message(s["id"])
    evs = api.wait_idle(s["id"])
    assert [e["type"] for e in evs] == ["user.message", "session.status_running", "agent.message",
                                        "session.status_idle"]
    assert evs[2]["content"] == [{"type": "text", "text": "counted"}]
    assert evs[3]["stop_reason"] == {"type": "end_turn"}
    got = api.get(f"/sessions/{s['id']}")
    assert got["status"] == "idle"
    usage = got["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (321, 17), usage
    assert usage["cache_read_input_tokens"] == 0
    assert usage["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    native = api.native("GET", f"/v1/sessions/{s['id']}").json()
    assert native["tokens"]["input"] == usage["input_tokens"]
    assert native["tokens"]["output"] == usage["output_tokens"]
    assert parse_time(got["updated_at"]) >= parse_time(got["created_at"])


def test_sessions_created_in_either_dialect_are_visible_in_both(api):
    agent = api.agent()
    env = api.environment()
    r = api.native("POST", "/v1/sessions", json={"agentId": agent["id"], "environmentId": env["id"]})
    assert r.status_code == 200, r.text
    native_id = r.json()["session_id"]
    got = api.get(f"/sessions/{native_id}")
    assert (got["status"], got["environment_id"], got["agent"]["id"]) == ("idle", env["id"], agent["id"])
    dialect_id = api.session(agent, env)["id"]
    r = api.native("GET", f"/v1/sessions/{dialect_id}")
    assert r.status_code == 200 and r.json()["agent_id"] == agent["id"]


# ==== vaults ===================================================================================

def _db_bytes(server: PincerServer) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        p = Path(server.data_dir) / ("pincer.db" + suffix)
        if p.exists():
            data += p.read_bytes()
    assert data, "no database file"
    return data


def _credential_secrets() -> dict[str, str]:
    return {name: f"S3CRET-{name}-{os.urandom(10).hex()}" for name in
            ("token", "access_token", "refresh_token", "client_secret", "secret_value")}


def test_vault_secrets_are_never_returned_nor_stored_in_clear(api):
    sec = _credential_secrets()
    vault = api.vault(metadata={"team": "a"})
    vid = vault["id"]
    bodies = []

    def call(method, path, **kw):
        r = api.request(method, path, **kw)
        assert r.status_code == 200, r.text
        bodies.append(r.text)
        return r.json()

    bearer = call("POST", f"/vaults/{vid}/credentials", json={
        "display_name": "gh", "metadata": {"k": "v"},
        "auth": {"type": "static_bearer", "mcp_server_url": "https://mcp.example.com/gh", "token": sec["token"]}})
    assert bearer["auth"] == {"type": "static_bearer", "mcp_server_url": "https://mcp.example.com/gh"}
    assert (bearer["vault_id"], bearer["display_name"], bearer["metadata"]) == (vid, "gh", {"k": "v"})
    oauth = call("POST", f"/vaults/{vid}/credentials", json={"auth": {
        "type": "mcp_oauth", "mcp_server_url": "https://mcp.example.com/linear",
        "access_token": sec["access_token"], "expires_at": "2030-01-01T00:00:00Z",
        "refresh": {"client_id": "cid", "refresh_token": sec["refresh_token"],
                    "token_endpoint": "https://auth.example.com/token",
                    "token_endpoint_auth": {"type": "client_secret_post", "client_secret": sec["client_secret"]}}}})
    assert oauth["auth"]["refresh"]["client_id"] == "cid"
    assert oauth["auth"]["refresh"]["token_endpoint_auth"] == {"type": "client_secret_post"}
    env_var = call("POST", f"/vaults/{vid}/credentials", json={"auth": {
        "type": "environment_variable", "secret_name": "API_KEY", "secret_value": sec["secret_value"]}})
    assert env_var["auth"]["secret_name"] == "API_KEY" and "secret_value" not in env_var["auth"]

    for c in (bearer, oauth, env_var):
        call("GET", f"/vaults/{vid}/credentials/{c['id']}")
    call("GET", f"/vaults/{vid}/credentials")
    call("GET", f"/vaults/{vid}/credentials", params={"include_archived": "true", "limit": 1})
    upd = call("POST", f"/vaults/{vid}/credentials/{bearer['id']}",
               json={"display_name": "renamed", "metadata": {"k": None, "x": "y"}})
    assert (upd["display_name"], upd["metadata"]) == ("renamed", {"x": "y"})
    call("POST", f"/vaults/{vid}/credentials/{env_var['id']}",
         json={"auth": {"type": "environment_variable", "secret_value": sec["secret_value"] + "-2"}})
    call("POST", f"/vaults/{vid}/credentials/{oauth['id']}/archive")
    for body in bodies:
        for s in sec.values():
            assert s not in body, f"secret {s} in a response: {body}"

    # Changing the kind of a credential is refused (it would orphan or mix secrets).
    err = api.err("POST", f"/vaults/{vid}/credentials/{bearer['id']}", 400, json={
        "auth": {"type": "mcp_oauth", "mcp_server_url": "https://mcp.example.com/gh", "access_token": "x"}})
    assert "auth.type" in err["message"]
    err = api.err("POST", f"/vaults/{vid}/credentials", 400, json={"auth": {
        "type": "static_bearer", "mcp_server_url": "https://mcp.example.com/gh"}})
    assert "auth.token" in err["message"]
    assert "auth" in api.err("POST", f"/vaults/{vid}/credentials", 400, json={})["message"]
    err = api.err("POST", f"/vaults/{vid}/credentials/{oauth['id']}", 409, json={"display_name": "z"})
    assert err["details"]["error_code"] == "credential_archived"

    db = _db_bytes(api.server)
    for s in sec.values():
        assert s.encode() not in db, f"secret {s} stored in clear"
        assert s.encode().hex().encode() not in db
    for line in api.server.raw_logs():
        assert not any(s in line for s in sec.values()), line


def _oauth_auth(access: str, refresh: str, client_secret: str) -> dict:
    return {"type": "mcp_oauth", "mcp_server_url": "https://mcp.example.com/linear",
            "access_token": access, "expires_at": "2030-01-01T00:00:00Z",
            "refresh": {"client_id": "cid", "refresh_token": refresh,
                        "token_endpoint": "https://auth.example.com/token", "scope": "read",
                        "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": client_secret}}}


def test_credential_auth_update_is_a_patch(api):
    """The SDK's update params carry only what changes (`mcp_server_url` is immutable):
    rotating a token must keep the rest of the credential's public settings."""
    vid = api.vault()["id"]
    bearer = api.post(f"/vaults/{vid}/credentials", {"auth": {
        "type": "static_bearer", "mcp_server_url": "https://mcp.example.com/a", "token": "t1"}})
    rotated = api.post(f"/vaults/{vid}/credentials/{bearer['id']}",
                       {"auth": {"type": "static_bearer", "token": "t2"}})
    assert rotated["auth"] == {"type": "static_bearer", "mcp_server_url": "https://mcp.example.com/a"}
    assert api.get(f"/vaults/{vid}/credentials/{bearer['id']}")["auth"] == rotated["auth"]

    oauth = api.post(f"/vaults/{vid}/credentials", {"auth": _oauth_auth("a1", "r1", "c1")})
    public = oauth["auth"]
    assert public == {"type": "mcp_oauth", "mcp_server_url": "https://mcp.example.com/linear",
                      "expires_at": "2030-01-01T00:00:00Z",
                      "refresh": {"client_id": "cid", "token_endpoint": "https://auth.example.com/token",
                                  "scope": "read", "token_endpoint_auth": {"type": "client_secret_basic"}}}
    upd = api.post(f"/vaults/{vid}/credentials/{oauth['id']}",
                   {"auth": {"type": "mcp_oauth", "access_token": "a2", "expires_at": "2031-01-01T00:00:00Z"}})
    assert upd["auth"] == dict(public, expires_at="2031-01-01T00:00:00Z"), upd["auth"]


def test_credential_update_without_the_secret_keeps_it(dialect):
    from cryptography.hazmat.primitives.ciphers import aead  # python3-cryptography (install-deps)
    key = os.urandom(32)
    api = dialect(PINCER_VAULT_KEY=key.hex())
    vid = api.vault()["id"]
    access, refresh, client_secret = ("keep-" + unique_key() for _ in range(3))
    cred = api.post(f"/vaults/{vid}/credentials", {"auth": _oauth_auth(access, refresh, client_secret)})

    def secrets() -> str:
        con = sqlite3.connect(f"file:{api.server.data_dir}/pincer.db?mode=ro", uri=True)
        try:
            (sealed,) = con.execute("SELECT sealed FROM vault_credentials WHERE id = ?",
                                    (cred["id"],)).fetchone()
        finally:
            con.close()
        raw = bytes.fromhex(sealed.decode() if isinstance(sealed, bytes) else sealed)
        return aead.AESGCM(key).decrypt(raw[:12], raw[12:], None).decode()

    stored = secrets()
    assert access in stored and refresh in stored and client_secret in stored
    api.post(f"/vaults/{vid}/credentials/{cred['id']}", {"display_name": "renamed"})
    assert secrets() == stored
    api.post(f"/vaults/{vid}/credentials/{cred['id']}",
             {"auth": {"type": "mcp_oauth", "expires_at": "2032-01-01T00:00:00Z"}})
    after = secrets()
    assert access in after and refresh in after and client_secret in after, \
        "secrets dropped by an update that did not send them"
    api.post(f"/vaults/{vid}/credentials/{cred['id']}",
             {"auth": {"type": "mcp_oauth", "access_token": "rotated-access"}})
    after = secrets()
    assert "rotated-access" in after and access not in after and refresh in after


def test_vault_archive_update_and_delete_cascade(api):
    vault = api.vault(display_name="v", metadata={"a": "1"})
    vid = vault["id"]
    upd = api.post(f"/vaults/{vid}", {"display_name": "v2", "metadata": {"a": None, "b": "2"}})
    assert (upd["display_name"], upd["metadata"]) == ("v2", {"b": "2"})
    api.err("POST", f"/vaults/{vid}", 400, json={"display_name": ""})
    cred = api.post(f"/vaults/{vid}/credentials", {"auth": {
        "type": "static_bearer", "mcp_server_url": "https://mcp.example.com/a", "token": "t"}})
    assert api.ok("DELETE", f"/vaults/{vid}") == {"id": vid, "type": "vault_deleted"}
    api.err("GET", f"/vaults/{vid}", 404, "not_found_error")
    api.err("GET", f"/vaults/{vid}/credentials/{cred['id']}", 404, "not_found_error")
    api.err("GET", f"/vaults/{vid}/credentials", 404, "not_found_error")
    api.err("DELETE", f"/vaults/{vid}", 404, "not_found_error")
    con = sqlite3.connect(f"file:{api.server.data_dir}/pincer.db?mode=ro", uri=True)
    try:
        assert con.execute("SELECT COUNT(*) FROM vault_credentials WHERE id = ?", (cred["id"],)).fetchone() == (0,)
    finally:
        con.close()

    other = api.vault()
    oid = other["id"]
    c2 = api.post(f"/vaults/{oid}/credentials", {"auth": {
        "type": "static_bearer", "mcp_server_url": "https://mcp.example.com/a", "token": "t"}})
    arch = api.post(f"/vaults/{oid}/archive")
    assert arch["archived_at"] is not None
    err = api.err("POST", f"/vaults/{oid}/credentials", 409, json={"auth": {
        "type": "static_bearer", "mcp_server_url": "https://mcp.example.com/b", "token": "t"}})
    assert err["details"]["error_code"] == "vault_archived"
    api.err("POST", f"/vaults/{oid}", 409, json={"display_name": "nope"})
    assert api.get(f"/vaults/{oid}/credentials/{c2['id']}")["id"] == c2["id"]
    assert [v["id"] for v in api.list_all("/vaults")] == []
    assert [v["id"] for v in api.list_all("/vaults", include_archived="true")] == [oid]
    assert api.ok("DELETE", f"/vaults/{oid}/credentials/{c2['id']}") == \
        {"id": c2["id"], "type": "vault_credential_deleted"}
    api.err("GET", f"/vaults/{oid}/credentials/{c2['id']}", 404, "not_found_error")
