"""GET /, GET /healthz and GET /metrics."""

import re
import time

from conftest import metric_value, parse_prometheus, poll, run_pincer


# ---- GET / ------------------------------------------------------------------------------

def test_root_describes_the_service(server):
    r = server.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["name"] == "Pincer"
    for key in ("description", "version", "docs", "auth", "rate_limit"):
        assert isinstance(body[key], str) and body[key], key
    assert isinstance(body["endpoints"], dict)


def test_root_endpoint_map_lists_every_resource(server):
    endpoints = server.get("/").json()["endpoints"]
    assert set(endpoints) >= {"agents", "environments", "audit", "health"}
    assert set(endpoints["agents"]) >= {
        "create", "list", "get", "update", "delete", "list_versions", "archive"}
    assert set(endpoints["environments"]) >= {"create", "list", "get", "delete"}
    assert endpoints["audit"]["list"] == "GET /v1/audit"
    assert endpoints["health"] == {"liveness": "GET /healthz", "metrics": "GET /metrics"}
    for group in endpoints.values():
        for value in group.values():
            assert re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) /\S*", value), value


def test_every_endpoint_in_the_map_routes(server):
    agent = server.create_agent()
    env = server.create_environment()
    # A well-formed but unknown session id: routed (404 session_not_found, not a bare
    # not_found), and the stream route answers at once instead of holding an SSE stream open.
    ids = {"agentId": agent["agent_id"], "environmentId": env["environment_id"],
           "id": agent["agent_id"], "sessionId": "ses_000000000000",
           "path": "notes.txt"}
    endpoints = server.get("/").json()["endpoints"]
    values = [v for group in endpoints.values() for v in group.values()]
    # Destructive calls last, so the ids stay valid for the others.
    values.sort(key=lambda v: v.startswith("DELETE"))
    checked = 0
    for value in values:
        method, pattern = value.split(" ", 1)
        path = re.sub(r":([A-Za-z]+)", lambda m: ids[m.group(1)], pattern)
        assert ":" not in path, f"unsubstituted parameter in {value}"
        r = server.request(method, path, json={})
        assert r.status_code != 405, f"{value} -> 405 {r.text}"
        if r.status_code == 404:
            assert r.json().get("error") != "not_found", f"{value} is not routed: {r.text}"
        checked += 1
    assert checked >= 14


def test_root_reports_auth_and_rate_limit_settings(make_server):
    off = make_server()
    body = off.get("/").json()
    assert "disabled" in body["auth"]
    assert "disabled" in body["rate_limit"]
    on = make_server(PINCER_API_TOKEN="tok-123", PINCER_RATE_LIMIT_RPM="50")
    body = on.get("/").json()
    assert "Bearer" in body["auth"]
    assert "tok-123" not in body["auth"]
    assert "50" in body["rate_limit"]


# ---- GET /healthz ---------------------------------------------------------------------

def test_healthz_fields(server):
    before_ms = int(time.time() * 1000)
    r = server.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"ok", "version", "commit", "start_ts", "uptime_ms", "max_warm",
                         "max_active"}
    assert body["ok"] is True
    assert isinstance(body["version"], str) and body["version"]
    assert isinstance(body["commit"], str) and body["commit"]
    assert isinstance(body["start_ts"], int)
    assert abs(body["start_ts"] - before_ms) < 60_000
    assert isinstance(body["uptime_ms"], int) and body["uptime_ms"] >= 0
    assert body["max_warm"] == 0
    assert body["max_active"] == 32


def test_healthz_version_and_commit_match_the_binary(server):
    out = run_pincer(["version"])
    assert out.returncode == 0
    m = re.fullmatch(r"pincer (\S+) \(commit (\S+)\)\n", out.stdout.decode())
    assert m, out.stdout
    version, commit = m.groups()
    body = server.get("/healthz").json()
    assert body["version"] == version
    assert body["commit"] == commit


def test_healthz_uptime_grows_and_start_ts_is_stable(server):
    first = server.get("/healthz").json()
    later = poll(lambda: (b := server.get("/healthz").json())["uptime_ms"] > first["uptime_ms"]
                 and b, timeout=5, message="uptime_ms to grow")
    assert later["start_ts"] == first["start_ts"]


def test_healthz_reports_configured_pool_sizes(make_server):
    s = make_server(PINCER_MAX_WARM="3", PINCER_MAX_ACTIVE="7")
    body = s.get("/healthz").json()
    assert body["max_warm"] == 3
    assert body["max_active"] == 7


# ---- GET /metrics ---------------------------------------------------------------------

def test_metrics_is_prometheus_text(server):
    r = server.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "version=0.0.4" in r.headers["content-type"]
    assert "# TYPE http_requests_total counter" in r.text
    parse_prometheus(r.text)  # every sample line parses


def test_metrics_label_requests_with_the_route_pattern(server):
    agent = server.create_agent()
    assert server.get(f"/v1/agents/{agent['agent_id']}").status_code == 200
    assert server.get("/v1/agents/agt_doesnotexis").status_code == 404
    samples = server.metrics()
    assert metric_value(samples, "http_requests_total", method="GET",
                        route="/v1/agents/:agentId", status="200") == 1
    assert metric_value(samples, "http_requests_total", method="GET",
                        route="/v1/agents/:agentId", status="404") == 1
    assert metric_value(samples, "http_requests_total", method="POST", route="/v1/agents",
                        status="200") == 1
    # Concrete ids never become label values.
    for name, labels, _ in samples:
        assert agent["agent_id"] not in labels.get("route", ""), (name, labels)
        assert "agt_doesnotexis" not in labels.get("route", ""), (name, labels)


def test_metrics_unmatched_paths_do_not_become_labels(server):
    for i in range(3):
        assert server.get(f"/no/such/route/{i}").status_code == 404
    for name, labels, _ in server.metrics():
        assert "/no/such" not in labels.get("route", ""), (name, labels)


def test_metrics_duration_histogram(server):
    server.get("/v1/agents")
    samples = server.metrics()
    buckets = [(l, v) for n, l, v in samples if n == "http_request_duration_seconds_bucket"
               and l.get("route") == "/v1/agents" and l.get("method") == "GET"]
    assert buckets, "no http_request_duration_seconds_bucket for GET /v1/agents"
    assert any(l["le"] == "+Inf" and v == 1 for l, v in buckets)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "histogram buckets must be cumulative"
    assert metric_value(samples, "http_request_duration_seconds_count", method="GET",
                        route="/v1/agents") == 1
    assert metric_value(samples, "http_request_duration_seconds_sum", method="GET",
                        route="/v1/agents") >= 0


def test_metrics_count_rate_limit_rejections(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="1")
    assert s.get("/v1/agents").status_code == 200
    assert s.get("/v1/agents").status_code == 429
    samples = s.metrics()
    assert metric_value(samples, "rate_limit_rejections_total", kind="ip") == 1
    assert metric_value(samples, "http_requests_total", method="GET", route="/v1/agents",
                        status="429") == 1


def test_metrics_count_token_rate_limit_rejections(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="1")
    h = {"Authorization": "Bearer some-token"}
    assert s.get("/v1/agents", headers=h).status_code == 200
    assert s.get("/v1/agents", headers=h).status_code == 429
    assert metric_value(s.metrics(), "rate_limit_rejections_total", kind="token") == 1


def test_metrics_process_gauges(server):
    samples = server.metrics()
    rss = metric_value(samples, "process_resident_memory_bytes")
    assert rss is not None and rss > 0
    fds = metric_value(samples, "process_open_fds")
    assert fds is not None and fds > 0
