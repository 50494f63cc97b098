"""The Anthropic Managed Agents dialect (/anthropic/v1, issue 6) driven by the official
`@anthropic-ai/sdk` npm package, at 1.14.0 and at 0.89.0 (their transports differ: Bearer auth,
`anthropic-version: 2026-10-21` and no `?beta=true` against `x-api-key`, `2023-06-01` and
`?beta=true`).

Covered, for both SDK versions: create and retrieve agents, environments and sessions; a turn
with a bash call run in the real (bubblewrap) sandbox, seen on a stream opened before the
message was sent, then listed and auto-paginated; `always_ask` answered with allow and with
deny; a custom tool round trip; interrupting a long tool; auto-pagination over more than two
pages; HTTP errors as the SDK's typed errors; one session seen through both dialects; updates,
archive and delete; vaults whose secrets never come back.

The Node side lives in tests/functional/node_anthropic/ (package.json and its lockfile pin both
SDK versions under npm aliases); it is installed once per test process with `npm ci` into a
temporary directory. Each script prints one JSON line with what it saw; the assertions are
here. Servers run with PINCER_API_TOKEN set, so the SDK's auth headers are checked for real.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import PincerServer, llm_env, npm_project, poll, unique_key
from test_sandbox_helpers import files_path, reap_sandboxes, sandbox_pid

NODE_TIMEOUT_S = 90.0
TOKEN = "pincer-sdk-" + os.urandom(8).hex()

# SDK version under test -> the npm alias it is installed as (package.json).
SDKS = {"1.14.0": "sdk-latest", "0.89.0": "sdk-0-89"}

RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
REQUEST_ID_RE = re.compile(r"^req_[0-9a-f]{16}$")
ID_RE = {
    "agent": re.compile(r"^agt_[a-z0-9]{12}$"),
    "environment": re.compile(r"^env_[a-z0-9]{12}$"),
    "session": re.compile(r"^ses_[a-z0-9]{12}$"),
    "vault": re.compile(r"^vlt_[a-z0-9]{12}$"),
}


# ---- the Node harness -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def node_dir() -> Path:
    return npm_project("node_anthropic", min_node=18)


@pytest.fixture(params=list(SDKS), ids=lambda v: f"sdk-{v}")
def sdk(request, node_dir) -> str:
    """The npm alias of the SDK version under test, after checking what npm installed."""
    alias = SDKS[request.param]
    installed = json.loads((node_dir / "node_modules" / alias / "package.json").read_text())
    assert (installed["name"], installed["version"]) == ("@anthropic-ai/sdk", request.param), installed
    return alias


class NodeRun:
    """`node <script> <spec>` with the SDK `sdk` against `server`, started at construction.

    Scripts print JSON lines: {"phase": …} at a checkpoint (the script then waits for a line
    on stdin, sent by go()), and last their result.
    """

    def __init__(self, node_dir: Path, sdk: str, server: PincerServer, script: str,
                 spec: dict | None = None, stepped: bool = True):
        # ANTHROPIC_* would feed the SDK's defaults (ANTHROPIC_AUTH_TOKEN adds a Bearer header).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PINCER_", "ANTHROPIC_"))}
        env.update(PINCER_SDK=sdk, PINCER_ANTHROPIC_URL=server.base_url + "/anthropic",
                   PINCER_NATIVE_URL=server.base_url, PINCER_API_KEY=TOKEN)
        self.script = script
        self.proc = subprocess.Popen(["node", script, json.dumps(spec or {})], cwd=node_dir, env=env,
                                     stdin=subprocess.PIPE if stepped else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._out = b""

    def phase(self, name: str, timeout: float = 30.0) -> dict:
        """Waits for the checkpoint line {"phase": name, …} and returns it."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self._out:
                line, self._out = self._out.split(b"\n", 1)
                if not line.strip():
                    continue
                obj = json.loads(line)
                if obj.get("phase") == name:
                    return obj
                if "ok" in obj:  # the result came first: the scenario failed before the phase
                    self._out = line + b"\n" + self._out
                    self.finish()
                    raise AssertionError(f"node {self.script} ended before phase {name}: {obj}")
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
            if not ready:
                self.kill()
                raise AssertionError(f"node {self.script}: no phase {name} within {timeout}s: {self._out!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                self.finish()
                raise AssertionError(f"node {self.script} closed stdout before phase {name}")
            self._out += chunk

    def go(self) -> None:
        """Lets the script go on from its checkpoint."""
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()

    def finish(self, timeout: float = NODE_TIMEOUT_S) -> dict:
        """Waits for the script to end; returns its result (fails if the scenario threw)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"node {self.script} did not finish within {timeout}s:\n"
                                 f"{(self._out + out).decode(errors='replace')}\n{err.decode(errors='replace')}")
        text, err_text = (self._out + out).decode(errors="replace"), err.decode(errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        assert self.proc.returncode == 0 and lines, \
            f"node {self.script} failed ({self.proc.returncode}):\n{text}\n{err_text}"
        result = json.loads(lines[-1])
        assert "ok" in result, f"node {self.script} printed no result:\n{text}\n{err_text}"
        if not result["ok"]:
            shown = {k: result.get(k) for k in ("sdk", "error", "partial")}
            raise AssertionError(f"node {self.script} threw:\n{json.dumps(shown, indent=1)[:30000]}\n{err_text}")
        return result


def run_sdk(node_dir: Path, sdk: str, server: PincerServer, script: str, spec: dict | None = None,
            timeout: float = NODE_TIMEOUT_S) -> dict:
    """Runs a script to its end; returns its result."""
    return NodeRun(node_dir, sdk, server, script, spec, stepped=False).finish(timeout)


# ---- servers ----------------------------------------------------------------------------------

def start_server(mock_llm) -> PincerServer:
    """A server wired to the mock LLM, auth on, tools in local (bubblewrap) sandboxes."""
    s = PincerServer(env=llm_env(mock_llm, PINCER_API_TOKEN=TOKEN, PINCER_SANDBOX="local"))
    s.session.headers["authorization"] = f"Bearer {TOKEN}"
    return s.start()


def stop_server(s: PincerServer) -> None:
    """Kills the server and every sandbox it left behind, then removes its data dir."""
    s.kill()
    reap_sandboxes(s.data_dir)
    s.cleanup()


@pytest.fixture(scope="module")
def server(mock_llm):
    """One server for the module's scenarios (each keeps to its own agents and mock tag)."""
    s = start_server(mock_llm)
    try:
        yield s
    finally:
        stop_server(s)


@pytest.fixture
def fresh_server(mock_llm):
    """A server of the test's own, for assertions about everything a list holds."""
    s = start_server(mock_llm)
    try:
        yield s
    finally:
        stop_server(s)


# ---- helpers ----------------------------------------------------------------------------------

def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def of_type(events: list[dict], type_: str) -> list[dict]:
    return [e for e in events if e["type"] == type_]


def one(events: list[dict], type_: str) -> dict:
    found = of_type(events, type_)
    assert len(found) == 1, (type_, types(events))
    return found[0]


def text_of(blocks: list[dict]) -> str:
    return "".join(b.get("text", "") for b in blocks if b.get("type") == "text")


def assert_time(value: Any, nullable: bool = False) -> None:
    if nullable and value is None:
        return
    assert isinstance(value, str) and RFC3339_RE.match(value), value


def assert_event(e: dict) -> None:
    """Fields every persisted dialect event has."""
    assert isinstance(e["id"], str) and e["id"], e
    assert isinstance(e["type"], str) and e["type"], e
    assert_time(e["processed_at"])


def assert_sdk_error(attempt: dict, status: int, error_type: str, flag: str) -> dict:
    """`attempt` failed with the SDK class `flag` names, `status` and the Anthropic envelope."""
    assert not attempt["ok"], attempt
    err = attempt["error"]
    assert err.get("api_error") and err["status"] == status, err
    assert err[flag] is True, err
    body = err["error"]
    assert body["type"] == "error" and body["error"]["type"] == error_type, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert REQUEST_ID_RE.match(err["request_id"] or ""), err
    assert body["request_id"] == err["request_id"], err
    assert err["should_retry"] == "false", err
    return err


def mock_tag(mock, steps: list[dict] | None = None) -> str:
    tag = unique_key("sdk")
    if steps:
        mock.script(tag, steps)
    return tag


def bash(command: str) -> dict:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


def tool_result_texts(request_body: dict) -> list[str]:
    """Texts of the tool_result blocks of an Anthropic Messages request."""
    out = []
    for m in request_body["messages"]:
        content = m.get("content")
        if not isinstance(content, list):
            continue
        for b in content:
            if b.get("type") == "tool_result":
                c = b.get("content")
                out.append(c if isinstance(c, str) else "".join(x.get("text", "") for x in c or []))
    return out


def file_names(server: PincerServer, agent_id: str, session_id: str) -> list[str]:
    r = server.get(files_path(agent_id), params={"session_id": session_id})
    assert r.status_code == 200, r.text
    return [e["name"] for e in r.json()["entries"]]


# ---- 1. create and retrieve -------------------------------------------------------------------

def test_create_and_retrieve_agent_environment_and_sessions(sdk, node_dir, server, mock_llm):
    tag = mock_tag(mock_llm)
    r = run_sdk(node_dir, sdk, server, "basics.mjs", {"tag": tag})

    agent = r["agent"]
    assert ID_RE["agent"].match(agent["id"]), agent
    assert agent["type"] == "agent" and agent["version"] == 1, agent
    assert agent["model"]["id"] == "claude-sonnet-4-6", agent
    assert agent["system"] == f"You are a test agent. [mock:{tag}]"
    toolset = one(agent["tools"], "agent_toolset_20260401")
    assert {c["name"] for c in toolset["configs"] if c["enabled"]} >= {"bash", "read", "write"}, toolset
    assert all(c["permission_policy"]["type"] == "always_allow" for c in toolset["configs"]), toolset
    assert agent["metadata"] == {} and agent["archived_at"] is None
    assert_time(agent["created_at"])
    assert_time(agent["updated_at"])

    env = r["environment"]
    assert ID_RE["environment"].match(env["id"]) and env["type"] == "environment", env
    assert env["config"]["type"] == "cloud", env
    assert_time(env["created_at"])
    assert env["archived_at"] is None

    for key in ("session_by_id", "session_pinned"):
        s = r[key]
        assert ID_RE["session"].match(s["id"]) and s["type"] == "session", s
        assert s["status"] == "idle", s
        assert s["environment_id"] == env["id"]
        assert s["agent"]["id"] == agent["id"] and s["agent"]["type"] == "agent", s
        assert s["agent"]["version"] == 1, s
        assert s["agent"]["system"] == agent["system"] and s["agent"]["model"]["id"] == "claude-sonnet-4-6"
        assert s["vault_ids"] == [] and s["archived_at"] is None, s
        assert set(s["usage"]) >= {"input_tokens", "output_tokens"}, s
        assert_time(s["created_at"])
        assert_time(s["updated_at"])
    assert r["session_by_id"]["title"] is None
    assert r["session_pinned"]["title"] == "pinned"
    assert r["session_by_id"]["id"] != r["session_pinned"]["id"]

    retrieved = r["retrieved"]
    assert retrieved["agent"] == agent
    assert retrieved["environment"] == env
    for key in ("session_by_id", "session_pinned"):
        got, created = retrieved[key], r[key]
        assert {k: v for k, v in got.items() if k not in ("stats", "updated_at")} == \
               {k: v for k, v in created.items() if k not in ("stats", "updated_at")}

    # The transport each SDK version uses (contract §1.1), and the server's answer to it.
    wire = r["wire"]
    assert wire and all(w["status"] == 200 for w in wire), wire
    for w in wire:
        assert w["path"].startswith("/anthropic/v1/"), w
        assert REQUEST_ID_RE.match(w["request_id"] or ""), w
        assert w["content_type"].startswith("application/json"), w
        assert "managed-agents-2026-04-01" in (w["anthropic_beta"] or ""), w
        if sdk == "sdk-latest":
            assert (w["bearer"], w["x_api_key"], w["anthropic_version"]) == (True, False, "2026-10-21"), w
            assert "beta=true" not in w["query"], w
        else:
            assert (w["bearer"], w["x_api_key"], w["anthropic_version"]) == (False, True, "2023-06-01"), w
            assert "beta=true" in w["query"], w


# ---- 2. a turn with a sandboxed bash call, streamed and listed ---------------------------------

def test_stream_a_turn_with_a_bash_tool_call_then_list_and_paginate(sdk, node_dir, server, mock_llm):
    tag = mock_tag(mock_llm, [bash("echo $((6*7))"), {"text": "The answer is 42."}])
    r = run_sdk(node_dir, sdk, server, "turn.mjs", {"tag": tag, "text": "what is six times seven?"})

    sent = r["sent"]["data"]
    assert len(sent) == 1 and sent[0]["type"] == "user.message", sent
    assert sent[0]["content"] == [{"type": "text", "text": "what is six times seven?"}], sent

    streamed = [{k: v for k, v in e.items() if k != "_at_ms"} for e in r["streamed"]]
    assert types(streamed) == ["user.message", "session.status_running", "agent.tool_use",
                               "agent.tool_result", "agent.message", "session.status_idle"], types(streamed)
    for e in streamed:
        assert_event(e)
    user, running, use, result, message, idle = streamed
    assert user["id"] == sent[0]["id"] and user["content"] == sent[0]["content"], (user, sent)
    assert use["name"] == "bash" and use["input"] == {"command": "echo $((6*7))"}, use
    assert use["evaluated_permission"] == "allow", use
    assert result["tool_use_id"] == use["id"], (result, use)
    assert result["is_error"] is False, result
    assert "42" in text_of(result["content"]).split(), result
    assert message["content"] == [{"type": "text", "text": "The answer is 42."}], message
    assert idle["stop_reason"] == {"type": "end_turn"}, idle
    assert len({e["id"] for e in streamed}) == len(streamed)

    # The list holds the same events in the same order; auto-pagination walks all of them.
    assert [e["id"] for e in r["listed"]] == [e["id"] for e in streamed], (types(r["listed"]), types(streamed))
    assert r["listed"] == streamed
    assert r["listed_next_page"] is None
    assert r["paged_ids"] == [e["id"] for e in streamed]
    assert r["pages"] >= 3, r["pages"]
    assert r["after"]["status"] == "idle", r["after"]

    # The model saw the real command output.
    bodies = [q["body"] for q in mock_llm.requests(tag)]
    assert len(bodies) == 2, bodies
    assert [t.strip() for t in tool_result_texts(bodies[1])] == ["42"], bodies[1]


# ---- 3. always_ask --------------------------------------------------------------------------------

def parked_on_confirmation(r: dict) -> dict:
    """Checks the first half of an always_ask turn; returns the agent.tool_use event."""
    first = r["first"]
    assert types(first) == ["user.message", "session.status_running", "agent.tool_use",
                            "session.status_idle"], types(first)
    use, idle = first[2], first[3]
    assert use["name"] == "bash" and use["evaluated_permission"] == "ask", use
    assert idle["stop_reason"]["type"] == "requires_action", idle
    assert use["id"] in idle["stop_reason"]["event_ids"], (idle, use)
    assert r["parked"]["status"] == "idle", r["parked"]
    toolset = one(r["agent"]["tools"], "agent_toolset_20260401")
    policies = {c["name"]: c["permission_policy"]["type"] for c in toolset["configs"]}
    assert policies["bash"] == "always_ask" and policies["read"] == "always_allow", policies
    return use


def test_always_ask_answered_with_allow_runs_the_tool(sdk, node_dir, server, mock_llm):
    tag = mock_tag(mock_llm, [bash("echo allowed-$((40+2)) | tee allow-proof.txt"), {"text": "ran it"}])
    r = run_sdk(node_dir, sdk, server, "confirm.mjs", {"tag": tag, "result": "allow"})
    use = parked_on_confirmation(r)

    echoed = r["confirmation"]["data"]
    assert len(echoed) == 1 and echoed[0]["type"] == "user.tool_confirmation", echoed
    assert echoed[0]["tool_use_id"] == use["id"] and echoed[0]["result"] == "allow", echoed

    second = r["second"]
    assert "user.tool_confirmation" in types(second), types(second)
    assert types(second)[-3:] == ["agent.tool_result", "agent.message", "session.status_idle"], types(second)
    result = one(second, "agent.tool_result")
    assert result["tool_use_id"] == use["id"] and result["is_error"] is False, result
    assert "allowed-42" in text_of(result["content"]), result
    assert second[-1]["stop_reason"] == {"type": "end_turn"}, second[-1]
    assert r["after"]["status"] == "idle"
    assert "allow-proof.txt" in file_names(server, r["agent"]["id"], r["session"]["id"])


def test_always_ask_answered_with_deny_does_not_run_the_tool(sdk, node_dir, server, mock_llm):
    tag = mock_tag(mock_llm, [bash("echo ran | tee deny-proof.txt"), {"text": "understood"}])
    r = run_sdk(node_dir, sdk, server, "confirm.mjs",
                {"tag": tag, "result": "deny", "deny_message": "not on my machine"})
    use = parked_on_confirmation(r)

    echoed = r["confirmation"]["data"]
    assert len(echoed) == 1 and echoed[0]["type"] == "user.tool_confirmation", echoed
    assert echoed[0]["result"] == "deny" and echoed[0]["deny_message"] == "not on my machine", echoed

    second = r["second"]
    result = one(second, "agent.tool_result")
    assert result["tool_use_id"] == use["id"] and result["is_error"] is True, result
    assert "ran" not in text_of(result["content"]).split(), result
    assert one(second, "agent.message")["content"] == [{"type": "text", "text": "understood"}]
    assert second[-1]["type"] == "session.status_idle" and second[-1]["stop_reason"] == {"type": "end_turn"}

    # The command never ran: its file is not in the workspace, and the model was told why.
    agent_id, session_id = r["agent"]["id"], r["session"]["id"]
    assert "deny-proof.txt" not in file_names(server, agent_id, session_id)
    got = server.get(files_path(agent_id, "deny-proof.txt"), params={"session_id": session_id})
    assert got.status_code == 404, got.text
    bodies = [q["body"] for q in mock_llm.requests(tag)]
    assert len(bodies) == 2
    assert any("not on my machine" in t for t in tool_result_texts(bodies[1])), bodies[1]


# ---- 4. custom tools ------------------------------------------------------------------------------

def test_custom_tool_round_trip(sdk, node_dir, server, mock_llm):
    tag = mock_tag(mock_llm, [{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
                              {"text": "It is sunny in Paris."}])
    r = run_sdk(node_dir, sdk, server, "custom_tool.mjs", {"tag": tag, "answer": "sunny"})

    custom = one(r["agent"]["tools"], "custom")
    assert custom["name"] == "get_weather" and custom["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert not of_type(r["agent"]["tools"], "agent_toolset_20260401"), r["agent"]["tools"]

    first = r["first"]
    assert types(first) == ["user.message", "session.status_running", "agent.custom_tool_use",
                            "session.status_idle"], types(first)
    use, idle = first[2], first[3]
    assert use["name"] == "get_weather" and use["input"] == {"city": "Paris"}, use
    assert idle["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}, idle
    assert r["parked"]["status"] == "idle", r["parked"]

    echoed = r["reply"]["data"]
    assert len(echoed) == 1 and echoed[0]["type"] == "user.custom_tool_result", echoed
    assert echoed[0]["custom_tool_use_id"] == use["id"], echoed
    assert echoed[0]["content"] == [{"type": "text", "text": "sunny"}], echoed

    second = r["second"]
    assert "agent.tool_result" not in types(second), types(second)
    assert types(second)[-2:] == ["agent.message", "session.status_idle"], types(second)
    assert second[-2]["content"] == [{"type": "text", "text": "It is sunny in Paris."}]
    assert second[-1]["stop_reason"] == {"type": "end_turn"}
    assert r["after"]["status"] == "idle"

    bodies = [q["body"] for q in mock_llm.requests(tag)]
    assert len(bodies) == 2, bodies
    assert [t["name"] for t in bodies[0]["tools"]] == ["get_weather"], bodies[0]["tools"]
    assert tool_result_texts(bodies[1]) == ["sunny"], bodies[1]["messages"]


# ---- 5. interrupt --------------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(c) for c in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def sleeping_command(server: PincerServer, session_id: str) -> int | None:
    """The pid of the `sleep 30` running in the session's sandbox, if any."""
    r = server.get(f"/v1/sessions/{session_id}")
    assert r.status_code == 200, r.text
    if not (r.json().get("container_name") or "").startswith("bwrap:"):
        return None
    for pid in descendants(sandbox_pid(r.json())):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[:2] == [b"sleep", b"30"]:
                    return pid
        except OSError:
            pass
    return None


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_interrupt_a_long_tool_then_continue(sdk, node_dir, server, mock_llm):
    tag = mock_tag(mock_llm, [bash("sleep 30; echo slept"), {"text": "after the interrupt"}])
    run = NodeRun(node_dir, sdk, server, "interrupt.mjs", {"tag": tag})
    try:
        session_id = run.phase("tool_use")["session_id"]
        # Interrupt only once the command really runs in the sandbox.
        sleeper = poll(lambda: sleeping_command(server, session_id), timeout=20,
                       message="`sleep 30` to run in the session's sandbox")
        run.go()
        r = run.finish()
    finally:
        run.kill()

    assert types(r["first"]) == ["user.message", "session.status_running", "agent.tool_use"], types(r["first"])
    echoed = r["interrupt"]["data"]
    assert len(echoed) == 1 and echoed[0]["type"] == "user.interrupt", echoed
    interrupted = r["interrupted"]
    assert "user.interrupt" in types(interrupted), types(interrupted)
    assert interrupted[-1]["type"] == "session.status_idle", types(interrupted)
    assert interrupted[-1]["stop_reason"] == {"type": "end_turn"}, interrupted[-1]
    assert "agent.message" not in types(interrupted), types(interrupted)
    for e in of_type(interrupted, "agent.tool_result"):
        assert "slept" not in text_of(e["content"]), e
    assert r["interrupt_to_idle_ms"] < 10_000, r["interrupt_to_idle_ms"]
    assert r["after_interrupt"]["status"] == "idle", r["after_interrupt"]
    poll(lambda: gone(sleeper), timeout=10, message="the interrupted command to be killed")

    second = r["second"]
    assert types(second)[0] == "user.message" and types(second)[-2:] == ["agent.message", "session.status_idle"], \
        types(second)
    assert second[-2]["content"] == [{"type": "text", "text": "after the interrupt"}]
    assert second[-1]["stop_reason"] == {"type": "end_turn"}
    assert r["after"]["status"] == "idle"
    bodies = [q["body"] for q in mock_llm.requests(tag)]
    assert len(bodies) == 2, bodies  # no model call between the interrupt and the next message


# ---- 6. auto-pagination --------------------------------------------------------------------------

def test_auto_pagination_over_more_than_two_pages(sdk, node_dir, fresh_server, mock_llm):
    r = run_sdk(node_dir, sdk, fresh_server, "paginate.mjs", {"tag": mock_tag(mock_llm), "count": 5})
    for kind in ("agents", "environments", "sessions"):
        created, listed = r["created"][kind], r["listed"][kind]
        assert len(created) == 5
        assert sorted(listed) == sorted(created), (kind, listed, created)  # each exactly once
        assert listed == list(reversed(created)), (kind, listed)  # newest first
        assert listed == r["single"][kind], kind
        assert r["pages"][kind] == 3, (kind, r["pages"])
    limits = [w["query"] for w in r["wire"] if w["method"] == "GET" and w["path"] == "/anthropic/v1/agents"]
    assert sum("page=" in q for q in limits) >= 2, limits


# ---- 7. errors -------------------------------------------------------------------------------------

def test_errors_are_the_sdk_error_classes(sdk, node_dir, server, mock_llm):
    r = run_sdk(node_dir, sdk, server, "errors.mjs", {"tag": mock_tag(mock_llm)})
    assert_sdk_error(r["not_found"], 404, "not_found_error", "is_not_found")
    assert_sdk_error(r["session_not_found"], 404, "not_found_error", "is_not_found")
    err = assert_sdk_error(r["conflict"], 409, "invalid_request_error", "is_conflict")
    assert "version" in err["error"]["error"]["message"].lower() or err["error"]["error"]["details"], err
    assert r["updated"]["version"] == 2 and r["updated"]["description"] == "first update"
    assert r["after_conflict"]["version"] == 2 and r["after_conflict"]["description"] == "first update"
    err = assert_sdk_error(r["bad_request"], 400, "invalid_request_error", "is_bad_request")
    assert "model" in json.dumps(err["error"]), err
    assert_sdk_error(r["unauthenticated"], 401, "authentication_error", "is_authentication")


# ---- 8. one session, two dialects ----------------------------------------------------------------

def test_sessions_are_shared_with_the_native_api(sdk, node_dir, server, mock_llm):
    sdk_tag = mock_tag(mock_llm, [{"text": "hi from the SDK side"}])
    native_tag = mock_tag(mock_llm, [{"text": "hi to the native session"}])
    r = server.post("/v1/agents", json={"model": "anthropic/claude-sonnet-4-6",
                                        "instructions": f"Native agent. [mock:{native_tag}]"})
    assert r.status_code == 200, r.text
    native_agent = r.json()
    r = server.post("/v1/sessions", json={"agentId": native_agent["agent_id"]})
    assert r.status_code == 200, r.text
    native_session = r.json()

    out = run_sdk(node_dir, sdk, server, "cross.mjs",
                  {"tag": sdk_tag, "native_session_id": native_session["session_id"]})

    # A session made through the SDK, read natively.
    made = out["sdk"]
    assert types(made["streamed"]) == ["user.message", "session.status_running", "agent.message",
                                       "session.status_idle"], types(made["streamed"])
    r = server.get(f"/v1/sessions/{made['session']['id']}")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["session_id"] == made["session"]["id"] and s["agent_id"] == made["agent"]["id"], s
    assert s["environment_id"] == made["environment"]["id"], s
    assert s["status"] == "idle" and s["output"] == "hi from the SDK side", s
    assert s["turns"] == 1, s
    r = server.get(f"/v1/sessions/{made['session']['id']}/events")
    assert r.status_code == 200, r.text
    native_events = r.json()["events"]
    by_type = {e["type"]: e for e in native_events}
    assert by_type["user.message"]["content"] == "hello from the SDK", native_events
    assert by_type["agent.message"]["content"] == "hi from the SDK side", native_events
    native_ids = {e["event_id"] for e in native_events}
    for e in made["listed"]:
        if e["type"] in ("user.message", "agent.message"):
            assert e["id"] in native_ids, (e, native_events)

    # A session made natively, driven through the SDK.
    nat = out["native"]
    assert nat["retrieved"]["id"] == native_session["session_id"], nat["retrieved"]
    assert nat["retrieved"]["type"] == "session" and nat["retrieved"]["status"] == "idle", nat["retrieved"]
    assert nat["retrieved"]["agent"]["id"] == native_agent["agent_id"], nat["retrieved"]
    assert nat["retrieved"]["agent"]["model"]["id"] == "claude-sonnet-4-6", nat["retrieved"]
    assert nat["retrieved"]["environment_id"] is None, nat["retrieved"]
    assert_time(nat["retrieved"]["created_at"])
    streamed = nat["streamed"]
    assert types(streamed) == ["user.message", "session.status_running", "agent.message",
                               "session.status_idle"], types(streamed)
    assert streamed[2]["content"] == [{"type": "text", "text": "hi to the native session"}]
    assert streamed[3]["stop_reason"] == {"type": "end_turn"}
    assert [e["id"] for e in nat["listed"]] == [e["id"] for e in streamed]
    assert nat["after"]["status"] == "idle"
    r = server.get(f"/v1/sessions/{native_session['session_id']}")
    assert r.status_code == 200 and r.json()["output"] == "hi to the native session", r.text
    r = server.get(f"/v1/sessions/{native_session['session_id']}/events")
    contents = [(e["type"], e["content"]) for e in r.json()["events"]
                if e["type"] in ("user.message", "agent.message")]
    assert contents == [("user.message", "hello to a native session"),
                        ("agent.message", "hi to the native session")], contents


# ---- 9. updates, archive, delete -------------------------------------------------------------------

def test_updates_archive_and_delete(sdk, node_dir, server, mock_llm):
    r = run_sdk(node_dir, sdk, server, "updates.mjs", {"tag": mock_tag(mock_llm)})

    agent, v2 = r["agent"], r["v2"]
    assert agent["version"] == 1 and agent["metadata"] == {"keep": "k", "drop": "d"}, agent
    assert v2["id"] == agent["id"] and v2["version"] == 2, v2
    assert v2["metadata"] == {"keep": "k", "added": "a"}, v2["metadata"]
    assert v2["description"] == "second version" and agent["description"] is None
    assert v2["system"] == agent["system"] and v2["model"] == agent["model"], v2
    assert v2["created_at"] == agent["created_at"]
    assert_time(v2["updated_at"])
    assert sorted(v["version"] for v in r["versions"]) == [1, 2], r["versions"]
    assert all(v["id"] == agent["id"] for v in r["versions"]), r["versions"]
    assert r["v1"]["version"] == 1 and r["v1"]["description"] is None, r["v1"]
    assert r["v1"]["metadata"] == {"keep": "k", "drop": "d"}, r["v1"]

    assert_sdk_error(r["duplicate"], 409, "invalid_request_error", "is_conflict")

    session = r["session"]
    assert session["title"] == "first title" and session["metadata"] == {}
    assert session["agent"]["version"] == 2, session["agent"]
    assert r["titled"]["title"] == "second title", r["titled"]
    assert r["titled"]["metadata"] == {"k1": "v1", "k2": "v2"}, r["titled"]
    assert r["patched"]["title"] == "second title" and r["patched"]["metadata"] == {"k2": "v2"}, r["patched"]
    assert r["session"]["archived_at"] is None
    assert_time(r["archived"]["archived_at"])
    assert r["archived"]["id"] == session["id"] and r["archived"]["type"] == "session"
    assert_sdk_error(r["send_archived"], 409, "invalid_request_error", "is_conflict")

    assert r["deleted"] == {"id": r["spare"]["id"], "type": "environment_deleted"}, r["deleted"]
    assert_sdk_error(r["after_delete"], 404, "not_found_error", "is_not_found")


# ---- 10. vaults ------------------------------------------------------------------------------------

def test_vaults_and_credentials_never_return_secrets(sdk, node_dir, server, mock_llm):
    secret = "secret-token-" + os.urandom(6).hex()
    r = run_sdk(node_dir, sdk, server, "vaults.mjs", {"tag": mock_tag(mock_llm), "token": secret})

    vault = r["vault"]
    assert ID_RE["vault"].match(vault["id"]) and vault["type"] == "vault", vault
    assert vault["metadata"] == {"team": "sdk"} and vault["archived_at"] is None, vault
    assert_time(vault["created_at"])
    assert r["vault_retrieved"] == vault
    assert vault["id"] in [v["id"] for v in r["vaults"]]

    cred = r["credential"]
    assert cred["type"] == "vault_credential" and cred["vault_id"] == vault["id"], cred
    assert cred["display_name"] == "example mcp", cred
    assert cred["auth"]["type"] == "static_bearer", cred
    assert cred["auth"]["mcp_server_url"] == "https://mcp.example.com/", cred
    assert "token" not in cred["auth"], cred
    assert_time(cred["created_at"])
    assert r["retrieved"] == cred
    assert [c["id"] for c in r["credentials"]] == [cred["id"]]

    # The secret is in no response body at all.
    bodies = [w for w in r["wire"] if w.get("body") is not None]
    assert any("/credentials" in w["path"] for w in bodies), r["wire"]
    for w in bodies:
        assert secret not in w["body"], w
        assert "secret-token" not in w["body"], w

    assert r["session"]["vault_ids"] == [vault["id"]], r["session"]
    assert r["session_retrieved"]["vault_ids"] == [vault["id"]], r["session_retrieved"]
    assert_sdk_error(r["unknown_vault"], 404, "not_found_error", "is_not_found")
