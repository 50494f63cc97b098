"""Hostile and malformed requests: each gets a clean JSON error and the server stays up."""

import json
import socket

import pytest

from conftest import read_http_response

MIB = 1024 * 1024


def nested(depth: int) -> bytes:
    """A valid agent body whose nesting (counting the outer object) is `depth` levels."""
    inner = depth - 1
    return ('{"model":"m","x":' + "[" * inner + "]" * inner + "}").encode()


def assert_json_error(r, status, code=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"]
    if code is not None:
        assert body["error"] == code, body
    return body


def read_until_closed(sock: socket.socket, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


# ---- bodies -----------------------------------------------------------------------------

def test_malformed_json(server):
    r = server.post("/v1/agents", data=b'{"model": "m",', headers={"content-type":
                                                                    "application/json"})
    assert_json_error(r, 400, "invalid_request")
    assert server.agent_count() == 0


def test_trailing_garbage_after_json(server):
    r = server.post("/v1/agents", data=b'{"model":"m"} trailing')
    assert_json_error(r, 400, "invalid_request")
    assert server.agent_count() == 0


def test_empty_body(server):
    r = server.post("/v1/agents", data=b"", headers={"content-type": "application/json"})
    assert_json_error(r, 400, "invalid_request")
    assert server.agent_count() == 0


def test_whitespace_body(server):
    r = server.post("/v1/agents", data=b"  \n\t ")
    assert_json_error(r, 400, "invalid_request")


def test_empty_patch_body(server):
    a = server.create_agent()
    r = server.patch(f"/v1/agents/{a['agent_id']}", data=b"")
    assert_json_error(r, 400, "invalid_request")


def test_nesting_at_the_limit_is_accepted(server):
    r = server.post("/v1/agents", data=nested(64))
    assert r.status_code == 200, r.text


def test_nesting_depth_65_is_400(server):
    r = server.post("/v1/agents", data=nested(65))
    body = assert_json_error(r, 400, "invalid_request")
    assert "nesting" in body["message"]
    assert server.agent_count() == 0


def test_nesting_depth_100000_is_400_and_server_survives(server):
    r = server.post("/v1/agents", data=b"[" * 100_000 + b"]" * 100_000)
    assert_json_error(r, 400, "invalid_request")
    r = server.post("/v1/agents", data=b'{"a":' * 100_000)
    assert_json_error(r, 400, "invalid_request")
    assert server.get("/healthz").status_code == 200
    assert server.running()


def test_body_over_1_mib_is_413(server):
    r = server.post("/v1/agents", data=b"x" * (MIB + 1),
                    headers={"content-type": "application/json"})
    body = assert_json_error(r, 413, "payload_too_large")
    assert "1048576" in body["message"]
    assert server.get("/healthz").status_code == 200
    assert server.agent_count() == 0


def test_body_of_exactly_1_mib_is_not_413(server):
    pad = MIB - len('{"model":"m","instructions":""}')
    body = b'{"model":"m","instructions":"' + b"y" * pad + b'"}'
    assert len(body) == MIB
    r = server.post("/v1/agents", data=body)
    assert r.status_code == 200, r.text[:200]
    assert len(r.json()["instructions"]) == pad


def test_2_mib_string_is_413(server):
    r = server.post("/v1/agents", json={"model": "m", "instructions": "x" * (2 * MIB)})
    assert_json_error(r, 413, "payload_too_large")
    assert server.agent_count() == 0


def test_chunked_body_over_limit_is_413(server):
    def chunks():
        for _ in range(20):
            yield b"z" * 100_000

    r = server.post("/v1/agents", data=chunks(), headers={"content-type": "application/json"})
    assert_json_error(r, 413, "payload_too_large")
    assert server.agent_count() == 0


def test_body_limit_is_configurable(make_server):
    s = make_server(PINCER_MAX_BODY_BYTES="2048")
    r = s.post("/v1/agents", json={"model": "m", "instructions": "x" * 3000})
    assert_json_error(r, 413, "payload_too_large")
    assert s.post("/v1/agents", json={"model": "m", "instructions": "x" * 1000}).status_code == 200


def test_invalid_utf8_in_json_string(server):
    r = server.post("/v1/agents", data=b'{"model":"m\xff\xfe","name":"ok"}',
                    headers={"content-type": "application/json"})
    assert_json_error(r, 400, "invalid_request")
    assert server.agent_count() == 0


@pytest.mark.parametrize("raw", [b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"])
def test_overlong_surrogate_and_truncated_utf8(server, raw):
    r = server.post("/v1/agents", data=b'{"model":"' + raw + b'"}')
    assert_json_error(r, 400, "invalid_request")


def test_valid_utf8_round_trips(server):
    r = server.post("/v1/agents", data='{"model":"m","name":"héllo ✓ 𝄞"}'.encode())
    assert r.status_code == 200
    assert r.json()["name"] == "héllo ✓ 𝄞"


# ---- headers ----------------------------------------------------------------------------

def test_huge_header_is_431(server):
    sock = server.connect()
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 * 1024)
                     + b"\r\n\r\n")
        data = read_until_closed(sock)
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), data[:200]
    assert b"application/json" in head.lower()
    assert b'"error":"request_header_fields_too_large"' in body
    assert server.get("/healthz").status_code == 200


def test_many_headers_over_limit_is_431(server):
    headers = {f"X-H{i}": "v" * 100 for i in range(200)}  # ~22 KiB in total
    status, _, body = server.raw("GET", "/healthz", headers=headers)
    assert status == 431
    assert b"request_header_fields_too_large" in body


def test_malformed_request_line_is_400(server):
    sock = server.connect()
    try:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = read_until_closed(sock)
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 400"), data[:200]
    assert server.get("/healthz").status_code == 200


def test_bad_content_length_is_400(server):
    status, headers, body = server.raw("POST", "/v1/agents", body=None,
                                       headers={"Content-Length": "abc"})
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert server.agent_count() == 0


def test_very_long_url_is_rejected(server):
    status, headers, body = server.raw("GET", "/v1/agents/" + "a" * (20 * 1024))
    assert status in (414, 431)
    assert headers["content-type"].startswith("application/json")
    assert server.get("/healthz").status_code == 200


def test_pipelined_requests_are_answered_in_order(server):
    agent = server.create_agent()
    sock = server.connect()
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: p\r\nx-request-id: one\r\n\r\n"
                     + f"GET /v1/agents/{agent['agent_id']} HTTP/1.1\r\nHost: p\r\n"
                       "x-request-id: two\r\n\r\n".encode()
                     + b"GET /nope HTTP/1.1\r\nHost: p\r\nx-request-id: three\r\n\r\n")
        first = read_http_response(sock)
        second = read_http_response(sock)
        third = read_http_response(sock)
    finally:
        sock.close()
    assert (first[0], first[1]["x-request-id"]) == (200, "one")
    assert (second[0], second[1]["x-request-id"]) == (200, "two")
    assert json.loads(second[2]) == agent
    assert (third[0], third[1]["x-request-id"]) == (404, "three")


