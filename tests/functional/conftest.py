"""Black-box functional tests for the pincer binary.

Every test talks to a real `pincer serve` process over HTTP. The process is started with a
fresh temporary data directory, PINCER_PORT=0 (the kernel picks a free port, which the test
learns from the JSON "listening" log line) and PINCER_RATE_LIMIT_RPM=0 unless the test asks
for something else.

Nothing here sleeps to synchronise: whenever a test has to wait for the server, it polls an
observable condition (a log line, a socket state, a process exit) with a deadline.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=None)
def npm_project(name: str, min_node: int = 20) -> Path:
    """A temporary copy of tests/functional/<name> (package.json, lockfile, scripts) with
    `npm ci` run in it, once per test process. Needs node >= `min_node` and npm on PATH
    (scripts/install-deps.sh installs them)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} is not on PATH (scripts/install-deps.sh installs nodejs and npm)"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= min_node, version.stdout
    work = Path(tempfile.mkdtemp(prefix=f"pincer-{name}-"))
    for f in (Path(__file__).resolve().parent / name).iterdir():
        if f.is_file() and f.suffix in (".json", ".mjs"):
            shutil.copy2(f, work / f.name)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=work,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"npm ci failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return work


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


# ==== Sessions, the agent loop, the mock LLM and SSE ==========================================
# Helpers for test_sessions*, test_events*, test_sse*, test_agent_loop*, test_providers*,
# test_recovery* and test_quota*. A session's LLM calls go to pincer-mock-llm
# (tests/support/mock_llm): the agent's instructions carry a "[mock:<key>]" marker, so every
# test scripts its own key on a mock shared by the module.

IDLE_STATES = ("idle", "failed")


def unique_key(prefix: str = "k") -> str:
    return prefix + os.urandom(5).hex()


def llm_env(mock, **overrides) -> dict[str, Any]:
    """Server environment pointing both wire formats at `mock`, with test tools and fast retries.

    An override whose value is None removes the variable (e.g. ANTHROPIC_API_KEY=None).
    """
    env: dict[str, Any] = {
        "OPENAI_BASE_URL": mock.openai_base_url,
        "OPENAI_API_KEY": "mock",
        "ANTHROPIC_BASE_URL": mock.anthropic_base_url,
        "ANTHROPIC_API_KEY": "mock",
        "PINCER_ENABLE_TEST_TOOLS": "1",
        "PINCER_LLM_RETRY_BASE_MS": "10",
    }
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def mock_llm():
    """One pincer-mock-llm per test module; tests keep apart by using their own script keys."""
    from mock_llm_client import MockLLM
    with MockLLM() as mock:
        yield mock
        assert mock.proc.poll() is None, "pincer-mock-llm died: " + mock.stderr()


@pytest.fixture
def llm_server(make_server, mock_llm):
    """Factory: llm_server(PINCER_MAX_STEPS=3, ...) starts a server wired to the mock LLM."""
    def factory(data_dir: str | None = None, **env) -> PincerServer:
        return make_server(data_dir=data_dir, **llm_env(mock_llm, **env))
    return factory


def crash_restart(server: PincerServer) -> PincerServer:
    """kill -9, then a new process on the same data dir with the same settings."""
    server.kill()
    server.session = requests.Session()
    return server.start()


