"""Shared helpers for the sandbox tests (test_sandbox*, test_tools*, test_files*, test_pool*).

This module holds no tests. It provides:

- the `runtime` fixture (parametrised over the local and the docker runtime) and the
  `sandbox_server` factory, a server wired to the mock LLM that runs tools in real sandboxes;
  at teardown it kills the server and every sandbox it left behind (sandboxes outlive the
  server by design, so nothing else would stop them);
- `call` / `run_tools` to script tool calls through the agent loop and collect their results;
- `live_sandboxes` to see, from the host, which sandboxes of a data dir are running;
- `web_server`, a loopback HTTP server for web_fetch (on the docker bridge for docker).
"""

from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import AgentSession, PincerServer, poll, unique_key

__all__ = [
    "RUNTIMES", "runtime", "sandbox_server", "web_server", "call", "run_tools", "tool_results",
    "new_session", "live_sandboxes", "wait_gone", "reap_sandboxes", "files_path", "sandbox_pid",
    "sandboxd_host_pid", "docker_bridge_ip", "container_fields", "wait_detached", "metric",
]

RUNTIMES = ("local", "docker")
CONTAINER_FIELDS = ("boot_ms", "pool_source", "container_id", "container_name")
SBX_ID_RE = re.compile(r"sbx_[a-z0-9]{12}")


# ---- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(params=RUNTIMES)
def runtime(request) -> str:
    return request.param


@pytest.fixture
def sandbox_server(llm_server, runtime):
    """Factory: sandbox_server(PINCER_MAX_ACTIVE=1, ...) -> a server using `runtime`."""
    started: list[PincerServer] = []

    def factory(data_dir: str | None = None, **env) -> PincerServer:
        env.setdefault("PINCER_SANDBOX", runtime)
        s = llm_server(data_dir=data_dir, **env)
        started.append(s)
        return s

    yield factory
    for s in started:
        s.kill()
        reap_sandboxes(s.data_dir)


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        body = self.server.body + self.path.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web_server(runtime):
    """A tiny HTTP server the sandbox can reach when it has network; yields its base URL.

    Bound to loopback for the local runtime (the sandbox shares the host's network namespace
    when networking is unrestricted) and to the docker bridge address for docker.
    """
    host = "127.0.0.1" if runtime == "local" else docker_bridge_ip()
    httpd = http.server.ThreadingHTTPServer((host, 0), _Handler)
    httpd.body = ("hello from the test server " + unique_key("w") + " ").encode()  # type: ignore
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield {"url": f"http://{host}:{httpd.server_port}", "body": httpd.body.decode()}  # type: ignore
    finally:
        httpd.shutdown()
        httpd.server_close()


def docker_bridge_ip() -> str:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True,
                         text=True, timeout=10).stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    assert m, f"no docker0 address: {out!r}"
    return m.group(1)


# ---- tool calls through the agent loop --------------------------------------------------------

def call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


def tool_results(s: AgentSession) -> list[dict]:
    return [e for e in s.events() if e["type"] == "agent.tool_result"]


def run_tools(s: AgentSession, *calls: dict, final: str = "done", timeout: float = 30.0,
              content: str = "go") -> list[dict]:
    """One turn in which the model makes `calls` one step at a time, then answers `final`.

    Returns the turn's agent.tool_result events in order, after asserting the turn ended idle
    with `final` as its output (tool errors never fail the session).
    """
    before = len(tool_results(s))
    steps = [{"tool_calls": [dict(c, id=f"call_{unique_key('')}")]} for c in calls]
    steps.append({"text": final})
    done = s.run(content, steps=steps, timeout=timeout)
    assert done["status"] == "idle" and done["output"] == final, done
    results = tool_results(s)[before:]
    assert len(results) == len(calls), results
    for c, r in zip(calls, results):
        assert r["tool_name"] == c["name"], (c, r)
    return results


def new_session(server: PincerServer, mock, environment_id: str | None = None,
                agent: dict | None = None, **agent_body) -> AgentSession:
    """A session of a new agent (or of `agent`), optionally in an environment."""
    if agent is None:
        key = unique_key()
        agent = server.create_agent(model="openai/mock-model",
                                    instructions=f"Sandbox test agent. [mock:{key}]", **agent_body)
    else:
        key = re.search(r"\[mock:([^\]]+)\]", agent["instructions"]).group(1)
    body: dict[str, Any] = {"agentId": agent["agent_id"]}
    if environment_id:
        body["environmentId"] = environment_id
    r = server.post("/v1/sessions", json=body)
    assert r.status_code == 200, r.text
    return AgentSession(server, mock, key, agent, r.json())


def container_fields(session_json: dict) -> dict:
    return {k: session_json[k] for k in CONTAINER_FIELDS}


