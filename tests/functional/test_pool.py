"""The sandbox pool seen through the API: lazy acquisition and the session's container fields,
SSE attach/detach frames, the warm pool, the active cap with eviction, idle reaping,
re-adoption after a restart, clean-up on delete, and the logs route. Both runtimes."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from conftest import crash_restart, poll
from test_sandbox_helpers import runtime, sandbox_server  # noqa: F401  (fixtures)
from test_sandbox_helpers import (CONTAINER_FIELDS, call, container_fields, files_path, live_sandboxes,
                                  metric, new_session, run_tools, wait_detached, wait_gone)

SBX_RE = re.compile(r"^sbx_[a-z0-9]{12}$")


def assert_attached(j: dict, runtime: str, source: str) -> None:
    assert j["pool_source"] == source, j
    assert SBX_RE.match(j["container_id"] or ""), j
    assert isinstance(j["boot_ms"], int) and j["boot_ms"] >= 0, j
    assert isinstance(j["container_name"], str) and j["container_name"], j
    if runtime == "local":
        assert re.fullmatch(r"bwrap:\d+", j["container_name"]), j
    else:
        assert j["container_id"] in j["container_name"], j


def test_sandbox_is_acquired_lazily_and_reported_on_the_session(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    created = s.created
    assert {k: created[k] for k in CONTAINER_FIELDS} == dict.fromkeys(CONTAINER_FIELDS), created
    s.run("no tools this turn", steps=[{"text": "just talking"}])
    assert container_fields(s.get()) == dict.fromkeys(CONTAINER_FIELDS), "no tool ran: no sandbox yet"
    assert live_sandboxes(server, runtime) == set()

    run_tools(s, call("bash", command="true"))
    j = s.get()
    assert_attached(j, runtime, "cold")
    assert live_sandboxes(server, runtime) == {j["container_id"]}
    listed = server.get("/v1/sessions").json()
    row = next(x for x in listed["sessions"] if x["session_id"] == s.id)
    assert container_fields(row) == container_fields(j)
    # A later turn reuses the sandbox.
    run_tools(s, call("bash", command="true"))
    assert container_fields(s.get()) == container_fields(j)


def test_sse_reports_attach_and_idle_detach_then_the_workspace_is_mounted_again(sandbox_server, mock_llm,
                                                                                runtime):
    server = sandbox_server(PINCER_IDLE_TIMEOUT_MS=1000)
    s = new_session(server, mock_llm)
    with s.stream() as stream:
        run_tools(s, call("bash", command="echo survived-the-reap > keep.txt"))
        frames = stream.frames_until(lambda f: f.event == "session.container_attached", timeout=10)
        attached = frames[-1].json
        assert attached["session_id"] == s.id
        assert SBX_RE.match(attached["container_id"]), attached
        assert attached["pool_source"] == "cold"
        assert isinstance(attached["boot_ms"], int)
        j = {"container_id": attached["container_id"]}
        # Idle for more than a second: the sandbox is reaped.
        frames = stream.frames_until(lambda f: f.event == "session.container_detached", timeout=15)
        detached = frames[-1].json
        assert detached["session_id"] == s.id
    wait_detached(s, timeout=5)
    wait_gone(server, runtime, j["container_id"])
    (cat,) = run_tools(s, call("bash", command="cat keep.txt"))
    assert cat["is_error"] is False and cat["content"] == "survived-the-reap\n", cat
    again = s.get()
    assert_attached(again, runtime, "cold")
    assert again["container_id"] != j["container_id"]


def test_warm_sandbox_is_claimed_by_the_next_new_session(sandbox_server, mock_llm, runtime):
    server = sandbox_server(PINCER_MAX_WARM=1)
    first = new_session(server, mock_llm)
    agent_id = first.agent["agent_id"]
    r = server.post(f"/v1/agents/{agent_id}/warm")
    assert r.status_code == 202, r.text
    assert r.json() == {"agent_id": agent_id, "queued": True}
    assert server.post("/v1/agents/agt_000000000000/warm").status_code == 404
    poll(lambda: metric(server, "pool_warm_sandboxes") == 1, timeout=15, message="a warm sandbox")
    warm_ids = live_sandboxes(server, runtime)
    assert len(warm_ids) == 1

    s = new_session(server, mock_llm, agent=first.agent)
    (r1,) = run_tools(s, call("bash", command="pwd; ls -A; echo mine > claimed.txt"))
    assert r1["is_error"] is False and r1["content"].splitlines() == ["/workspace"], r1
    j = s.get()
    assert_attached(j, runtime, "warm")
    assert j["boot_ms"] == 0
    assert j["container_id"] in warm_ids
    # The claimed sandbox works on the session's own workspace.
    got = server.get(files_path(agent_id, "claimed.txt"), params={"session_id": s.id})
    assert got.status_code == 200 and got.content == b"mine\n", got.text
    # The pool replenishes in the background.
    poll(lambda: metric(server, "pool_warm_sandboxes") == 1, timeout=15, message="the warm pool refilled")
    assert len(live_sandboxes(server, runtime)) == 2


def test_warm_requests_racing_a_boot_do_not_overfill_the_pool(sandbox_server, mock_llm, runtime):
    import time
    server = sandbox_server(PINCER_MAX_WARM=1)
    s = new_session(server, mock_llm)
    for _ in range(4):  # all sent while the first warm sandbox is still booting
        assert server.post(f"/v1/agents/{s.agent['agent_id']}/warm").status_code == 202
    poll(lambda: metric(server, "pool_warm_sandboxes") == 1, timeout=15, message="a warm sandbox")
    # A negative property: watch for a while that no second warm sandbox shows up.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert metric(server, "pool_warm_sandboxes") == 1
        assert len(live_sandboxes(server, runtime)) == 1


def test_unclaimed_warm_workspaces_are_removed_at_the_next_start(sandbox_server, mock_llm, runtime):
    server = sandbox_server(PINCER_MAX_WARM=1)
    s = new_session(server, mock_llm)
    warm_dir = os.path.join(server.data_dir, "workspaces", ".warm")

    def warm_up() -> None:
        assert server.post(f"/v1/agents/{s.agent['agent_id']}/warm").status_code == 202
        poll(lambda: metric(server, "pool_warm_sandboxes") == 1, timeout=15, message="a warm sandbox")
        assert len(os.listdir(warm_dir)) == 1

    # Sandboxes outlive the server; the next one stops the old warm ones and removes their
    # workspaces, whether the last one stopped cleanly or was killed.
    for restart in (lambda: server.stop() == 0 and server.restart(), lambda: crash_restart(server)):
        warm_up()
        assert restart()
        poll(lambda: os.listdir(warm_dir) == [], timeout=15,
             message="the previous server's warm workspace is removed at start-up")
        assert live_sandboxes(server, runtime) == set()


def test_active_cap_evicts_the_idle_session_and_its_workspace_survives(sandbox_server, mock_llm, runtime):
    server = sandbox_server(PINCER_MAX_ACTIVE=1)
    a = new_session(server, mock_llm)
    b = new_session(server, mock_llm)
    run_tools(a, call("bash", command="echo from-a > a.txt"))
    a_first = a.get()
    with a.stream() as stream:
        run_tools(b, call("bash", command="echo from-b > b.txt"))
        frames = stream.frames_until(lambda f: f.event == "session.container_detached", timeout=10)
        assert frames[-1].json["session_id"] == a.id
    assert container_fields(a.get()) == dict.fromkeys(CONTAINER_FIELDS), "a was evicted"
    assert_attached(b.get(), runtime, "cold")
    wait_gone(server, runtime, a_first["container_id"])
    assert live_sandboxes(server, runtime) == {b.get()["container_id"]}
    # The evicted workspace is still there for the files API ...
    listing = server.get(files_path(a.agent["agent_id"]), params={"session_id": a.id})
    assert listing.status_code == 200 and [e["name"] for e in listing.json()["entries"]] == ["a.txt"]
    # ... and is mounted again when a runs a tool, which in turn evicts b.
    (cat,) = run_tools(a, call("bash", command="cat a.txt; ls"))
    assert cat["content"].splitlines() == ["from-a", "a.txt"], cat
    a_again = a.get()
    assert_attached(a_again, runtime, "cold")
    assert a_again["container_id"] != a_first["container_id"]
    assert container_fields(b.get()) == dict.fromkeys(CONTAINER_FIELDS)
    poll(lambda: live_sandboxes(server, runtime) == {a_again["container_id"]}, timeout=10,
         message="only a's new sandbox to run")


def test_active_cap_with_every_sandbox_busy_is_a_tool_error(sandbox_server, mock_llm, runtime):
    server = sandbox_server(PINCER_MAX_ACTIVE=1)
    a = new_session(server, mock_llm)
    b = new_session(server, mock_llm)
    marker = f"4.{int.from_bytes(os.urandom(2), 'big') % 1000:03d}"
    a.script([{"tool_calls": [{"id": "call_busy", "name": "bash", "arguments": {"command": f"sleep {marker}"}}]},
              {"text": "a done"}])
    a.send("go")
    poll(lambda: subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 0,
         timeout=15, message="a's command to run")
    (refused,) = run_tools(b, call("bash", command="echo should-not-run"), timeout=15)
    assert refused["is_error"] is True, refused
    assert "capacity" in refused["content"] or "busy" in refused["content"], refused
    assert "should-not-run" not in refused["content"]
    done = a.wait(timeout=20)
    assert done["output"] == "a done"
    busy = next(e for e in a.events() if e["type"] == "agent.tool_result")
    assert busy["is_error"] is False, busy


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_restart_readopts_live_sandboxes_and_stops_the_rest(sandbox_server, mock_llm, runtime, how):
    server = sandbox_server(PINCER_MAX_WARM=1)
    a = new_session(server, mock_llm)
    run_tools(a, call("write", file_path="keep.txt", content="adopted-files"))
    a_before = a.get()
    b = new_session(server, mock_llm)
    run_tools(b, call("bash", command="true"))
    b_cid = b.get()["container_id"]
    assert server.delete(b.path).status_code == 200
    wait_gone(server, runtime, b_cid)  # DELETE stops the session's sandbox
    assert server.post(f"/v1/agents/{a.agent['agent_id']}/warm").status_code == 202
    poll(lambda: metric(server, "pool_warm_sandboxes") == 1, timeout=15, message="a warm sandbox")
    warm = live_sandboxes(server, runtime) - {a_before["container_id"]}
    assert len(warm) == 1

    if how == "sigterm":
        server.restart()
    else:
        crash_restart(server)

    a_after = a.get()
    assert a_after["pool_source"] == "adopt", a_after
    assert a_after["container_id"] == a_before["container_id"]
    assert a_after["container_name"] == a_before["container_name"]
    poll(lambda: live_sandboxes(server, runtime).isdisjoint(warm | {b_cid}), timeout=10,
         message="sandboxes without a live session to be stopped")
    assert a_before["container_id"] in live_sandboxes(server, runtime)
    (cat,) = run_tools(a, call("bash", command="cat keep.txt"))
    assert cat["is_error"] is False and cat["content"] == "adopted-files", cat
    still = a.get()
    assert still["container_id"] == a_before["container_id"] and still["pool_source"] == "adopt", still


def test_delete_session_stops_its_sandbox_and_removes_its_workspace(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    run_tools(s, call("bash", command="mkdir -p deep/er && echo x > deep/er/f"))
    cid = s.get()["container_id"]
    workspace = os.path.join(server.data_dir, "workspaces", s.id)
    assert os.path.isdir(workspace), "the test assumes <data>/workspaces/<session>"
    assert server.delete(s.path).status_code == 200
    wait_gone(server, runtime, cid)
    assert not os.path.exists(workspace)
    r = server.get(files_path(s.agent["agent_id"]), params={"session_id": s.id})
    assert r.status_code == 404 and r.json()["error"] == "session_not_found"
    r = server.get(s.path + "/logs")
    assert r.status_code == 404 and r.json()["error"] == "session_not_found", r.text


def test_logs_need_a_running_sandbox(sandbox_server, mock_llm, runtime):
    server = sandbox_server(PINCER_MAX_ACTIVE=1)
    s = new_session(server, mock_llm)
    r = server.get(s.path + "/logs")
    assert r.status_code == 500 and r.json()["error"] == "no_active_container", r.text
    assert server.get("/v1/sessions/ses_000000000000/logs").status_code == 404
    run_tools(s, call("bash", command="true"))
    r = server.get(s.path + "/logs")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    r = server.get(s.path + "/logs", params={"tail": "1"})
    assert r.status_code == 200 and len(r.text.strip().splitlines()) <= 1, r.text
    assert server.get(s.path + "/logs", params={"tail": "x"}).status_code == 400
    run_tools(new_session(server, mock_llm), call("bash", command="true"))  # evicts s
    assert container_fields(s.get()) == dict.fromkeys(CONTAINER_FIELDS)
    r = server.get(s.path + "/logs")
    assert r.status_code == 500 and r.json()["error"] == "no_active_container", r.text


def test_starting_another_installation_leaves_our_sandboxes_alone(sandbox_server, mock_llm, runtime):
    """Two servers with their own data dirs on one host (or one Docker daemon): starting the
    second must not stop the first one's sandboxes as orphans."""
    one = sandbox_server()
    s = new_session(one, mock_llm)
    run_tools(s, call("write", file_path="f.txt", content="x"))
    before = s.get()
    sandbox_server()  # a second server, fresh data dir, same runtime
    assert before["container_id"] in live_sandboxes(one, runtime), \
        "the second server stopped a sandbox it does not own"
    run_tools(s, call("bash", command="cat f.txt"))
    assert s.get()["container_id"] == before["container_id"]