def test_small_chunked_body_is_accepted(server):
    def chunks():
        yield b'{"model":'
        yield b'"chunked"}'

    r = server.post("/v1/agents", data=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "chunked"


def test_content_length_and_chunked_together_is_400(server):
    sock = server.connect()
    try:
        sock.sendall(b"POST /v1/agents HTTP/1.1\r\nHost: p\r\nContent-Length: 13\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\nd\r\n{\"model\":\"m\"}\r\n0\r\n\r\n")
        status, headers, _ = read_http_response(sock)
    finally:
        sock.close()
    assert status == 400
    assert server.agent_count() == 0


def test_conflicting_content_lengths_is_400(server):
    sock = server.connect()
    try:
        sock.sendall(b"POST /v1/agents HTTP/1.1\r\nHost: p\r\nContent-Length: 13\r\n"
                     b"Content-Length: 14\r\n\r\n{\"model\":\"m\"} ")
        status, _, _ = read_http_response(sock)
    finally:
        sock.close()
    assert status == 400
    assert server.agent_count() == 0


def test_http11_request_without_host_is_400(server):
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
    sock = server.connect()
    try:
        sock.sendall(b"GET /v1/agents HTTP/1.1\r\nConnection: close\r\n\r\n")
        status, headers, body = read_http_response(sock)
    finally:
        sock.close()
    assert status == 400, body


def test_duplicate_host_is_400(server):
    # RFC 9112 section 3.2: more than one Host field line MUST get 400.
    sock = server.connect()
    try:
        sock.sendall(b"GET /v1/agents HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                     b"Connection: close\r\n\r\n")
        status, headers, body = read_http_response(sock)
    finally:
        sock.close()
    assert status == 400, body


def test_http10_request_is_answered_and_closed(server):
    sock = server.connect()
    try:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        status, _, body = read_http_response(sock)
        assert status == 200
        assert json.loads(body)["ok"] is True
        assert read_until_closed(sock, timeout=5) == b""
    finally:
        sock.close()


def test_connection_close_is_honoured(server):
    sock = server.connect()
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n")
        status, headers, _ = read_http_response(sock)
        assert status == 200
        assert headers.get("connection", "").lower() == "close"
        assert read_until_closed(sock, timeout=5) == b""
    finally:
        sock.close()


# ---- paths ------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/v1/agents/..%2F..%2Fetc",
    "/v1/agents/..%2f..%2fetc%2fpasswd",
    "/v1/agents/../../etc/passwd",
    "/v1/agents/%2e%2e",
    "/v1/agents/..",
])
def test_path_traversal_is_rejected(server, target):
    server.create_agent()
    status, headers, body = server.raw("GET", target)
    assert status in (400, 404), (status, body)
    assert headers["content-type"].startswith("application/json")
    assert b"root:" not in body
    assert b"agent_id" not in body


