"""The files API (seed §2.5): GET/PUT/DELETE /v1/agents/:id/files[/<path>]?session_id= on a
session's workspace. Listing, binary-safe download and upload, the 10 MiB caps, validation of
session_id and paths (no `..`, encoded `..`, NUL or symlink escapes), audit rows, and that it
works whether or not a sandbox is running."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time

import pytest

from conftest import AgentSession, unique_key
from test_sandbox_helpers import runtime, sandbox_server  # noqa: F401  (fixtures)
from test_sandbox_helpers import (CONTAINER_FIELDS, call, container_fields, files_path, new_session,
                                  run_tools)

MIB = 1 << 20
NULLS = dict.fromkeys(CONTAINER_FIELDS)


class Files:
    """The files API of one session."""

    def __init__(self, s: AgentSession):
        self.s = s
        self.server = s.server
        self.agent_id = s.agent["agent_id"]

    def q(self, extra: str = "") -> str:
        return f"?session_id={self.s.id}{extra}"

    def list(self, path: str | None = None):
        params = {"session_id": self.s.id}
        if path is not None:
            params["path"] = path
        return self.server.get(files_path(self.agent_id), params=params)

    def get(self, rel: str):
        return self.server.get(files_path(self.agent_id, rel), params={"session_id": self.s.id})

    def put(self, rel: str, data: bytes):
        return self.server.put(files_path(self.agent_id, rel), params={"session_id": self.s.id}, data=data,
                               timeout=60)

    def delete(self, rel: str):
        return self.server.delete(files_path(self.agent_id, rel), params={"session_id": self.s.id})

    def raw(self, method: str, rel_target: str, body: bytes | None = None):
        """`rel_target` is appended byte for byte after /v1/agents/<id>/files."""
        return self.server.raw(method, files_path(self.agent_id) + rel_target, body=body)


@pytest.fixture
def victim():
    """A host file outside every workspace that escapes would reach; checked to be untouched."""
    d = tempfile.mkdtemp(prefix="pincer-victim-")
    path = os.path.join(d, "victim.txt")
    with open(path, "w") as fh:
        fh.write("untouched")
    yield path
    shutil.rmtree(d, ignore_errors=True)


def assert_untouched(victim: str) -> None:
    with open(victim) as fh:
        assert fh.read() == "untouched"
    assert os.listdir(os.path.dirname(victim)) == ["victim.txt"]


# --- the basic operations ------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", ["local"])
def test_put_list_get_delete_without_any_sandbox(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    r = f.list()
    assert r.status_code == 200, r.text
    assert r.json()["agent_id"] == f.agent_id and r.json()["entries"] == []

    binary = bytes(range(256)) * 64 + b"\r\n\0tail"
    r = f.put("zdir/inner/blob.bin", binary)
    assert r.status_code == 200, r.text
    assert r.json() == {"agent_id": f.agent_id, "size": len(binary), "path": "zdir/inner/blob.bin"}
    assert f.put("b.txt", b"bee\n").json()["size"] == 4
    assert f.put("a.txt", b"").json()["size"] == 0
    assert f.put("adir/x.txt", b"x").status_code == 200

    now_ms = time.time() * 1000
    body = f.list().json()
    assert body["agent_id"] == f.agent_id
    entries = body["entries"]
    assert [(e["name"], e["type"]) for e in entries] == [
        ("adir", "dir"), ("zdir", "dir"), ("a.txt", "file"), ("b.txt", "file")], entries
    for e in entries:
        assert set(e) == {"name", "path", "type", "size", "mtime"}, e
        assert e["path"] == e["name"]
        assert isinstance(e["mtime"], int) and abs(e["mtime"] - now_ms) < 600_000, e
    assert next(e for e in entries if e["name"] == "b.txt")["size"] == 4

    sub = f.list("zdir/inner").json()
    assert sub["path"] == "zdir/inner"
    assert [(e["name"], e["path"], e["type"], e["size"]) for e in sub["entries"]] == [
        ("blob.bin", "zdir/inner/blob.bin", "file", len(binary))]

    r = f.get("zdir/inner/blob.bin")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/octet-stream")
    assert r.content == binary
    assert f.get("a.txt").content == b""

    r = f.put("b.txt", b"overwritten")
    assert r.status_code == 200 and f.get("b.txt").content == b"overwritten"

    r = f.delete("b.txt")
    assert r.status_code == 200 and r.json() == {"agent_id": f.agent_id, "path": "b.txt", "deleted": True}
    r = f.get("b.txt")
    assert r.status_code == 404 and r.json()["error"] == "file_not_found"
    r = f.delete("b.txt")
    assert r.status_code == 404 and r.json()["error"] == "file_not_found"
    r = f.delete("zdir")  # directories go with their contents
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert [e["name"] for e in f.list().json()["entries"]] == ["adir", "a.txt"]
    assert f.get("adir").status_code in (400, 404)
    r = f.get("nope/nothing.txt")
    assert r.status_code == 404 and r.json()["error"] == "file_not_found"

    assert container_fields(s.get()) == NULLS, "the files API must not start a sandbox"


def test_files_and_tools_see_the_same_workspace(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    assert f.put("in/uploaded-before.txt", b"before the sandbox\n").status_code == 200
    run_tools(s, call("bash", command="cat in/uploaded-before.txt && echo from-tool > made-by-tool.txt"))
    assert f.get("made-by-tool.txt").content == b"from-tool\n"
    # Uploaded while the sandbox runs: the agent can read and change it with its tools.
    assert f.put("in/uploaded-during.txt", b"one\n").status_code == 200
    assert f.put("fresh-dir/new.txt", b"two\n").status_code == 200
    read, edit, append, create = run_tools(
        s,
        call("read", file_path="in/uploaded-during.txt"),
        call("edit", file_path="in/uploaded-during.txt", old_string="one", new_string="ONE"),
        call("bash", command="echo more >> fresh-dir/new.txt && cat fresh-dir/new.txt"),
        call("bash", command="echo created > fresh-dir/by-agent.txt && echo ok"),
    )
    assert read["is_error"] is False and "one" in read["content"], read
    assert edit["is_error"] is False, edit
    assert append["is_error"] is False and append["content"] == "two\nmore\n", append
    assert create["is_error"] is False, create
    assert f.get("in/uploaded-during.txt").content == b"ONE\n"
    names = [e["name"] for e in f.list("fresh-dir").json()["entries"]]
    assert names == ["by-agent.txt", "new.txt"]


def test_files_api_works_while_the_session_is_evicted(sandbox_server, mock_llm, runtime):
    server = sandbox_server(PINCER_MAX_ACTIVE=1)
    a = new_session(server, mock_llm)
    b = new_session(server, mock_llm)
    run_tools(a, call("bash", command="echo a > a.txt"))
    run_tools(b, call("bash", command="true"))  # evicts a
    assert container_fields(a.get()) == NULLS
    f = Files(a)
    assert f.get("a.txt").content == b"a\n"
    assert f.put("while-evicted.txt", b"up\n").status_code == 200
    assert [e["name"] for e in f.list().json()["entries"]] == ["a.txt", "while-evicted.txt"]
    assert container_fields(a.get()) == NULLS, "the files API must not start a sandbox"
    (cat,) = run_tools(a, call("bash", command="cat while-evicted.txt && echo more >> while-evicted.txt"))
    assert cat["is_error"] is False and cat["content"] == "up\n", cat
    assert f.get("while-evicted.txt").content == b"up\nmore\n"


# --- sizes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", ["local"])
def test_upload_size_limits(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    exactly = os.urandom(10 * MIB)
    r = f.put("ten.bin", exactly)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["size"] == 10 * MIB
    got = f.get("ten.bin")
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(exactly).digest()

    r = f.put("too-big.bin", exactly + b"!")
    assert r.status_code == 413, r.status_code
    assert f.get("too-big.bin").status_code == 404

    def chunks(total: int):
        for i in range(0, total, MIB):
            yield b"c" * min(MIB, total - i)
    r = f.put("chunked.bin", chunks(10 * MIB))  # Transfer-Encoding: chunked
    assert r.status_code == 200 and r.json()["size"] == 10 * MIB, r.text[:300]
    r = f.put("chunked-too-big.bin", chunks(10 * MIB + 1))
    assert r.status_code == 413, r.text[:300]
    # JSON routes keep their own 1 MiB limit.
    r = server.post("/v1/agents", json={"model": "m", "instructions": "x" * (MIB + 10)})
    assert r.status_code == 413


@pytest.mark.parametrize("runtime", ["local"])
def test_download_is_capped_at_10_mib(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    (made,) = run_tools(s, call("bash", command=f"head -c {10 * MIB + 4096} /dev/zero | tr '\\0' 'a' > big.txt && echo ok"))
    assert made["is_error"] is False, made
    r = Files(s).get("big.txt")
    assert r.status_code == 200
    assert len(r.content) == 10 * MIB
    assert set(r.content[:100]) == {ord("a")}


# --- session_id validation --------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", ["local"])
def test_missing_session_id_is_400(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    aid = s.agent["agent_id"]
    for query in ("", "?session_id=", "?path=."):
        for method, rel in (("GET", ""), ("GET", "/x.txt"), ("PUT", "/x.txt"), ("DELETE", "/x.txt")):
            status, _, body = server.raw(method, files_path(aid) + rel + query, body=b"data" if method == "PUT" else None)
            assert status == 400, (method, rel, query, status, body)
            assert b'"missing_session_id"' in body, body


@pytest.mark.parametrize("runtime", ["local"])
def test_bad_or_foreign_session_ids_are_404(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    mine = new_session(server, mock_llm)
    other_agent = new_session(server, mock_llm)
    Files(other_agent).put("theirs.txt", b"not yours")
    aid = mine.agent["agent_id"]
    name = "pwned-" + unique_key() + ".txt"
    bad = ["../..", "..%2F..", "..", ".", "%2e%2e%2f%2e%2e", "ses_000000000000", other_agent.id,
           f"{mine.id}/..", f"../{mine.id}", "ses_..%2F..%2Fx", "ses_aaaaaaaa%2F..",
           mine.id.upper(), mine.id + "%2F..%2F" + other_agent.id]
    for sid in bad:
        for method, rel in (("GET", ""), ("GET", "/theirs.txt"), ("PUT", "/" + name), ("DELETE", "/theirs.txt")):
            status, _, body = server.raw(method, files_path(aid) + rel + "?session_id=" + sid,
                                         body=b"data" if method == "PUT" else None)
            assert status == 404, (method, sid, status, body)
            assert b'"session_not_found"' in body, (method, sid, body)
            assert b"not yours" not in body
    assert Files(other_agent).get("theirs.txt").content == b"not yours"
    # Nothing was written anywhere: not in the data dir, nor next to or above it.
    for dirpath, _, filenames in os.walk(server.data_dir):
        assert name not in filenames, os.path.join(dirpath, name)
    parent = os.path.dirname(server.data_dir.rstrip("/"))
    for d in (parent, os.path.dirname(parent), "/"):
        assert not os.path.exists(os.path.join(d, name)), d


# --- path validation -----------------------------------------------------------------------------

OUTSIDE_MARKERS = (b"root:x:0:0", b"not yours")


@pytest.mark.parametrize("runtime", ["local"])
def test_dotdot_encoded_dotdot_and_nul_paths_are_rejected(sandbox_server, mock_llm, runtime, victim):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    sibling = new_session(server, mock_llm, agent=s.agent)
    Files(sibling).put("secret.txt", b"not yours")
    f = Files(s)
    assert f.put("sub/ok.txt", b"fine").status_code == 200
    q = f.q()
    sib = sibling.id
    targets = [
        f"/../../../../../../etc/passwd{q}",
        f"/sub/../../{sib}/secret.txt{q}",
        f"/%2e%2e/{sib}/secret.txt{q}",
        f"/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd{q}",
        f"/sub/%2e%2e/%2e%2e/{sib}/secret.txt{q}",
        f"/..%2f{sib}%2fsecret.txt{q}",
        f"/sub%2f..%2f..%2f{sib}%2fsecret.txt{q}",
        f"/%2fetc%2fpasswd{q}",
        f"/ok.txt%00.png{q}",
        f"/sub/ok.txt%00{q}",
        f"{q}&path=..",
        f"{q}&path=../{sib}",
        f"{q}&path=%2e%2e",
        f"{q}&path=/etc",
        f"{q}&path=sub/../..",
    ]
    for t in targets:
        status, _, body = f.raw("GET", t)
        assert status in (400, 404), (t, status, body[:200])
        assert not any(m in body for m in OUTSIDE_MARKERS), (t, body[:200])
    # Writes and deletes aim at the sibling's file and at a host file (never at /etc).
    up = "/.." * 12
    enc = "/%2e%2e" * 12
    v = victim.lstrip("/")
    write_targets = [
        f"{up}/{v}{q}", f"{enc}/{v}{q}", f"/sub{enc}/{v}{q}", f"/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f{v}{q}",
        f"/%2f{v}{q}", f"/{v}{q}".replace("/tmp/", "/%2ftmp/", 1),
        f"/sub/../../{sib}/secret.txt{q}", f"/%2e%2e/{sib}/secret.txt{q}", f"/..%2f{sib}%2fsecret.txt{q}",
        f"/sub/ok.txt%00{q}",
    ]
    for t in write_targets:
        status, _, body = f.raw("PUT", t, body=b"overwrite attempt")
        assert status in (400, 404), ("PUT", t, status, body[:200])
        status, _, body = f.raw("DELETE", t)
        assert status in (400, 404), ("DELETE", t, status, body[:200])
    assert_untouched(victim)
    # A literal ".." segment that the router hands over is invalid_path (seed §2.5).
    status, _, body = f.raw("PUT", f"/sub/%2e%2e/%2e%2e/escaped.txt{q}", body=b"x")
    assert status == 400 and b'"invalid_path"' in body, (status, body)
    assert Files(sibling).get("secret.txt").content == b"not yours"
    assert f.get("sub/ok.txt").content == b"fine"
    assert not os.path.exists(os.path.join(server.data_dir, "workspaces", "escaped.txt"))
    assert not os.path.exists(os.path.join(server.data_dir, "escaped.txt"))
    # The root itself cannot be written or deleted.
    for method in ("PUT", "DELETE"):
        for t in (f"/.{q}", f"/./{q}"):
            status, _, body = f.raw(method, t, body=b"x" if method == "PUT" else None)
            assert status == 400 and b'"invalid_path"' in body, (method, t, status, body)
    assert f.get("sub/ok.txt").content == b"fine"


@pytest.mark.parametrize("runtime", ["local"])
@pytest.mark.parametrize("target", ["sub/..", "sub/deeper/%2e%2e/%2e%2e"])
def test_delete_with_dotdot_inside_the_workspace_is_rejected_and_deletes_nothing(sandbox_server, mock_llm,
                                                                                 runtime, target):
    """Seed §2.5: a `..` segment is 400 invalid_path, even when it stays inside the workspace.
    Above all it must never delete what the path did not name."""
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    for rel in ("keep/important.txt", "sub/deeper/ok.txt", "top.txt"):
        assert f.put(rel, b"x").status_code == 200
    status, _, body = f.raw("DELETE", f"/{target}{f.q()}")
    assert status == 400 and b'"invalid_path"' in body, (target, status, body)
    assert [e["name"] for e in f.list().json()["entries"]] == ["keep", "sub", "top.txt"]
    assert f.get("keep/important.txt").status_code == 200
    assert f.get("sub/deeper/ok.txt").status_code == 200


@pytest.mark.parametrize("runtime", ["local"])
def test_delete_with_a_trailing_dot_segment_touches_only_that_directory(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    for rel in ("keep/important.txt", "sub/ok.txt"):
        assert f.put(rel, b"x").status_code == 200
    status, _, body = f.raw("DELETE", f"/sub/.{f.q()}")
    assert status in (200, 400), (status, body)  # deleting "sub" or refusing are both fine; 500 is not
    if status == 200:
        assert [e["name"] for e in f.list().json()["entries"]] == ["keep"]
    else:
        assert f.get("sub/ok.txt").status_code == 200
    assert f.get("keep/important.txt").status_code == 200


@pytest.mark.parametrize("runtime", ["local"])
def test_symlink_escapes_are_rejected(sandbox_server, mock_llm, runtime, victim):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    sibling = new_session(server, mock_llm, agent=s.agent)
    Files(sibling).put("secret.txt", b"not yours")
    victim_dir = os.path.dirname(victim)
    (setup,) = run_tools(s, call("bash", command=(
        f"ln -s /etc/passwd pw && ln -s / rootlink && ln -s .. up && ln -s {victim} v && "
        f"ln -s {victim_dir} vd && ln -s ../{sibling.id}/secret.txt sib && echo ok")))
    assert setup["is_error"] is False, setup
    f = Files(s)
    for rel in ("pw", "rootlink/etc/passwd", f"up/{sibling.id}/secret.txt", "sib", "v", "vd/victim.txt",
                "rootlink" + victim):
        r = f.get(rel)
        assert r.status_code in (400, 404), (rel, r.status_code, r.content[:200])
        assert not any(m in r.content for m in OUTSIDE_MARKERS + (b"untouched",)), rel
    for path in ("rootlink", "rootlink/etc", "up", f"up/{sibling.id}", "vd"):
        r = f.list(path)
        assert r.status_code in (400, 404), (path, r.status_code, r.text[:200])
        assert "victim.txt" not in r.text and "passwd" not in r.text
    # Writes and deletes only aim at the victim and the sibling (never at /etc).
    for rel in ("v", "vd/victim.txt", "vd/planted.txt", "rootlink" + victim, f"up/{sibling.id}/secret.txt",
                f"up/{sibling.id}/planted.txt", "sib"):
        r = f.put(rel, b"overwritten")
        assert r.status_code in (400, 404), ("PUT", rel, r.status_code, r.text)
    for rel in ("vd/victim.txt", "rootlink" + victim, f"up/{sibling.id}/secret.txt"):
        r = f.delete(rel)
        assert r.status_code in (400, 404), ("DELETE", rel, r.status_code, r.text)
    assert_untouched(victim)
    assert Files(sibling).get("secret.txt").content == b"not yours"
    assert [e["name"] for e in Files(sibling).list().json()["entries"]] == ["secret.txt"]
    # Deleting a link itself is fine and leaves its target alone.
    r = f.delete("v")
    assert r.status_code == 200, r.text
    assert_untouched(victim)
    names = [e["name"] for e in f.list().json()["entries"]]
    assert "v" not in names and "pw" in names


@pytest.mark.parametrize("runtime", ["local"])
def test_nul_bytes_in_paths_are_rejected(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    assert f.put("sub/ok.txt", b"fine").status_code == 200
    q = f.q()
    for method, target in (("GET", f"/sub/ok.txt%00{q}"), ("GET", f"/sub%00/ok.txt{q}"),
                           ("PUT", f"/sub/new%00.txt{q}"), ("DELETE", f"/sub/ok.txt%00{q}"),
                           ("GET", f"{q}&path=sub%00"), ("GET", f"{q}&path=%00")):
        status, _, body = f.raw(method, target, body=b"x" if method == "PUT" else None)
        assert status == 400, (method, target, status, body[:300])
    assert [e["name"] for e in f.list("sub").json()["entries"]] == ["ok.txt"]
    status, _, body = server.raw("GET", files_path(f.agent_id) + "?session_id=ses_%00aaaaaaaaaaa")
    assert status in (400, 404), (status, body)


# --- audit -------------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", ["local"])
def test_writes_and_deletes_are_audited(sandbox_server, mock_llm, runtime):
    server = sandbox_server()
    s = new_session(server, mock_llm)
    f = Files(s)
    r = f.put("docs/a.txt", b"a")
    assert r.status_code == 200
    req_put = r.headers["x-request-id"]
    r = f.delete("docs/a.txt")
    assert r.status_code == 200
    req_delete = r.headers["x-request-id"]
    bad = f.raw("PUT", f"/sub/%2e%2e/%2e%2e/x.txt{f.q()}", body=b"x")
    assert bad[0] == 400

    writes = server.audit(action="agent.file.write")
    ok_write = next(e for e in writes if e["request_id"] == req_put)
    assert ok_write["outcome"] == "ok" and ok_write["target"] == f.agent_id
    assert ok_write["metadata"]["session_id"] == s.id
    assert ok_write["metadata"]["path"] == "docs/a.txt"
    assert any(e["outcome"] == "invalid_path" for e in writes), writes
    deletes = server.audit(action="agent.file.delete")
    assert len(deletes) == 1
    d = deletes[0]
    assert d["request_id"] == req_delete and d["outcome"] == "ok" and d["target"] == f.agent_id
    assert d["metadata"]["session_id"] == s.id and d["metadata"]["path"] == "docs/a.txt"
    # Reads are not audited.
    f.get("docs/a.txt")
    f.list()
    assert {e["action"] for e in server.audit(action="agent.file.%")} == {"agent.file.write", "agent.file.delete"}
