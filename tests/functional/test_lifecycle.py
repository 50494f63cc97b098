"""Process lifecycle: persistence across restarts, signals, configuration errors, draining."""

import json
import os
import signal
import socket

import pytest

from conftest import (closed_by_peer, poll, read_http_response, run_pincer,
                      wait_until_server_read)


def connection_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


# ---- persistence ------------------------------------------------------------------------

def test_data_survives_restart(server):
    a = server.create_agent(name="first", tools=["bash"])
    b = server.create_agent(**{"model": "m2", "quota": {"maxTokensPerSession": 5}})
    a2 = server.patch(f"/v1/agents/{a['agent_id']}", json={"version": 1, "name": "again"}).json()
    b2 = server.post(f"/v1/agents/{b['agent_id']}/archive").json()
    gone = server.create_agent()
    server.delete(f"/v1/agents/{gone['agent_id']}")
    e1 = server.create_environment(name="e1", packages={"pip": ["numpy"]})
    e2 = server.create_environment(name="e2", networking={"type": "limited",
                                                          "allowedHosts": ["pypi.org"]})
    versions = server.get(f"/v1/agents/{a['agent_id']}/versions").json()
    audit = server.audit()

    data_dir = server.data_dir
    assert server.stop(signal.SIGTERM) == 0
    server.start()
    assert server.data_dir == data_dir

    assert server.get("/v1/agents").json() == {"agents": [a2, b2], "count": 2}
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == a2
    assert server.get(f"/v1/agents/{b['agent_id']}").json() == b2
    assert server.get(f"/v1/agents/{gone['agent_id']}").status_code == 404
    assert server.get(f"/v1/agents/{a['agent_id']}/versions").json() == versions
    assert server.get("/v1/environments").json() == {"environments": [e1, e2], "count": 2}
    assert server.audit() == audit
    # Writes continue where they left off.
    r = server.patch(f"/v1/agents/{a['agent_id']}", json={"version": 2, "name": "third"})
    assert r.status_code == 200 and r.json()["version"] == 3
    r = server.patch(f"/v1/agents/{b['agent_id']}", json={"version": 1, "name": "x"})
    assert r.status_code == 409 and r.json()["error"] == "agent_archived"


def test_restart_helper_keeps_data(server):
    a = server.create_agent()
    server.restart()
    assert server.get(f"/v1/agents/{a['agent_id']}").json() == a


def test_sigterm_exits_0(server):
    server.create_agent()
    assert server.stop(signal.SIGTERM) == 0
    msgs = [l.get("msg") for l in server.logs()]
    assert "shutting down" in msgs


def test_sigint_exits_0(server):
    server.create_agent()
    assert server.stop(signal.SIGINT) == 0
    server.start()
    assert server.agent_count() == 1


def test_restart_on_fresh_port(server):
    assert server.stop() == 0
    server.start()
    assert server.get("/healthz").status_code == 200


# ---- configuration errors -----------------------------------------------------------------

def config_error(env=None, args=("serve",)):
    out = run_pincer(args, env=env)
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_port_exact_message():
    assert config_error({"PINCER_PORT": "x"}) == (
        'pincer: invalid configuration: PINCER_PORT (--port) must be an integer in 0..65535, '
        'got "x"')


@pytest.mark.parametrize("env,setting,value", [
    ({"PINCER_PORT": "70000"}, "PINCER_PORT (--port)", "70000"),
    ({"PINCER_PORT": "-1"}, "PINCER_PORT (--port)", "-1"),
    ({"PINCER_PORT": "80 "}, "PINCER_PORT (--port)", "80 "),
    ({"PINCER_LOG_FORMAT": "xml"}, "PINCER_LOG_FORMAT (--log-format)", "xml"),
    ({"PINCER_RATE_LIMIT_RPM": "-1"}, "PINCER_RATE_LIMIT_RPM (--rate-limit-rpm)", "-1"),
    ({"PINCER_RATE_LIMIT_RPM": "fast"}, "PINCER_RATE_LIMIT_RPM (--rate-limit-rpm)", "fast"),
    ({"PINCER_MAX_BODY_BYTES": "1MB"}, "PINCER_MAX_BODY_BYTES (--max-body-bytes)", "1MB"),
    ({"PINCER_MAX_HEADER_BYTES": "0"}, "PINCER_MAX_HEADER_BYTES (--max-header-bytes)", "0"),
    ({"PINCER_READ_TIMEOUT_MS": "soon"}, "PINCER_READ_TIMEOUT_MS (--read-timeout-ms)", "soon"),
    ({"PINCER_SHUTDOWN_GRACE_MS": "-5"}, "PINCER_SHUTDOWN_GRACE_MS (--shutdown-grace-ms)", "-5"),
    ({"PINCER_AUDIT_RETENTION_DAYS": "forever"},
     "PINCER_AUDIT_RETENTION_DAYS (--audit-retention-days)", "forever"),
    ({"PINCER_TRUST_FORWARDED_FOR": "maybe"},
     "PINCER_TRUST_FORWARDED_FOR (--trust-forwarded-for)", "maybe"),
    ({"PINCER_DATA_DIR": ""}, "PINCER_DATA_DIR (--data-dir)", ""),
])
def test_invalid_config_exits_2_naming_the_setting(env, setting, value):
    line = config_error(env)
    assert line.startswith(f"pincer: invalid configuration: {setting} "), line
    assert line.endswith(f'got "{value}"'), line