class AgentSession:
    """A session of a fresh agent whose LLM calls go to the mock under script key `key`."""

    def __init__(self, server: PincerServer, mock, key: str, agent: dict, session: dict):
        self.server = server
        self.mock = mock
        self.key = key
        self.agent = agent
        self.id = session["session_id"]
        self.created = session

    @classmethod
    def create(cls, server: PincerServer, mock, model: str = "openai/mock-model",
               key: str | None = None, instructions: str | None = None,
               steps: list[dict] | None = None, **agent_body) -> "AgentSession":
        key = key or unique_key()
        if instructions is None:
            instructions = "You are a test agent."
        agent = server.create_agent(model=model, instructions=f"{instructions} [mock:{key}]",
                                    **agent_body)
        r = server.post("/v1/sessions", json={"agentId": agent["agent_id"]})
        assert r.status_code == 200, r.text
        s = cls(server, mock, key, agent, r.json())
        if steps:
            s.script(steps)
        return s

    @property
    def path(self) -> str:
        return f"/v1/sessions/{self.id}"

    def script(self, steps: list[dict]) -> None:
        self.mock.script(self.key, steps)

    def post(self, content: Any = "hi", headers: dict[str, str] | None = None,
             **body) -> requests.Response:
        payload = dict(body)
        if content is not None:
            payload["content"] = content
        return self.server.post(self.path + "/events", json=payload, headers=headers or {})

    def send(self, content: str = "hi", **body) -> dict:
        r = self.post(content, **body)
        assert r.status_code == 200, r.text
        return r.json()

    def get(self) -> dict:
        r = self.server.get(self.path)
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, statuses: Iterable[str] = IDLE_STATES, timeout: float = 10.0) -> dict:
        """Polls until the session's status is one of `statuses`; returns the session."""
        wanted = tuple(statuses)
        last: dict = {}

        def check():
            nonlocal last
            last = self.get()
            return last if last["status"] in wanted else None
        try:
            return poll(check, timeout=timeout, message=f"session status in {wanted}")
        except AssertionError:
            raise AssertionError(f"session never reached {wanted}: {last}") from None

    def run(self, content: str = "hi", steps: list[dict] | None = None,
            expect: str = "idle", timeout: float = 10.0, **body) -> dict:
        """Scripts `steps`, posts `content`, waits for the turn to end with status `expect`."""
        if steps:
            self.script(steps)
        reply = self.send(content, **body)
        assert reply["queued"] is False, reply
        s = self.wait(timeout=timeout)
        assert s["status"] == expect, s
        return s

    def events(self, **params) -> list[dict]:
        r = self.server.get(self.path + "/events", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == len(body["events"]), body
        return body["events"]

    def wait_event(self, pred: Callable[[dict], bool], timeout: float = 10.0,
                   message: str = "an event") -> dict:
        def check():
            for e in self.events():
                if pred(e):
                    return e
            return None
        return poll(check, timeout=timeout, message=message)

    def llm_requests(self) -> list[dict]:
        """Bodies of the LLM requests the mock received for this session's key, oldest first."""
        return [r["body"] for r in self.mock.requests(self.key)]

    def stream(self, query: str = "", headers: dict[str, str] | None = None,
               timeout: float = 10.0, rcvbuf: int | None = None) -> "SseClient":
        return SseClient(self.server, self.path + "/events?stream=true" + query,
                         headers=headers, timeout=timeout, rcvbuf=rcvbuf)


def assert_dense(events: list[dict]) -> None:
    """seq runs 1..n without gaps and event ids are unique."""
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), \
        [(e["seq"], e["type"]) for e in events]
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids), ids


class SseFrame:
    """One server-sent event: its fields in wire order, plus event / data / id shortcuts."""

    def __init__(self, fields: list[tuple[str, str]], received_at: float):
        self.fields = fields
        self.received_at = received_at
        self.event = next((v for k, v in fields if k == "event"), "message")
        self.data = "\n".join(v for k, v in fields if k == "data")
        self.id = next((v for k, v in fields if k == "id"), None)

    @property
    def names(self) -> list[str]:
        return [k for k, _ in self.fields]

    @property
    def json(self) -> Any:
        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"SseFrame({self.event!r}, id={self.id!r}, data={self.data[:200]!r})"


