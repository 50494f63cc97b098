"""Isolation and abuse, asserted through the tools on both runtimes: read-only system
directories, a private persistent workspace, no path or symlink escapes, no network when the
environment has none, pids / memory limits, timeouts that kill the whole process group, and
recovery when the sandbox (or its pincer-sandboxd) is killed in the middle of a command."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time

import pytest

from conftest import poll, unique_key
from test_sandbox_helpers import runtime, sandbox_server, web_server  # noqa: F401  (fixtures)
from test_sandbox_helpers import (call, new_session, run_tools, sandbox_pid, sandboxd_host_pid,
                                  wait_gone)


def sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_usr_and_etc_are_read_only(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    probe = "pincer-probe-" + unique_key()
    results = run_tools(
        s,
        call("bash", command=f"touch /usr/{probe}"),
        call("bash", command=f"echo x > /etc/{probe}"),
        call("bash", command="echo 'evil:x:0:0::/:/bin/sh' >> /etc/passwd"),
        call("bash", command=f"mkdir /usr/lib/{probe}"),
        call("write", file_path=f"/usr/{probe}", content="x"),
        call("write", file_path=f"/etc/{probe}", content="x"),
        call("edit", file_path="/etc/passwd", old_string="root", new_string="toor"),
        call("bash", command="echo workspace-ok > ok.txt && cat ok.txt"),
    )
    for r in results[:-1]:
        assert r["is_error"] is True, r
    assert results[-1]["is_error"] is False and "workspace-ok" in results[-1]["content"]
    assert not os.path.exists(f"/usr/{probe}") and not os.path.exists(f"/etc/{probe}")
    assert not os.path.exists(f"/usr/lib/{probe}")
    with open("/etc/passwd") as f:
        assert "evil:" not in f.read()


def test_workspace_persists_between_tool_calls_and_turns(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    run_tools(s, call("bash", command="echo turn-one > persisted.txt && mkdir -p d && echo x > d/y"))
    first = s.get()
    cat, read = run_tools(s, call("bash", command="cat persisted.txt d/y"),
                          call("read", file_path="persisted.txt"))
    assert cat["content"].splitlines() == ["turn-one", "x"], cat
    assert "turn-one" in read["content"]
    assert s.get()["container_id"] == first["container_id"], "the sandbox is kept between turns"


def test_another_sessions_workspace_is_not_reachable(sandbox_server, mock_llm):
    server = sandbox_server()
    a = new_session(server, mock_llm)
    secret = "top-secret-" + unique_key()
    run_tools(a, call("write", file_path="secret.txt", content=secret))
    host_path = os.path.join(server.data_dir, "workspaces", a.id, "secret.txt")
    assert os.path.exists(host_path), "the test assumes <data>/workspaces/<session>"
    b = new_session(server, mock_llm, agent=a.agent)  # same agent, other session
    results = run_tools(
        b,
        call("read", file_path=f"../{a.id}/secret.txt"),
        call("read", file_path=host_path),
        call("bash", command=f"cat ../{a.id}/secret.txt {host_path}; ls -a /workspace/.. ; "
                             f"grep -rs {secret} /workspace /tmp /run /home /root /mnt 2>/dev/null"),
        call("glob", pattern="**/secret.txt", path=".."),
        call("grep", pattern=secret, path=".."),
    )
    for r in results:
        assert secret not in r["content"], r
    assert results[0]["is_error"] is True and results[1]["is_error"] is True
    assert results[3]["is_error"] is True and results[4]["is_error"] is True


def test_dotdot_and_symlink_escapes_fail_for_file_tools(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    passwd_before = sha("/etc/passwd")
    setup = run_tools(s, call("bash", command=(
        "ln -s /etc/passwd pw && ln -s / rootlink && ln -s .. up && mkdir -p sub && "
        "ln -s ../../etc sub/etc && ls -l")))[0]
    assert setup["is_error"] is False, setup
    results = run_tools(
        s,
        call("read", file_path="../etc/passwd"),
        call("read", file_path="sub/../../etc/passwd"),
        call("read", file_path="/etc/passwd"),
        call("read", file_path="pw"),
        call("read", file_path="rootlink/etc/passwd"),
        call("read", file_path="up/etc/passwd"),
        call("read", file_path="sub/etc/passwd"),
        call("write", file_path="../escaped.txt", content="x"),
        call("write", file_path="pw", content="overwritten"),
        call("write", file_path="rootlink/tmp/escaped.txt", content="x"),
        call("write", file_path="up/escaped.txt", content="x"),
        call("edit", file_path="pw", old_string="root", new_string="toor"),
        call("edit", file_path="../etc/passwd", old_string="root", new_string="toor"),
        call("edit", file_path="rootlink/etc/passwd", old_string="root", new_string="toor"),
        call("glob", pattern="*", path="rootlink/etc"),
        call("grep", pattern="root:", path="pw"),
        call("grep", pattern="root:"),
    )
    for r in results:
        assert "root:x:0:0" not in r["content"], r
    assert all(r["is_error"] for r in results[:14]), [(r["content"], r["is_error"]) for r in results[:14]]
    assert results[14]["is_error"] or "passwd" not in results[14]["content"], results[14]
    check = run_tools(s, call("bash", command="cat pw | head -1; ls /; ls /tmp; test -L pw && echo still-a-link"))[0]
    assert "still-a-link" in check["content"], check
    assert "overwritten" not in check["content"] and "escaped.txt" not in check["content"], check
    assert sha("/etc/passwd") == passwd_before


def test_no_network_when_the_environment_has_none(sandbox_server, mock_llm, web_server):
    server = sandbox_server()
    env = server.create_environment(name="sealed", networking={"type": "none"})
    s = new_session(server, mock_llm, environment_id=env["environment_id"])
    host, port = web_server["url"].rsplit("/", 1)[1].rsplit(":", 1)
    results = run_tools(
        s,
        call("bash", command=f"curl -sS --max-time 5 {web_server['url']}/curl"),
        call("bash", command=("python3 -c \"import socket; s=socket.create_connection(('%s', %s), timeout=5); "
                              "s.sendall(b'GET /py HTTP/1.0\\r\\n\\r\\n'); print(s.recv(999))\"" % (host, port))),
        call("web_fetch", url=web_server["url"] + "/fetch"),
    )
    for r in results:
        assert r["is_error"] is True, r
        assert web_server["body"] not in r["content"], r


def test_fork_bomb_is_stopped_by_the_pids_limit_and_the_session_stays_usable(sandbox_server, mock_llm):
    server = sandbox_server(PINCER_SANDBOX_PIDS=32)
    s = new_session(server, mock_llm)
    many, bomb, alive = run_tools(
        s,
        call("bash", command="for i in $(seq 1 64); do sleep 100 & done; echo spawned-all", timeout=10000),
        call("bash", command="f(){ f|f & }; f; sleep 2", timeout=1500),
        call("bash", command="echo alive; ps -eo stat= | grep -c -v '^Z'"),
        timeout=60,
    )
    # 64 background sleeps cannot fit under a limit of 32 processes.
    assert "fork" in many["content"].lower() or "resource" in many["content"].lower(), many
    assert "spawned-all" not in many["content"], many
    assert bomb["is_error"] is True, bomb
    assert alive["is_error"] is False, alive
    lines = alive["content"].splitlines()
    assert lines[0] == "alive" and int(lines[1]) < 10, alive


def test_memory_bomb_is_an_error_result_and_the_session_stays_usable(sandbox_server, mock_llm):
    server = sandbox_server(PINCER_SANDBOX_MEMORY_MB=64)
    s = new_session(server, mock_llm)
    write, bomb, alive = run_tools(
        s,
        call("write", file_path="before.txt", content="still here"),
        call("bash", command="python3 -c \"b = b'x' * (512 << 20); print('allocated', len(b))\"",
             timeout=30000),
        call("bash", command="cat before.txt"),
        timeout=60,
    )
    assert bomb["is_error"] is True, bomb
    assert "allocated" not in bomb["content"], bomb
    text = bomb["content"].lower()
    assert any(w in text for w in ("memory", "sigkill", "137", "killed")), bomb
    assert alive["is_error"] is False and alive["content"] == "still here", alive


def test_endless_loop_times_out_and_the_whole_process_group_dies(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    start = time.monotonic()
    loop, survivors, after_exit = run_tools(
        s,
        call("bash", command="sleep 300 & (sleep 301 &); while :; do :; done", timeout=1000),
        call("bash", command="ps -eo stat=,args= | grep -v '^Z' | grep '[s]leep 30[01]' || echo no-survivor"),
        call("bash", command="(sleep 302 &); sleep 303 & echo started"),
    )
    assert time.monotonic() - start < 20
    assert loop["is_error"] is True and "killed" in loop["content"].lower(), loop
    assert "no-survivor" in survivors["content"], survivors
    assert "started" in after_exit["content"]
    (check,) = run_tools(s, call(
        "bash", command="ps -eo stat=,args= | grep -v '^Z' | grep '[s]leep 30[23]' || echo no-survivor"))
    assert "no-survivor" in check["content"], "background children outlived their command: " + check["content"]


def test_orphaned_processes_are_reaped(sandbox_server, mock_llm):
    """Orphans are reparented to the sandbox's init, which must reap them; otherwise zombies pile
    up against the pids limit until no command can start."""
    server = sandbox_server()
    s = new_session(server, mock_llm)
    run_tools(s, *[call("bash", command="(true &); (sleep 0.05 &); echo spawned") for _ in range(3)])
    (zombies,) = run_tools(s, call("bash", command="sleep 0.5; ps -eo pid=,ppid=,stat=,comm= | awk '$3 ~ /^Z/'"))
    assert zombies["is_error"] is False
    assert zombies["content"].strip() in ("", "(no output)"), "zombies left behind:\n" + zombies["content"]


# --- killing the sandbox mid-exec ---------------------------------------------------------------

def _kill(runtime: str, what: str, session_json: dict) -> None:
    if what == "sandboxd":
        os.kill(sandboxd_host_pid(session_json, runtime), signal.SIGKILL)
    elif runtime == "local":
        os.kill(sandbox_pid(session_json), signal.SIGKILL)
    else:
        r = subprocess.run(["docker", "kill", session_json["container_name"]], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("what", ["sandbox", "sandboxd"])
def test_killing_the_sandbox_mid_exec_gives_an_error_and_a_fresh_sandbox(sandbox_server, mock_llm,
                                                                         runtime, what):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    run_tools(s, call("write", file_path="keep.txt", content="kept across sandboxes"))
    before = s.get()
    marker = f"{37 + int.from_bytes(os.urandom(2), 'big') % 1000 / 1000:.3f}"
    s.script([{"tool_calls": [{"id": "call_sleep", "name": "bash",
                               "arguments": {"command": f"sleep {marker}", "timeout": 120000}}]},
              {"tool_calls": [{"id": "call_cat", "name": "bash", "arguments": {"command": "cat keep.txt"}}]},
              {"text": "recovered"}])
    s.send("go")
    # Wait until the command really runs in the sandbox, then kill it from outside.
    poll(lambda: subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 0,
         timeout=15, message="the sleep to start")
    t0 = time.monotonic()
    _kill(runtime, what, before)
    done = s.wait(timeout=30)
    assert time.monotonic() - t0 < 25, "the tool call must fail promptly, not wait for the command"
    assert done["status"] == "idle" and done["output"] == "recovered", done
    results = {e["tool_call_id"]: e for e in s.events() if e["type"] == "agent.tool_result"}
    lost = results["call_sleep"]
    assert lost["is_error"] is True and lost["content"].strip(), lost
    cat = results["call_cat"]
    assert cat["is_error"] is False and cat["content"] == "kept across sandboxes", cat
    after = s.get()
    assert after["container_id"] and after["container_id"] != before["container_id"], after
    assert after["pool_source"] == "cold"
    wait_gone(server, runtime, before["container_id"])
    assert subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode != 0