@pytest.mark.parametrize("runtime, limit", [("local", 62), ("docker", 55)])
def test_a_data_dir_too_long_for_sandbox_sockets_fails_at_start(runtime, limit):
    """Sandboxes listen on unix sockets under the data dir; a path that cannot be a socket
    address is refused up front (it once crashed the server at the first tool call)."""
    long_dir = "/tmp/" + "d" * 80
    out = run_pincer(env={"PINCER_DATA_DIR": long_dir, "PINCER_SANDBOX": runtime})
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert out.stderr.decode().strip() == (
        f"pincer: PINCER_DATA_DIR: {long_dir} is too long for the sandboxes' unix sockets "
        f"(at most {limit} characters)")
    assert not os.path.exists(long_dir)


def test_invalid_flag_value_names_the_setting():
    line = config_error(args=("serve", "--port", "abc"))
    assert line == ('pincer: invalid configuration: PINCER_PORT (--port) must be an integer in '
                    '0..65535, got "abc"')


def test_flag_overrides_environment(make_server):
    s = make_server(PINCER_PORT="not-a-port", args=["--port", "0"])
    assert s.get("/healthz").status_code == 200


def test_flag_overrides_rate_limit(make_server):
    s = make_server(PINCER_RATE_LIMIT_RPM="0", args=["--rate-limit-rpm", "1"])
    assert s.get("/v1/agents").status_code == 200
    assert s.get("/v1/agents").status_code == 429


def test_bad_host_fails_to_start():
    out = run_pincer(env={"PINCER_HOST": "not-an-address"})
    assert out.returncode != 0
    assert "PINCER_HOST" in out.stderr.decode()


def test_port_in_use_fails_with_host_and_port(server):
    out = run_pincer(env={"PINCER_PORT": str(server.port)})
    assert out.returncode != 0
    err = out.stderr.decode()
    assert f"127.0.0.1:{server.port}" in err, err
    # The running server is unaffected.
    assert server.get("/healthz").status_code == 200


def test_unusable_data_dir_fails_to_start(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = run_pincer(env={"PINCER_DATA_DIR": str(blocker / "sub")})
    assert out.returncode != 0
    assert "PINCER_DATA_DIR" in out.stderr.decode() or str(blocker) in out.stderr.decode()


def test_version_subcommand():
    out = run_pincer(["version"])
    assert out.returncode == 0
    assert out.stdout.decode().startswith("pincer ")


# ---- draining ---------------------------------------------------------------------------

def start_partial_post(server, body: bytes, expect_continue=False) -> socket.socket:
    sock = server.connect(timeout=10)
    head = (b"POST /v1/agents HTTP/1.1\r\nHost: pincer\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n" % len(body))
    if expect_continue:
        head += b"Expect: 100-continue\r\n"
    sock.sendall(head + b"\r\n")
    return sock


def test_in_flight_request_completes_during_sigterm(server):
    body = json.dumps({"model": "in-flight", "name": "drain"}).encode()
    half = len(body) // 2
    sock = start_partial_post(server, body)
    sock.sendall(body[:half])
    wait_until_server_read(server, sock)

    server.send_signal(signal.SIGTERM)
    server.wait_for_log(lambda l: l.get("msg") == "shutting down", message="shutting down")
    poll(lambda: connection_refused(server.port), timeout=5, message="listener to close")
    assert server.running()

    sock.sendall(body[half:])
    status, headers, payload = read_http_response(sock)
    sock.close()
    assert status == 200, payload
    agent = json.loads(payload)
    assert agent["model"] == "in-flight"
    assert server.wait() == 0

    server.start()
    assert server.get(f"/v1/agents/{agent['agent_id']}").json() == agent


def test_in_flight_request_with_expect_continue(server):
    body = json.dumps({"model": "expect"}).encode()
    sock = start_partial_post(server, body, expect_continue=True)
    sock.settimeout(5)
    interim = sock.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100"), interim
    server.send_signal(signal.SIGTERM)
    server.wait_for_log(lambda l: l.get("msg") == "shutting down", message="shutting down")
    sock.sendall(body)
    status, _, payload = read_http_response(sock)
    sock.close()
    assert status == 200, payload
    assert json.loads(payload)["model"] == "expect"
    assert server.wait() == 0


def test_idle_keepalive_connections_do_not_delay_shutdown(make_server):
    s = make_server(PINCER_SHUTDOWN_GRACE_MS="60000")
    used = s.connect(timeout=10)
    used.sendall(b"GET /healthz HTTP/1.1\r\nHost: pincer\r\n\r\n")
    status, headers, _ = read_http_response(used)
    assert status == 200
    assert headers.get("connection", "").lower() != "close"
    fresh = s.connect(timeout=10)  # connected, never sent anything
    s.send_signal(signal.SIGTERM)
    assert s.wait(timeout=10) == 0  # far below the 60 s grace
    assert closed_by_peer(used, 5)
    assert closed_by_peer(fresh, 5)
    used.close()
    fresh.close()


def test_stuck_request_is_cut_off_after_the_grace_period(make_server):
    s = make_server(PINCER_SHUTDOWN_GRACE_MS="300")
    body = b'{"model":"never-finished"}'
    sock = start_partial_post(s, body)
    sock.sendall(body[:5])
    wait_until_server_read(s, sock)
    s.send_signal(signal.SIGTERM)
    assert s.wait(timeout=10) == 0
    assert closed_by_peer(sock, 5)
    sock.close()
    s.start()
    assert s.agent_count() == 0
