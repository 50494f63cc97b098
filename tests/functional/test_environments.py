"""/v1/environments: create (with networking and packages rules), list, get, delete."""

import time

import pytest

from conftest import ENV_ID_RE, details_node, errors_under

ENV_KEYS = {"environment_id", "name", "description", "packages", "networking", "created_at"}


def limited(hosts, **extra):
    return {"name": "net", "networking": {"type": "limited", "allowedHosts": hosts, **extra}}


# ---- create -----------------------------------------------------------------------------

def test_create_with_defaults(server):
    before = int(time.time() * 1000)
    r = server.post("/v1/environments", json={"name": "python"})
    assert r.status_code == 200
    e = r.json()
    assert set(e) == ENV_KEYS
    assert ENV_ID_RE.match(e["environment_id"])
    assert e["name"] == "python"
    assert e["description"] == ""
    assert e["packages"] is None
    assert e["networking"] == {"type": "unrestricted"}
    assert isinstance(e["created_at"], int)
    assert abs(e["created_at"] - before) < 60_000


def test_create_echoes_description_and_packages(server):
    pkgs = {"pip": ["requests==2.31.0", "numpy"], "apt": ["curl"], "npm": ["typescript@^5"],
            "cargo": ["ripgrep"], "gem": ["rake"], "go": ["golang.org/x/tools/gopls@latest"]}
    e = server.create_environment(name="full", description="d" * 500, packages=pkgs)
    assert e["description"] == "d" * 500
    assert e["packages"] == pkgs
    assert server.get(f"/v1/environments/{e['environment_id']}").json() == e


def test_create_with_empty_packages(server):
    assert server.create_environment(packages={})["packages"] == {}


def test_create_with_null_packages_and_networking(server):
    e = server.create_environment(packages=None, networking=None)
    assert e["packages"] is None
    assert e["networking"] == {"type": "unrestricted"}


def test_limited_networking_fills_defaults(server):
    e = server.create_environment(**limited(["api.example.com", "*.github.com"]))
    assert e["networking"] == {"type": "limited", "allowedHosts": ["api.example.com",
                                                                   "*.github.com"],
                               "allowMcpServers": False, "allowPackageManagers": False}


def test_limited_networking_echoes_flags(server):
    e = server.create_environment(**limited(["pypi.org"], allowMcpServers=True,
                                            allowPackageManagers=True))
    assert e["networking"] == {"type": "limited", "allowedHosts": ["pypi.org"],
                               "allowMcpServers": True, "allowPackageManagers": True}


def test_networking_none_is_accepted(server):
    assert server.create_environment(networking={"type": "none"})["networking"] == {"type": "none"}


def test_networking_unrestricted_explicit(server):
    e = server.create_environment(networking={"type": "unrestricted"})
    assert e["networking"] == {"type": "unrestricted"}


@pytest.mark.parametrize("host", [
    "example.com", "EXAMPLE.COM", "a", "*", "*.example.com", "api-1.internal-2.example.co.uk",
    "xn--bcher-kva.example", "a" * 253, "123.example.com", "1a.2b",
])
def test_allowed_host_accepted(server, host):
    r = server.post("/v1/environments", json=limited([host]))
    assert r.status_code == 200, r.text
    assert r.json()["networking"]["allowedHosts"] == [host]


@pytest.mark.parametrize("host", [
    "1.2.3.4", "10.0.0.1", "123", "1.2.3", "10.0.0.0/8", "::1", "[::1]", "https://example.com",
    "http://example.com", "example.com:443", "example.com/path", "", "-example.com",
    "example.com-", "example.com.", "exa mple.com", "a" * 254, "exa_mple.com", "example.com?x",
    "user@example.com",
])
def test_allowed_host_rejected(server, host):
    r = server.post("/v1/environments", json=limited(["ok.example.com", host]))
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error"] == "invalid_request"
    assert "networking.allowedHosts" in err["message"]
    assert errors_under(err["details"], "networking.allowedHosts")
    assert server.get("/v1/environments").json()["count"] == 0


def test_allowed_hosts_up_to_256_entries(server):
    hosts = [f"h{i}.example.com" for i in range(256)]
    r = server.post("/v1/environments", json=limited(hosts))
    assert r.status_code == 200, r.text
    assert r.json()["networking"]["allowedHosts"] == hosts


def test_allowed_hosts_over_256_entries_rejected(server):
    hosts = [f"h{i}.example.com" for i in range(257)]
    r = server.post("/v1/environments", json=limited(hosts))
    assert r.status_code == 400
    assert "networking.allowedHosts" in r.json()["message"]


