"""Black-box functional tests for the pincer binary.

Every test talks to a real `pincer serve` process over HTTP. The process is started with a
fresh temporary data directory, PINCER_PORT=0 (the kernel picks a free port, which the test
learns from the JSON "listening" log line) and PINCER_RATE_LIMIT_RPM=0 unless the test asks
for something else.

Nothing here sleeps to synchronise: whenever a test has to wait for the server, it polls an
observable condition (a log line, a socket state, a process exit) with a deadline.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 10.0
STOP_DEADLINE_S = 15.0
REQUEST_TIMEOUT_S = 10.0

AGENT_ID_RE = re.compile(r"^agt_[a-z0-9]{12}$")
ENV_ID_RE = re.compile(r"^env_[a-z0-9]{12}$")
REQUEST_ID_RE = re.compile(r"^req_[0-9a-f]{16}$")


def pincer_binary() -> str:
    path = os.environ.get("PINCER_BIN") or str(REPO_ROOT / "build" / "release" / "pincer")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"pincer binary not found at {path!r}; build it (cmake --build --preset release) "
            "or set PINCER_BIN"
        )
    return path


def base_env(overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """The process environment: the caller's, minus any PINCER_* setting, plus overrides.

    An override whose value is None removes the variable.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINCER_")}
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def poll(condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01,
         message: str = "condition") -> Any:
    """Calls `condition` until it returns something truthy or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PincerServer:
    """One `pincer serve` process.

    start() blocks until the process logs "listening" (deadline 10 s) and records the port.
    HTTP helpers go through a requests.Session: server.get("/v1/agents").
    """

    def __init__(self, env: dict[str, Any] | None = None, data_dir: str | None = None,
                 args: Iterable[str] = ()):
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="pincer-ft-")
        self.env_overrides: dict[str, Any] = {
            "PINCER_PORT": "0",
            "PINCER_HOST": "127.0.0.1",
            "PINCER_RATE_LIMIT_RPM": "0",
            "PINCER_LOG_FORMAT": "json",
            "PINCER_DATA_DIR": self.data_dir,
        }
        self.env_overrides.update(env or {})
        self.args = list(args)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.session = requests.Session()
        self._lock = threading.Lock()
        self._raw_lines: list[str] = []
        self._reader: threading.Thread | None = None

    # ---- process control -------------------------------------------------------------

    def start(self) -> "PincerServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self._lock:
            self._raw_lines = []
        self.port = None
        self.proc = subprocess.Popen(
            [pincer_binary(), "serve", *self.args],
            env=base_env(self.env_overrides),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.data_dir,
        )
        self._reader = threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            line = self._find_log(lambda l: l.get("msg") == "listening")
            if line is not None:
                self.port = int(line["port"])
                return self
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        code = self.proc.poll()
        self.kill()
        raise RuntimeError(
            f"pincer did not report 'listening' (exit code {code}); stderr:\n"
            + "\n".join(self.raw_logs())
        )

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._raw_lines.append(line)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = STOP_DEADLINE_S) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_DEADLINE_S) -> int:
        """Sends `sig` and returns the exit code (the process is killed if it overstays)."""
        assert self.proc is not None
        self.session.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"pincer did not exit within {timeout}s of signal {sig}")

    def restart(self) -> "PincerServer":
        """Graceful stop (asserting exit 0), then a new process on the same data dir."""
        if self.running():
            code = self.stop()
            assert code == 0, f"exit code {code} on SIGTERM"
        self.session = requests.Session()
        return self.start()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None and self._reader is not None:
            self._reader.join(timeout=5)
        self.session.close()

    def cleanup(self) -> None:
        self.kill()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- logs ------------------------------------------------------------------------

    def raw_logs(self) -> list[str]:
        with self._lock:
            return list(self._raw_lines)

    def logs(self) -> list[dict]:
        """Every stderr line that parses as a JSON object, in order."""
        out = []
        for line in self.raw_logs():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out

    def _find_log(self, pred: Callable[[dict], bool]) -> dict | None:
        for line in self.logs():
            if pred(line):
                return line
        return None

    def wait_for_log(self, pred: Callable[[dict], bool], timeout: float = 5.0,
                     message: str = "log line") -> dict:
        return poll(lambda: self._find_log(pred), timeout=timeout, message=message)

    def access_logs(self, request_id: str) -> list[dict]:
        return [l for l in self.logs()
                if l.get("msg") == "request" and l.get("request_id") == request_id]

    def sync_logs(self) -> None:
        """Returns once every access-log line of earlier requests has been written.

        The logger is asynchronous but ordered, so once the line for a fresh marker
        request shows up, every earlier line is there too.
        """
        marker = "sync-" + os.urandom(6).hex()
        r = self.get("/healthz", headers={"x-request-id": marker})
        assert r.status_code == 200
        self.wait_for_log(lambda l: l.get("request_id") == marker, message="marker log line")

    # ---- HTTP ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_S)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def raw(self, method: str, target: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """A request whose target is sent byte for byte (no URL normalisation)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    # ---- API shortcuts ---------------------------------------------------------------

    def create_agent(self, **body) -> dict:
        body.setdefault("model", "anthropic/claude-opus-4.7")
        r = self.post("/v1/agents", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def create_environment(self, **body) -> dict:
        body.setdefault("name", "env")
        r = self.post("/v1/environments", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def agent_count(self) -> int:
        r = self.get("/v1/agents")
        assert r.status_code == 200, r.text
        return r.json()["count"]

    def audit(self, **params) -> list[dict]:
        r = self.get("/v1/audit", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == len(body["events"])
        return body["events"]

    def metrics(self) -> list[tuple[str, dict[str, str], float]]:
        r = self.get("/metrics")
        assert r.status_code == 200, r.text
        return parse_prometheus(r.text)


_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Parses Prometheus text exposition into (name, labels, value) samples."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, labels_text, value = m.groups()
        labels = {k: v for k, v in _LABEL_RE.findall(labels_text or "")}
        samples.append((name, labels, float(value)))
    return samples


def metric_value(samples, name: str, **labels) -> float | None:
    for n, l, v in samples:
        if n == name and all(l.get(k) == val for k, val in labels.items()):
            return v
    return None


def details_node(details: dict, path: str) -> dict:
    """Walks a zod-like error tree ({"_errors":[], "a":{"_errors":[...]}}) down `path`."""
    assert isinstance(details, dict) and isinstance(details.get("_errors"), list), details
    node = details
    for seg in path.split(".") if path else []:
        assert seg in node, f"details has no node {seg!r} on the way to {path!r}: {details}"
        node = node[seg]
        assert isinstance(node, dict) and isinstance(node.get("_errors"), list), node
    return node


def errors_under(details: dict, path: str) -> list[str]:
    """Every message recorded at `path` or below it in a zod-like error tree."""
    node = details_node(details, path)
    out = list(node["_errors"])
    for key, child in node.items():
        if key != "_errors":
            out += errors_under(child, "")
    return out


def server_rx_queue(server_port: int, client_port: int) -> int | None:
    """Bytes the server has not yet read on the connection from `client_port` (Linux only).

    Looks up the server side of the loopback connection in /proc/net/tcp; None when absent.
    """
    want_local = f"0100007F:{server_port:04X}"
    want_remote = f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == want_local and fields[2] == want_remote:
                return int(fields[4].split(":")[1], 16)
    return None


def wait_until_server_read(server: "PincerServer", sock: socket.socket,
                           timeout: float = 5.0) -> None:
    """Returns once the server has read everything sent so far on `sock`."""
    client_port = sock.getsockname()[1]
    poll(lambda: server_rx_queue(server.port, client_port) == 0, timeout=timeout,
         message="the server to read the bytes sent")


_LEFTOVERS: "weakref.WeakKeyDictionary[socket.socket, bytes]" = weakref.WeakKeyDictionary()


def read_http_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """Reads one HTTP/1.1 response (skipping 1xx) framed by Content-Length or close.

    Bytes after the response (pipelined responses) are kept for the next call on `sock`.
    """
    sock.settimeout(timeout)
    buf = _LEFTOVERS.pop(sock, b"")

    def more() -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a full response: {buf!r}")
        return chunk

    while True:
        while b"\r\n\r\n" not in buf:
            buf += more()
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if 100 <= status < 200:
            continue
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(buf) < n:
                buf += more()
            _LEFTOVERS[sock] = buf[n:]
            return status, headers, buf[:n]
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return status, headers, buf
            buf += chunk


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """True if the peer closes `sock` within `timeout` seconds (any data before is ignored)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def run_pincer(args: Iterable[str] = ("serve",), env: dict[str, Any] | None = None,
               timeout: float = 10.0) -> subprocess.CompletedProcess:
    """Runs the binary to completion (for start-up failures), with a fresh data dir."""
    with tempfile.TemporaryDirectory(prefix="pincer-ft-") as data_dir:
        overrides = {"PINCER_DATA_DIR": data_dir, "PINCER_PORT": "0", "PINCER_LOG_FORMAT": "json"}
        overrides.update(env or {})
        return subprocess.run([pincer_binary(), *args], env=base_env(overrides),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                              cwd=data_dir)


@pytest.fixture
def make_server():
    """Factory: make_server(PINCER_API_TOKEN="x", ...) starts a server with extra env."""
    servers: list[PincerServer] = []

    def factory(data_dir: str | None = None, args: Iterable[str] = (), **env) -> PincerServer:
        s = PincerServer(env=env, data_dir=data_dir, args=args)
        servers.append(s)
        return s.start()

    yield factory
    for s in servers:
        s.cleanup()


@pytest.fixture
def server(make_server) -> PincerServer:
    """A fresh server with auth off and rate limiting off."""
    return make_server()