def test_nul_in_path_is_400(server):
    status, headers, body = server.raw("GET", "/v1/agents/%00")
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert b'"error":"invalid_path"' in body


def test_malformed_percent_escape_is_400(server):
    status, _, body = server.raw("GET", "/v1/agents/%zz")
    assert status == 400
    assert b'"error":"invalid_path"' in body


def test_encoded_slash_in_id_is_404(server):
    status, headers, body = server.raw("GET", "/v1/agents/agt_x%2Fy")
    assert status == 404
    assert headers["content-type"].startswith("application/json")


def test_unknown_route_is_404_json(server):
    r = server.get("/v1/nothing/here")
    body = assert_json_error(r, 404, "not_found")
    assert "/v1/nothing/here" in body["message"]
    assert "x-request-id" in r.headers
    assert server.get("/v2").status_code == 404
    assert server.get("/v1/agents/").status_code == 404
    assert server.post("/v1/agents/agt_000000000000/unknown").status_code == 404


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/v1/agents", {"GET", "POST"}),
    ("DELETE", "/v1/agents", {"GET", "POST"}),
    ("POST", "/v1/agents/agt_000000000000", {"GET", "PATCH", "DELETE"}),
    ("PUT", "/v1/agents/agt_000000000000", {"GET", "PATCH", "DELETE"}),
    ("GET", "/v1/agents/agt_000000000000/archive", {"POST"}),
    ("DELETE", "/v1/agents/agt_000000000000/versions", {"GET"}),
    ("PATCH", "/v1/environments", {"GET", "POST"}),
    ("POST", "/v1/environments/env_000000000000", {"GET", "DELETE"}),
    ("POST", "/v1/audit", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/", {"GET"}),
    ("BREW", "/v1/agents", {"GET", "POST"}),
])
def test_wrong_method_is_405_with_allow(server, method, path, allowed):
    r = server.request(method, path)
    assert_json_error(r, 405, "method_not_allowed")
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed


# ---- everything at once -----------------------------------------------------------------

def test_server_survives_a_barrage_and_keeps_no_partial_rows(server):
    keep = server.create_agent()
    before = server.agent_count()
    server.post("/v1/agents", data=b'{"model":')
    server.post("/v1/agents", data=b"")
    server.post("/v1/agents", data=nested(65))
    server.post("/v1/agents", data=b"[" * 100_000)
    server.post("/v1/agents", data=b"x" * (MIB + 1))
    server.post("/v1/agents", json={"model": "m", "instructions": "x" * (2 * MIB)})
    server.post("/v1/agents", data=b'{"model":"\xff"}')
    server.raw("GET", "/v1/agents/..%2F..%2Fetc")
    server.raw("GET", "/v1/agents/%00")
    server.raw("GET", "/v1/agents/agt_x%2Fy")
    server.raw("GET", "/v1/agents/../../etc/passwd")
    server.put("/v1/agents")
    server.get("/nope")
    sock = server.connect()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: p\r\nX-Big: " + b"a" * (20 * 1024) + b"\r\n\r\n")
    read_until_closed(sock)
    sock.close()
    sock = server.connect()
    sock.sendall(b"\x00\x01\x02garbage\r\n\r\n")
    read_until_closed(sock)
    sock.close()
    assert server.running()
    r = server.get("/healthz")
    assert r.status_code == 200 and r.json()["ok"] is True
    assert server.agent_count() == before
    assert server.get(f"/v1/agents/{keep['agent_id']}").json() == keep