@pytest.mark.parametrize("networking,field", [
    ({"type": "limited"}, "networking.allowedHosts"),
    ({"type": "limited", "allowedHosts": []}, "networking.allowedHosts"),
    ({"type": "limited", "allowedHosts": "example.com"}, "networking.allowedHosts"),
    ({"type": "limited", "allowedHosts": [5]}, "networking.allowedHosts"),
    ({"type": "limited", "allowedHosts": ["a.com"], "allowMcpServers": "yes"},
     "networking.allowMcpServers"),
    ({"type": "limited", "allowedHosts": ["a.com"], "allowPackageManagers": 1},
     "networking.allowPackageManagers"),
    ({"type": "open"}, "networking.type"),
    ({}, "networking.type"),
    ("limited", "networking"),
])
def test_bad_networking_rejected(server, networking, field):
    r = server.post("/v1/environments", json={"name": "n", "networking": networking})
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error"] == "invalid_request"
    assert field in err["message"]
    assert errors_under(err["details"], field)


@pytest.mark.parametrize("packages,field", [
    ({"brew": ["jq"]}, "packages.brew"),
    ({"pip": "requests"}, "packages.pip"),
    ({"pip": [1]}, "packages.pip.0"),
    ({"apt": [""]}, "packages.apt.0"),
    ({"apt": ["curl; rm -rf /"]}, "packages.apt.0"),
    ({"npm": ["--global"]}, "packages.npm.0"),
    ({"pip": ["requests"], "conda": ["x"]}, "packages.conda"),
    ("pip", "packages"),
])
def test_bad_packages_rejected(server, packages, field):
    r = server.post("/v1/environments", json={"name": "p", "packages": packages})
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error"] == "invalid_request"
    assert field in err["message"]
    assert details_node(err["details"], field)["_errors"]


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": 5}, "name"),
    ({"name": "x", "description": 5}, "description"),
    ({"name": "x", "description": "d" * 501}, "description"),
])
def test_bad_name_or_description_rejected(server, body, field):
    r = server.post("/v1/environments", json=body)
    assert r.status_code == 400
    err = r.json()
    assert err["error"] == "invalid_request"
    assert field in err["message"]
    assert details_node(err["details"], field)["_errors"]


@pytest.mark.parametrize("raw", [b"[]", b"5", b"null", b"{", b""])
def test_non_object_body_rejected(server, raw):
    r = server.post("/v1/environments", data=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert server.get("/v1/environments").json()["count"] == 0


# ---- list / get / delete ----------------------------------------------------------------

def test_list_get_delete(server):
    assert server.get("/v1/environments").json() == {"environments": [], "count": 0}
    a = server.create_environment(name="a")
    b = server.create_environment(name="b", networking={"type": "none"})
    c = server.create_environment(name="c")
    assert server.get("/v1/environments").json() == {"environments": [a, b, c], "count": 3}
    r = server.get(f"/v1/environments/{b['environment_id']}")
    assert r.status_code == 200
    assert r.json() == b
    r = server.delete(f"/v1/environments/{b['environment_id']}")
    assert r.status_code == 200
    assert r.json() == {"deleted": True}
    r = server.get(f"/v1/environments/{b['environment_id']}")
    assert r.status_code == 404
    assert r.json()["error"] == "environment_not_found"
    r = server.delete(f"/v1/environments/{b['environment_id']}")
    assert r.status_code == 404
    assert r.json()["error"] == "environment_not_found"
    assert server.get("/v1/environments").json() == {"environments": [a, c], "count": 2}


@pytest.mark.parametrize("env_id", ["env_000000000000", "env_x", "agt_000000000000", "nope"])
def test_unknown_environment_is_404(server, env_id):
    for method in ("GET", "DELETE"):
        r = server.request(method, f"/v1/environments/{env_id}")
        assert r.status_code == 404, method
        assert r.json()["error"] == "environment_not_found", method


def test_environment_pagination(server):
    created = [server.create_environment(name=f"e{i}")["environment_id"] for i in range(5)]
    seen, after = [], None
    for _ in range(10):
        params = {"limit": 2, **({"after": after} if after else {})}
        body = server.get("/v1/environments", params=params).json()
        seen += [e["environment_id"] for e in body["environments"]]
        if not body["has_more"]:
            assert body["next_after"] is None
            break
        after = body["next_after"]
    assert seen == created
    assert server.get("/v1/environments", params={"limit": 0}).status_code == 400
    assert server.get("/v1/environments",
                      params={"limit": 1, "after": "env_000000000000"}).status_code == 400


def test_unknown_fields_are_ignored(server):
    e = server.create_environment(name="x", environment_id="env_mine00000000", extra=[1])
    assert set(e) == ENV_KEYS
    assert e["environment_id"] != "env_mine00000000"