def wait_detached(s: AgentSession, timeout: float = 15.0) -> dict:
    """Polls the session until its container fields are all null again."""
    return poll(lambda: (lambda j: j if all(j[k] is None for k in CONTAINER_FIELDS) else None)(s.get()),
                timeout=timeout, message=f"session {s.id} to lose its sandbox")


def files_path(agent_id: str, rel: str | None = None) -> str:
    base = f"/v1/agents/{agent_id}/files"
    return base if rel is None else f"{base}/{rel}"


def metric(server: PincerServer, name: str) -> float | None:
    from conftest import metric_value
    return metric_value(server.metrics(), name)


# ---- sandboxes seen from the host -------------------------------------------------------------

def _proc_cmdline(pid: str) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _proc_state(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def _local_bwraps(data_dir: str) -> dict[int, str]:
    """pid -> sandbox id of the live bwrap processes of sandboxes under `data_dir`."""
    marker = data_dir.rstrip("/") + "/sandboxes/"
    out: dict[int, str] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        argv = _proc_cmdline(pid)
        if not argv or not argv[0].endswith("bwrap"):
            continue
        for a in argv:
            if a.startswith(marker):
                m = SBX_ID_RE.search(a[len(marker):])
                if m and _proc_state(pid) not in ("Z", "X"):
                    out[int(pid)] = m.group(0)
                break
    return out


def _docker_sandboxes(data_dir: str, running_only: bool) -> dict[str, str]:
    """container name -> sandbox id of the docker sandboxes whose workspace is under data_dir."""
    args = ["docker", "ps", "--no-trunc", "--filter", "label=managed-by=pincer", "--format",
            '{{.Names}}\t{{.Label "pincer.sandbox-id"}}\t{{.Label "pincer.workspace"}}']
    if not running_only:
        args.insert(2, "-a")
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = {}
    prefix = data_dir.rstrip("/") + "/"
    for line in r.stdout.splitlines():
        name, sid, ws = (line.split("\t") + ["", "", ""])[:3]
        if ws.startswith(prefix):
            out[name] = sid
    return out


def live_sandboxes(server_or_dir, runtime: str) -> set[str]:
    """Ids of the sandboxes of this data dir that are running right now."""
    data_dir = server_or_dir.data_dir if isinstance(server_or_dir, PincerServer) else server_or_dir
    if runtime == "local":
        return set(_local_bwraps(data_dir).values())
    return set(_docker_sandboxes(data_dir, running_only=True).values())


def wait_gone(server_or_dir, runtime: str, *ids: str, timeout: float = 10.0) -> None:
    """Polls until none of `ids` runs any more (a SIGKILLed process takes a moment to go)."""
    wanted = set(ids)
    poll(lambda: live_sandboxes(server_or_dir, runtime).isdisjoint(wanted), timeout=timeout,
         message=f"sandboxes {sorted(wanted)} to stop")


def sandbox_pid(session_json: dict) -> int:
    """The host pid of a local sandbox (its container_name is "bwrap:<pid>")."""
    name = session_json["container_name"]
    assert name and name.startswith("bwrap:"), session_json
    return int(name.split(":", 1)[1])


def sandboxd_host_pid(session_json: dict, runtime: str) -> int:
    """The host pid of the pincer-sandboxd process serving the session's sandbox."""
    if runtime == "docker":
        r = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", session_json["container_name"]],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return int(r.stdout.strip())
    # bwrap (outer) -> bwrap (pid 1 of the sandbox) -> pincer-sandboxd
    todo = [sandbox_pid(session_json)]
    while todo:
        pid = todo.pop()
        argv = _proc_cmdline(str(pid))
        if argv and argv[0].endswith("pincer-sandboxd"):
            return pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    raise AssertionError(f"no pincer-sandboxd under bwrap pid {sandbox_pid(session_json)}")


def reap_sandboxes(data_dir: str) -> None:
    """Stops every sandbox (local or docker) whose files live under `data_dir`."""
    pids = _local_bwraps(data_dir)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if pids:
        try:
            poll(lambda: not _local_bwraps(data_dir), timeout=5, message="sandboxes to die")
        except AssertionError:
            pass
    ids = set(pids.values())
    sb = Path(data_dir) / "sandboxes"
    if sb.is_dir():
        ids |= {p.name for p in sb.iterdir() if SBX_ID_RE.fullmatch(p.name)}
    for sid in ids:  # the cgroups the server would have removed on Stop
        for d in list(Path("/sys/fs/cgroup").glob(f"*/pincer/{sid}")) + \
                list(Path("/sys/fs/cgroup").glob(f"pincer/{sid}")):
            deadline = time.monotonic() + 2
            while True:
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
    if (Path(data_dir) / "sandboxes-docker").is_dir():
        names = list(_docker_sandboxes(data_dir, running_only=False))
        if names:
            subprocess.run(["docker", "rm", "-f", *names], capture_output=True, timeout=60)
