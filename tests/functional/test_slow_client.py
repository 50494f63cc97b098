"""Slow and stalled clients are cut off by PINCER_READ_TIMEOUT_MS / KEEPALIVE_TIMEOUT_MS."""

import select
import time

import pytest

from conftest import closed_by_peer, read_http_response


@pytest.fixture
def strict(make_server):
    return make_server(PINCER_READ_TIMEOUT_MS="300")


def test_partial_request_line_is_closed(strict):
    sock = strict.connect()
    sock.sendall(b"GET /healthz HTT")
    started = time.monotonic()
    # Other clients are served while the slow one hangs.
    for _ in range(5):
        assert strict.get("/healthz").status_code == 200
    assert closed_by_peer(sock, timeout=5), "slow client was not disconnected"
    elapsed = time.monotonic() - started
    assert elapsed >= 0.25, f"closed after {elapsed:.3f}s: before the read timeout"
    sock.close()
    assert strict.get("/healthz").status_code == 200


def test_partial_headers_are_closed(strict):
    sock = strict.connect()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: pincer\r\nX-Slow: ")
    assert closed_by_peer(sock, timeout=5)
    sock.close()


def test_partial_body_is_closed(strict):
    sock = strict.connect()
    sock.sendall(b"POST /v1/agents HTTP/1.1\r\nHost: pincer\r\nContent-Length: 100\r\n\r\n"
                 b'{"model":')
    assert closed_by_peer(sock, timeout=5)
    sock.close()
    assert strict.agent_count() == 0


def test_drip_fed_request_is_closed(strict):
    """A client sending one byte per 100 ms (each gap under the timeout) is still cut off."""
    request = b"GET /healthz HTTP/1.1\r\nHost: pincer\r\n" + b"X-Pad: " + b"p" * 200 + b"\r\n\r\n"
    sock = strict.connect()
    deadline = time.monotonic() + 5
    closed = False
    sent = 0
    while time.monotonic() < deadline and sent < len(request):
        try:
            sock.sendall(request[sent:sent + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        sent += 1
        # Wait up to 100 ms for the server to hang up before sending the next byte.
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            if not data:
                closed = True
                break
            assert not data.startswith(b"HTTP/1.1 200"), "drip-fed request was served"
    sock.close()
    assert closed, f"still connected after sending {sent} of {len(request)} bytes"
    assert sent < len(request)


def test_silent_connection_is_closed_after_keepalive_timeout(make_server):
    s = make_server(PINCER_KEEPALIVE_TIMEOUT_MS="300")
    sock = s.connect()
    assert closed_by_peer(sock, timeout=5)
    sock.close()


def test_idle_keepalive_connection_is_closed(make_server):
    s = make_server(PINCER_KEEPALIVE_TIMEOUT_MS="300")
    sock = s.connect()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: pincer\r\n\r\n")
    status, _, _ = read_http_response(sock)
    assert status == 200
    assert closed_by_peer(sock, timeout=5)
    sock.close()


def still_open(sock) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def test_many_stalled_clients_do_not_block_others(make_server):
    s = make_server(PINCER_READ_TIMEOUT_MS="2000")
    stalled = []
    try:
        for _ in range(64):
            sock = s.connect()
            sock.sendall(b"POST /v1/agents HTTP/1.1\r\nHost: p\r\nContent-Length: 10\r\n\r\n{")
            stalled.append(sock)
        r = s.post("/v1/agents", json={"model": "m"})
        assert r.status_code == 200
        assert s.get("/healthz").status_code == 200
        # Served while every stalled client was still connected.
        assert all(still_open(sock) for sock in stalled)
        for sock in stalled:
            assert closed_by_peer(sock, timeout=10)
    finally:
        for sock in stalled:
            sock.close()
    assert s.agent_count() == 1
