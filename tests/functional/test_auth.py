"""Bearer-token authentication (PINCER_API_TOKEN)."""

import json

import pytest

from conftest import sha256_hex

TOKEN = "pincer-test-token-0123456789"


@pytest.fixture
def authed(make_server):
    return make_server(PINCER_API_TOKEN=TOKEN)


def bearer(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def test_missing_header_is_401(authed):
    r = authed.get("/v1/agents")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": "unauthorized",
                        "message": "missing Authorization header (expected: Bearer <token>)"}


@pytest.mark.parametrize("value", [f"Basic {TOKEN}", f"Token {TOKEN}", TOKEN, "Bearer-x",
                                   f"Bearer:{TOKEN}"])
def test_non_bearer_scheme_is_401(authed, value):
    r = authed.get("/v1/agents", headers={"Authorization": value})
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized",
                        "message": "Authorization header must use Bearer scheme"}


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer    ", "bearer\t"])
def test_empty_bearer_is_401(authed, value):
    status, headers, body = authed.raw("GET", "/v1/agents", headers={"Authorization": value})
    assert status == 401
    assert json.loads(body) == {"error": "unauthorized", "message": "empty bearer token"}


@pytest.mark.parametrize("token", ["wrong", TOKEN + "x", TOKEN[:-1], TOKEN.upper()])
def test_invalid_token_is_401(authed, token):
    r = authed.get("/v1/agents", headers=bearer(token))
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "message": "invalid token"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_scheme_is_case_insensitive(authed, scheme):
    r = authed.get("/v1/agents", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.json() == {"agents": [], "count": 0}


def test_extra_spaces_around_token(authed):
    status, _, _ = authed.raw("GET", "/v1/agents",
                              headers={"Authorization": f"Bearer    {TOKEN}   "})
    assert status == 200


def test_query_token_works(authed):
    r = authed.get("/v1/agents", params={"token": TOKEN})
    assert r.status_code == 200
    r = authed.get("/v1/agents", params={"token": "nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "message": "invalid token"}


def test_header_takes_precedence_over_query(authed):
    r = authed.get("/v1/agents", params={"token": TOKEN}, headers=bearer("wrong"))
    assert r.status_code == 401
    assert r.json()["message"] == "invalid token"


def test_every_api_route_requires_the_token(authed):
    for method, path in [("GET", "/v1/agents"), ("POST", "/v1/agents"),
                         ("GET", "/v1/agents/agt_000000000000"),
                         ("PATCH", "/v1/agents/agt_000000000000"),
                         ("DELETE", "/v1/agents/agt_000000000000"),
                         ("GET", "/v1/agents/agt_000000000000/versions"),
                         ("POST", "/v1/agents/agt_000000000000/archive"),
                         ("GET", "/v1/environments"), ("POST", "/v1/environments"),
                         ("GET", "/v1/environments/env_000000000000"),
                         ("DELETE", "/v1/environments/env_000000000000"),
                         ("GET", "/v1/audit"), ("GET", "/v1/unknown")]:
        r = authed.request(method, path, json={"model": "m", "name": "n"})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"] == "unauthorized"
    assert authed.get("/v1/agents", headers=bearer()).json()["count"] == 0


@pytest.mark.parametrize("path", ["/", "/healthz", "/metrics"])
def test_bypassed_paths(authed, path):
    assert authed.get(path).status_code == 200
    assert authed.get(path, headers=bearer("wrong")).status_code == 200


def test_crud_with_token(authed):
    r = authed.post("/v1/agents", json={"model": "m"}, headers=bearer())
    assert r.status_code == 200
    aid = r.json()["agent_id"]
    assert authed.get(f"/v1/agents/{aid}", headers=bearer()).status_code == 200
    assert authed.delete(f"/v1/agents/{aid}", headers=bearer()).json() == {"deleted": True}


def test_unauthorized_requests_are_not_executed(authed):
    r = authed.post("/v1/agents", json={"model": "m"}, headers=bearer("wrong"))
    assert r.status_code == 401
    r = authed.post("/v1/environments", json={"name": "e"})
    assert r.status_code == 401
    assert authed.get("/v1/agents", headers=bearer()).json()["count"] == 0
    assert authed.get("/v1/environments", headers=bearer()).json()["count"] == 0
    assert authed.get("/v1/audit", headers=bearer()).json() == {"events": [], "count": 0}


def test_audit_actor_is_token_hash(authed):
    authed.post("/v1/agents", json={"model": "m"}, headers=bearer())
    authed.post("/v1/agents", json={"model": "m"}, params={"token": TOKEN})
    events = authed.get("/v1/audit", headers=bearer()).json()["events"]
    expected = "token:" + sha256_hex(TOKEN)[:8]
    assert [e["actor"] for e in events] == [expected, expected]
    assert len(expected) == len("token:") + 8


def test_token_is_trimmed(make_server):
    s = make_server(PINCER_API_TOKEN=f"  {TOKEN}\t ")
    assert s.get("/v1/agents", headers=bearer()).status_code == 200
    assert s.get("/v1/agents").status_code == 401


def test_blank_token_means_auth_off(make_server):
    s = make_server(PINCER_API_TOKEN="   ")
    assert s.get("/v1/agents").status_code == 200


def test_401_carries_request_id(authed):
    r = authed.get("/v1/agents", headers={"x-request-id": "rid-401"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "rid-401"
