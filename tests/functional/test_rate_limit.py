"""Token-bucket rate limiting (PINCER_RATE_LIMIT_RPM)."""

import re

import pytest

RATE_MSG = re.compile(r"^rate limit exceeded \((\d+) req/min\)\. retry in (\d+)s$")


def assert_rate_limited(r, rpm):
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "rate_limited"
    m = RATE_MSG.match(body["message"])
    assert m, body["message"]
    assert int(m.group(1)) == rpm
    retry = int(m.group(2))
    assert 1 <= retry <= 60 / rpm + 1
    assert r.headers["retry-after"] == str(retry)
    assert r.headers["x-ratelimit-limit"] == str(rpm)
    assert r.headers["x-ratelimit-remaining"] == "0"
    return retry


def test_sixth_request_is_rejected(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="5")
    remaining = []
    for _ in range(5):
        r = s.get("/v1/agents")
        assert r.status_code == 200
        assert r.headers["x-ratelimit-limit"] == "5"
        remaining.append(int(r.headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    r = s.get("/v1/agents")
    assert_rate_limited(r, 5)
    assert r.json()["message"] in ("rate limit exceeded (5 req/min). retry in 12s",
                                   "rate limit exceeded (5 req/min). retry in 11s")


def test_rejections_count_every_method_and_route(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="3")
    assert s.post("/v1/agents", json={"model": "m"}).status_code == 200
    assert s.get("/nope").status_code == 404  # unknown routes still cost a token
    assert s.get("/").status_code == 200
    assert_rate_limited(s.post("/v1/agents", json={"model": "m"}), 3)
    assert_rate_limited(s.get("/v1/audit"), 3)
    assert s.get("/v1/agents", headers={"X-Forwarded-For": "192.0.2.50"}).json()["count"] == 1


def test_rejected_request_is_not_executed(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="1")
    assert s.post("/v1/agents", json={"model": "m"}).status_code == 200
    assert_rate_limited(s.post("/v1/agents", json={"model": "m"}), 1)
    other = {"X-Forwarded-For": "192.0.2.1"}
    assert s.get("/v1/agents", headers=other).json()["count"] == 1


def test_health_and_metrics_are_not_limited(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="2")
    for _ in range(10):
        r = s.get("/healthz")
        assert r.status_code == 200
        assert "x-ratelimit-limit" not in r.headers
        assert s.get("/metrics").status_code == 200
    # The caller's bucket is still full.
    r = s.get("/v1/agents")
    assert r.status_code == 200
    assert r.headers["x-ratelimit-remaining"] == "1"


def test_root_is_limited(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="1")
    assert s.get("/").status_code == 200
    assert_rate_limited(s.get("/"), 1)


def test_forwarded_for_first_entry_is_the_key(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="2")
    a = {"X-Forwarded-For": "198.51.100.1"}
    a_via_proxy = {"X-Forwarded-For": "198.51.100.1, 10.0.0.1"}
    b = {"X-Forwarded-For": "198.51.100.2, 198.51.100.1"}
    assert s.get("/v1/agents", headers=a).status_code == 200
    assert s.get("/v1/agents", headers=a_via_proxy).status_code == 200
    assert_rate_limited(s.get("/v1/agents", headers=a), 2)
    assert_rate_limited(s.get("/v1/agents", headers=a_via_proxy), 2)
    r = s.get("/v1/agents", headers=b)
    assert r.status_code == 200
    assert r.headers["x-ratelimit-remaining"] == "1"
    # The socket peer has its own bucket.
    assert s.get("/v1/agents").status_code == 200


def test_real_ip_is_used_without_forwarded_for(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="1")
    assert s.get("/v1/agents", headers={"X-Real-IP": "192.0.2.7"}).status_code == 200
    assert_rate_limited(s.get("/v1/agents", headers={"X-Real-IP": "192.0.2.7"}), 1)
    assert s.get("/v1/agents", headers={"X-Real-IP": "192.0.2.8"}).status_code == 200


def test_forwarded_for_ignored_when_untrusted(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="2", PINCER_TRUST_FORWARDED_FOR="false")
    assert s.get("/v1/agents", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert s.get("/v1/agents", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    assert_rate_limited(s.get("/v1/agents", headers={"X-Forwarded-For": "198.51.100.3"}), 2)


def test_bearer_callers_are_keyed_by_token(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="2")
    t1 = {"Authorization": "Bearer token-one"}
    t2 = {"Authorization": "Bearer token-two"}
    assert s.get("/v1/agents", headers=t1).status_code == 200
    assert s.get("/v1/agents", headers={**t1, "X-Forwarded-For": "203.0.113.1"}).status_code \
        == 200
    # Same token from another address: same bucket.
    assert_rate_limited(s.get("/v1/agents", headers={**t1, "X-Forwarded-For": "203.0.113.2"}),
                        2)
    # Another token, and the bare IP, have their own buckets.
    assert s.get("/v1/agents", headers=t2).status_code == 200
    assert s.get("/v1/agents").status_code == 200


def test_rate_limit_runs_before_auth(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="2", PINCER_API_TOKEN="secret")
    assert s.get("/v1/agents").status_code == 401
    assert s.get("/v1/agents").status_code == 401
    assert_rate_limited(s.get("/v1/agents"), 2)
    ok = {"Authorization": "Bearer secret"}
    r = s.get("/v1/agents", headers=ok)
    assert r.status_code == 200
    assert r.headers["x-ratelimit-limit"] == "2"
    assert r.headers["x-ratelimit-remaining"] == "1"


def test_error_responses_carry_rate_limit_headers(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="10")
    r = s.get("/v1/agents/agt_000000000000")
    assert r.status_code == 404
    assert r.headers["x-ratelimit-limit"] == "10"
    assert r.headers["x-ratelimit-remaining"] == "9"


def test_429_carries_request_id(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="1")
    s.get("/v1/agents")
    r = s.get("/v1/agents", headers={"x-request-id": "rid-429"})
    assert r.status_code == 429
    assert r.headers["x-request-id"] == "rid-429"


@pytest.mark.parametrize("rpm", ["0", None])
def test_limit_off_or_default(make_server, rpm):
    s = make_server(PINCER_RATE_LIMIT_RPM=rpm)
    statuses = {s.get("/v1/agents").status_code for _ in range(30)}
    assert statuses == {200}
    r = s.get("/v1/agents")
    if rpm == "0":
        assert "x-ratelimit-limit" not in r.headers
    else:
        assert r.headers["x-ratelimit-limit"] == "120"
