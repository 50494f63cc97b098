"""The built-in tools (bash, read, write, edit, glob, grep, web_fetch) run through the agent
loop in real sandboxes, on the local and the docker runtime. Tool failures come back to the
model as is_error results and the turn goes on."""

from __future__ import annotations

import re
import time

from conftest import AgentSession, poll
from test_sandbox_helpers import runtime, sandbox_server, web_server  # noqa: F401  (fixtures)
from test_sandbox_helpers import call, files_path, new_session, run_tools

NUMBERED = re.compile(r"^\s*(\d+)\t(.*)$")


def numbered_lines(text: str) -> list[tuple[int, str]]:
    out = []
    for line in text.splitlines():
        m = NUMBERED.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


def get_file(s: AgentSession, rel: str) -> bytes:
    r = s.server.get(files_path(s.agent["agent_id"], rel), params={"session_id": s.id})
    assert r.status_code == 200, (rel, r.status_code, r.text)
    return r.content


# --- bash -------------------------------------------------------------------------------------

def test_bash_stdout_stderr_and_exit_code(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    ok, failed, quiet = run_tools(
        s,
        call("bash", command="echo to-stdout; echo to-stderr >&2"),
        call("bash", command="echo partial; exit 3"),
        call("bash", command="true"),
    )
    assert ok["is_error"] is False, ok
    assert "to-stdout" in ok["content"] and "to-stderr" in ok["content"], ok
    assert ok["content"].index("to-stdout") < ok["content"].index("to-stderr")
    assert failed["is_error"] is True, failed
    assert "partial" in failed["content"] and "3" in failed["content"], failed
    assert quiet["is_error"] is False and quiet["content"].strip() != "", quiet
    # The model saw the error result and the turn went on to its final answer.
    last = s.llm_requests()[-1]
    assert "partial" in str(last["messages"])


def test_bash_runs_in_the_workspace_as_an_unprivileged_user(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    (r,) = run_tools(s, call("bash", command="pwd; id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status"))
    assert r["is_error"] is False, r
    lines = r["content"].splitlines()
    assert lines[0] == "/workspace"
    assert lines[1] != "0", "commands must not run as root inside the sandbox"
    status = dict(l.split(":\t") for l in lines[2:4])
    assert int(status["CapEff"], 16) == 0, r["content"]
    assert status["NoNewPrivs"].strip() == "1", r["content"]


def test_bash_timeout_kills_the_command(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    start = time.monotonic()
    timed_out, after = run_tools(
        s,
        call("bash", command="echo begun; sleep 30", timeout=1000),
        call("bash", command="ps -eo stat=,args= | grep -v '^Z' | grep '[s]leep 30' || echo no-sleep-left"),
    )
    assert time.monotonic() - start < 20
    assert timed_out["is_error"] is True, timed_out
    assert "begun" in timed_out["content"]
    assert "killed" in timed_out["content"].lower() and "1000" in timed_out["content"], timed_out
    assert after["is_error"] is False and "no-sleep-left" in after["content"], after


# --- read / write / edit ---------------------------------------------------------------------

def test_write_then_read_with_numbered_lines_offset_and_limit(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    text = "".join(f"line {i}\n" for i in range(1, 8))
    w, whole, part, absolute, missing, directory = run_tools(
        s,
        call("write", file_path="notes/todo.txt", content=text),
        call("read", file_path="notes/todo.txt"),
        call("read", file_path="notes/todo.txt", offset=3, limit=2),
        call("read", file_path="/workspace/notes/todo.txt", offset=7),
        call("read", file_path="notes/nope.txt"),
        call("read", file_path="notes"),
    )
    assert w["is_error"] is False, w
    assert whole["is_error"] is False, whole
    assert numbered_lines(whole["content"]) == [(i, f"line {i}") for i in range(1, 8)], whole
    assert part["is_error"] is False
    assert numbered_lines(part["content"]) == [(3, "line 3"), (4, "line 4")], part
    assert numbered_lines(absolute["content"]) == [(7, "line 7")], absolute
    assert missing["is_error"] is True and "nope.txt" in missing["content"], missing
    assert directory["is_error"] is True, directory
    assert get_file(s, "notes/todo.txt") == text.encode()


def test_write_overwrites_and_is_seen_by_bash(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    _, _, cat = run_tools(
        s,
        call("write", file_path="a/b/c.txt", content="first version\n"),
        call("write", file_path="a/b/c.txt", content="second\n"),
        call("bash", command="cat a/b/c.txt; ls -1 a/b"),
    )
    assert cat["is_error"] is False
    assert cat["content"].splitlines() == ["second", "c.txt"], cat


def test_edit_exact_replace_no_match_ambiguous_and_replace_all(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    original = "alpha = 1\nbeta = 2\nalpha_again = 3\ngamma = alpha\n"
    _, single = run_tools(
        s,
        call("write", file_path="cfg.py", content=original),
        call("edit", file_path="cfg.py", old_string="beta = 2", new_string="beta = 20"),
    )
    assert single["is_error"] is False, single
    after_single = original.replace("beta = 2", "beta = 20")
    assert get_file(s, "cfg.py") == after_single.encode()

    none, ambiguous = run_tools(
        s,
        call("edit", file_path="cfg.py", old_string="delta", new_string="x"),
        call("edit", file_path="cfg.py", old_string="alpha", new_string="omega"),
    )
    assert none["is_error"] is True, none
    assert ambiguous["is_error"] is True, ambiguous
    assert "3" in ambiguous["content"] or "replace_all" in ambiguous["content"], ambiguous
    assert get_file(s, "cfg.py") == after_single.encode(), "failed edits must not touch the file"

    (every,) = run_tools(
        s, call("edit", file_path="cfg.py", old_string="alpha", new_string="omega", replace_all=True))
    assert every["is_error"] is False, every
    assert "3" in every["content"], every
    assert get_file(s, "cfg.py") == after_single.replace("alpha", "omega").encode()

    (missing,) = run_tools(s, call("edit", file_path="nope.py", old_string="a", new_string="b"))
    assert missing["is_error"] is True, missing


# --- glob / grep -----------------------------------------------------------------------------

SETUP_TREE = ("mkdir -p src/pkg docs && printf 'x = 1  # TODO(ann)\\n' > src/a.py && "
              "printf 'ok\\nTODO(bob) fix\\n' > src/pkg/b.py && printf 'TODO(cy) doc\\n' > docs/c.md && "
              "printf 'print(1)\\n' > top.py")


def test_glob_finds_files_by_pattern(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    setup, everywhere, in_src, nothing = run_tools(
        s,
        call("bash", command=SETUP_TREE),
        call("glob", pattern="**/*.py"),
        call("glob", pattern="*.py", path="src"),
        call("glob", pattern="**/*.rs"),
    )
    assert setup["is_error"] is False, setup
    assert everywhere["is_error"] is False
    assert set(everywhere["content"].split()) == {"src/a.py", "src/pkg/b.py", "top.py"}, everywhere
    assert set(in_src["content"].split()) == {"src/a.py"}, in_src
    assert nothing["is_error"] is False
    assert ".rs" not in nothing["content"] and "src/" not in nothing["content"], nothing


def test_grep_searches_contents_with_a_regex(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    _, all_hits, only_py, one_file, bad = run_tools(
        s,
        call("bash", command=SETUP_TREE),
        call("grep", pattern=r"TODO\(\w+\)"),
        call("grep", pattern=r"TODO\(\w+\)", glob="*.py"),
        call("grep", pattern="TODO", path="docs/c.md"),
        call("grep", pattern="([unclosed"),
    )
    assert all_hits["is_error"] is False
    assert set(all_hits["content"].splitlines()) == {
        "src/a.py:1:x = 1  # TODO(ann)", "src/pkg/b.py:2:TODO(bob) fix", "docs/c.md:1:TODO(cy) doc"}, all_hits
    assert set(only_py["content"].splitlines()) == {
        "src/a.py:1:x = 1  # TODO(ann)", "src/pkg/b.py:2:TODO(bob) fix"}, only_py
    assert one_file["content"].splitlines() == ["docs/c.md:1:TODO(cy) doc"], one_file
    assert bad["is_error"] is True, bad


# --- web_fetch -------------------------------------------------------------------------------

def test_web_fetch_with_unrestricted_networking(sandbox_server, mock_llm, web_server):
    server = sandbox_server()
    env = server.create_environment(name="open", networking={"type": "unrestricted"})
    s = new_session(server, mock_llm, environment_id=env["environment_id"])
    (r,) = run_tools(s, call("web_fetch", url=web_server["url"] + "/page-1"))
    assert r["is_error"] is False, r
    assert web_server["body"] + "/page-1" in r["content"], r


def test_web_fetch_without_network_is_a_clear_error_result(sandbox_server, mock_llm, web_server):
    server = sandbox_server()
    env = server.create_environment(name="offline", networking={"type": "none"})
    s = new_session(server, mock_llm, environment_id=env["environment_id"])
    fetched, curl = run_tools(
        s,
        call("web_fetch", url=web_server["url"] + "/secret"),
        call("bash", command=f"curl -sS --max-time 5 {web_server['url']}/via-curl"),
    )
    assert fetched["is_error"] is True, fetched
    assert "network" in fetched["content"].lower(), fetched
    assert web_server["body"] not in fetched["content"]
    assert curl["is_error"] is True, curl
    assert web_server["body"] not in curl["content"]
    assert s.get()["error"] is None


def test_web_fetch_rejects_non_http_urls(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    bad, local_file = run_tools(
        s,
        call("web_fetch", url="ftp://example.invalid/x"),
        call("web_fetch", url="file:///etc/passwd"),
    )
    assert bad["is_error"] is True, bad
    assert local_file["is_error"] is True and "root:" not in local_file["content"], local_file


# --- the agent's tools list --------------------------------------------------------------------

def test_agent_tools_list_restricts_the_builtin_tools(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm, tools=["read", "write"])
    wrote, denied, read = run_tools(
        s,
        call("write", file_path="allowed.txt", content="yes"),
        call("bash", command="echo sneaky > bash-ran.txt"),
        call("read", file_path="allowed.txt"),
    )
    offered = s.llm_requests()[0]["tools"]
    names = sorted(t["function"]["name"] if "function" in t else t["name"] for t in offered)
    assert names == ["read", "write"]
    assert wrote["is_error"] is False, wrote
    assert denied["is_error"] is True and "bash" in denied["content"], denied
    assert numbered_lines(read["content"]) == [(1, "yes")], read
    listing = server.get(files_path(s.agent["agent_id"]), params={"session_id": s.id}).json()
    assert [e["name"] for e in listing["entries"]] == ["allowed.txt"], listing


def test_tool_errors_never_fail_the_session(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    results = run_tools(
        s,
        call("bash", command=""),
        call("read", file_path=""),
        call("write", file_path="", content="x"),
        call("edit", file_path="x", old_string="", new_string="y"),
        call("grep", pattern=""),
        call("bash", command="echo still-fine"),
    )
    assert [r["is_error"] for r in results[:4]] == [True, True, True, True], results
    assert results[-1]["is_error"] is False and "still-fine" in results[-1]["content"]
    assert s.get()["status"] == "idle"


def test_cancelling_a_running_command_kills_it_and_keeps_the_sandbox(sandbox_server, mock_llm):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    run_tools(s, call("bash", command="true"))
    before = s.get()
    # A command that records its pid, then blocks; the turn is cancelled while it runs.
    s.script([{"tool_calls": [dict(call("bash", command="echo $$ > long.pid; exec sleep 300"), id="call_long")]}])
    s.send("run the long one")
    s.wait_event(lambda e: e["type"] == "agent.tool_use", message="the long bash call")
    poll(lambda: s.server.get(files_path(s.agent["agent_id"], "long.pid"), params={"session_id": s.id}).ok,
         message="the long command to start")
    assert server.post(s.path + "/cancel").status_code == 200
    assert s.wait()["status"] == "idle"
    after = s.get()
    assert after["container_id"] == before["container_id"], "cancelling a call kept the sandbox"
    pid = get_file(s, "long.pid").decode().strip()
    (check,) = run_tools(s, call("bash", command=f"kill -0 {pid} 2>/dev/null && echo alive || echo gone"))
    assert check["content"].strip() == "gone", check
    assert s.get()["container_id"] == before["container_id"]