class SseClient:
    """An SSE stream read from a raw socket; every read has a deadline.

    Decodes HTTP/1.1 chunked framing (or a plain body) and splits the body into frames.
    `ended` turns true at the terminating chunk or when the server closes the connection.
    """

    def __init__(self, server: PincerServer, target: str, headers: dict[str, str] | None = None,
                 timeout: float = 10.0, rcvbuf: int | None = None):
        import codecs
        if rcvbuf is None:
            self.sock = server.connect(timeout=timeout)
        else:  # a small receive buffer makes the server's writes block while we do not read
            self.sock = socket.socket()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", server.port))
        lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                 "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._raw = b""
        self._text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.ended = False
        self.eof = False
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._raw:
            if not self._recv_raw(deadline):
                raise AssertionError(f"no response head within {timeout}s: {self._raw!r}")
            if self.eof:
                raise AssertionError(f"connection closed before a response head: {self._raw!r}")
        head, _, self._raw = self._raw.partition(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        self.status = int(head_lines[0].split()[1])
        self.headers: dict[str, str] = {}
        for line in head_lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self._length = None if self.chunked else int(self.headers.get("content-length", "-1"))
        self._consume()

    def __enter__(self) -> "SseClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv_raw(self, deadline: float) -> bool:
        """Reads once; False if the deadline passed with nothing to read."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            self.ended = True
        self._raw += chunk
        return True

    def _consume(self) -> None:
        """Moves decoded body bytes from the raw buffer into the text buffer."""
        if not self.chunked:
            data, self._raw = self._raw, b""
            self._text += self._decoder.decode(data)
            if self._length is not None and self._length >= 0:
                self._length -= len(data)
                if self._length <= 0:
                    self.ended = True
            return
        while True:
            pos = self._raw.find(b"\r\n")
            if pos < 0:
                return
            size = int(self._raw[:pos].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.ended = True
                self._raw = self._raw[pos + 2:]
                return
            end = pos + 2 + size
            if len(self._raw) < end + 2:
                return
            self._text += self._decoder.decode(self._raw[pos + 2:end])
            self._raw = self._raw[end + 2:]

    def body_text(self, timeout: float = 10.0) -> str:
        """For a non-stream reply: the whole body."""
        deadline = time.monotonic() + timeout
        while not self.ended:
            if not self._recv_raw(deadline):
                raise AssertionError("body not complete in time")
            self._consume()
        return self._text

    def _parse_one(self) -> SseFrame | None:
        while True:
            text = self._text.replace("\r\n", "\n")
            idx = text.find("\n\n")
            if idx < 0:
                self._text = text
                return None
            block, self._text = text[:idx], text[idx + 2:]
            fields = []
            for line in block.split("\n"):
                if not line or line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                fields.append((name, value[1:] if value.startswith(" ") else value))
            if fields:
                return SseFrame(fields, time.monotonic())

    def next_frame(self, timeout: float = 10.0) -> SseFrame | None:
        """The next frame, or None once the stream has ended. Fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._parse_one()
            if frame is not None:
                return frame
            if self.ended:
                return None
            if not self._recv_raw(deadline):
                raise AssertionError(
                    f"no SSE frame within {timeout}s; pending text {self._text[-300:]!r}")
            self._consume()

    def frames_until(self, pred: Callable[[SseFrame], bool], timeout: float = 10.0,
                     skip_heartbeats: bool = True) -> list[SseFrame]:
        """Frames up to and including the first that satisfies `pred`."""
        deadline = time.monotonic() + timeout
        out: list[SseFrame] = []
        while True:
            try:
                frame = self.next_frame(max(0.001, deadline - time.monotonic()))
            except AssertionError as e:
                raise AssertionError(f"{e}; frames so far: {out}") from None
            if frame is None:
                raise AssertionError(f"stream ended before the awaited frame; got {out}")
            if skip_heartbeats and frame.event == "heartbeat":
                continue
            out.append(frame)
            if pred(frame):
                return out

    def read_to_end(self, timeout: float = 10.0) -> list[SseFrame]:
        """Every frame until the server ends the stream (fails if it does not within timeout)."""
        deadline = time.monotonic() + timeout
        out: list[SseFrame] = []
        while True:
            frame = self.next_frame(max(0.001, deadline - time.monotonic()))
            if frame is None:
                return out
            out.append(frame)
