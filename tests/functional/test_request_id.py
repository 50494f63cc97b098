"""x-request-id handling and the per-request JSON access log."""

import pytest

from conftest import REQUEST_ID_RE


def test_request_id_is_echoed(server):
    r = server.get("/v1/agents", headers={"x-request-id": "client-abc-123"})
    assert r.headers["x-request-id"] == "client-abc-123"


def test_request_id_is_generated(server):
    ids = set()
    for _ in range(10):
        r = server.get("/v1/agents")
        rid = r.headers["x-request-id"]
        assert REQUEST_ID_RE.match(rid), rid
        ids.add(rid)
    assert len(ids) == 10


@pytest.mark.parametrize("path,method,status", [
    ("/", "GET", 200), ("/healthz", "GET", 200), ("/metrics", "GET", 200),
    ("/v1/agents", "POST", 400), ("/v1/agents/agt_000000000000", "GET", 404),
    ("/nope", "GET", 404), ("/v1/agents", "PUT", 405),
])
def test_every_response_has_a_request_id(server, path, method, status):
    r = server.request(method, path)
    assert r.status_code == status
    assert REQUEST_ID_RE.match(r.headers["x-request-id"])
    r = server.request(method, path, headers={"X-Request-ID": "mixed-Case-Header"})
    assert r.headers["x-request-id"] == "mixed-Case-Header"


@pytest.mark.parametrize("bad", ["x" * 200, "has space", "tab\there"])
def test_unusable_request_id_is_replaced(server, bad):
    status, headers, _ = server.raw("GET", "/v1/agents", headers={"x-request-id": bad})
    assert status == 200
    assert REQUEST_ID_RE.match(headers["x-request-id"]), headers["x-request-id"]


def test_access_log_line_per_request(server):
    agent = server.create_agent()
    server.get(f"/v1/agents/{agent['agent_id']}", headers={"x-request-id": "log-get"})
    server.post("/v1/agents", json={}, headers={"x-request-id": "log-bad"})
    server.get("/not/a/route", headers={"x-request-id": "log-404"})
    server.sync_logs()
    expected = {
        "log-get": ("GET", "/v1/agents/:agentId", 200),
        "log-bad": ("POST", "/v1/agents", 400),
        "log-404": ("GET", None, 404),
    }
    for rid, (method, route, status) in expected.items():
        lines = server.access_logs(rid)
        assert len(lines) == 1, (rid, lines)
        line = lines[0]
        assert line["request_id"] == rid
        assert line["method"] == method
        assert line["status"] == status
        assert isinstance(line["route"], str) and line["route"]
        if route is not None:
            assert line["route"] == route
        else:
            assert "/not/a/route" not in line["route"]
        assert isinstance(line["ms"], (int, float)) and line["ms"] >= 0
        assert line["level"] == "info"


def test_generated_request_id_matches_access_log(server):
    r = server.get("/v1/environments")
    rid = r.headers["x-request-id"]
    server.sync_logs()
    lines = server.access_logs(rid)
    assert len(lines) == 1
    assert lines[0]["route"] == "/v1/environments"


def test_every_log_line_is_json(server):
    server.create_agent()
    server.get("/nope")
    server.sync_logs()
    raw = server.raw_logs()
    assert raw
    assert len(server.logs()) == len(raw), [l for l in raw if not l.startswith("{")]
    listening = [l for l in server.logs() if l.get("msg") == "listening"]
    assert len(listening) == 1
    assert listening[0]["port"] == server.port

