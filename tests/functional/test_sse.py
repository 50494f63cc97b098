"""GET /v1/sessions/:id/events?stream=true — Server-Sent Events (seed contract §3.3, issue 3):
the initial status frame, catch-up then live tail, framing, resume by Last-Event-ID / ?after=
(seq or event id), heartbeats, idle close, token deltas, fan-out, slow subscribers, and no leak
when clients vanish mid-stream. Every read has a deadline."""

from __future__ import annotations

import json
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import AgentSession, SseClient, assert_dense, metric_value, poll

FORMATS = {"openai": "openai/mock-model", "anthropic": "anthropic/claude-mock"}


def is_idle_event(f) -> bool:
    return f.event == "session.status_idle" and f.id is not None


def persisted(frames) -> list:
    return [f for f in frames if f.id is not None]


def finished_session(server, mock_llm, **kw) -> AgentSession:
    s = AgentSession.create(server, mock_llm, steps=[
        {"text": "calling", "tool_calls": [{"name": "test_echo", "arguments": {"text": "e1"}}]},
        {"text": "first done"},
    ], **kw)
    s.run("first")
    return s


def test_unknown_session_stream_is_404(llm_server):
    server = llm_server()
    with SseClient(server, "/v1/sessions/ses_nope/events?stream=true") as c:
        assert c.status == 404
        assert json.loads(c.body_text())["error"] == "session_not_found"


def test_first_frame_is_the_status_without_id(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    with s.stream() as c:
        assert c.status == 200
        assert c.headers["content-type"].startswith("text/event-stream")
        assert c.headers.get("cache-control") == "no-cache"
        f = c.next_frame(5)
        assert f.event == "session.status_idle"
        assert f.id is None
        assert f.names == ["event", "data"]
        data = f.json
        assert data["session_id"] == s.id
        assert data["type"] == "session.status_idle"
        assert data["status"] == "idle"


def test_first_frame_reflects_a_running_session(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"hang": True}])
    s.send("hang")
    s.wait(("running",))
    with s.stream() as c:
        f = c.next_frame(5)
        assert f.event == "session.status_running" and f.id is None
    server.post(s.path + "/cancel")


def test_catch_up_then_live_tail(llm_server, mock_llm):
    server = llm_server()
    s = finished_session(server, mock_llm)
    history = s.events()
    n = len(history)
    with s.stream() as c:
        status = c.next_frame(5)
        assert status.event == "session.status_idle"
        caught = c.frames_until(lambda f: f.id == str(n), timeout=5)
        assert [int(f.id) for f in caught] == list(range(1, n + 1))
        for f, e in zip(caught, history):
            assert f.names == ["event", "data", "id"], f.fields
            assert f.event == e["type"]
            assert f.json == e

        # Live: a new turn streams in as it happens.
        s.script([{"text": "live answer"}])
        s.send("second")
        live = c.frames_until(is_idle_event, timeout=10)
    types = [f.event for f in live]
    assert "session.status_starting" in types
    assert types.index("user.message") < types.index("agent.message")
    assert types[-1] == "session.status_idle"
    ids = [int(f.id) for f in persisted(live)]
    assert ids == list(range(n + 1, n + 1 + len(ids)))
    assert [f.json for f in persisted(live)] == s.events()[n:]
    msg = next(f for f in live if f.event == "agent.message")
    assert msg.json["content"] == "live answer"
    for f in live:
        if f.id is None:
            assert f.names == ["event", "data"], f.fields
        else:
            assert f.names == ["event", "data", "id"], f.fields


def test_live_status_frames_follow_the_turn(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "ok"}])
    with s.stream() as c:
        c.next_frame(5)
        s.send("go")
        frames = c.frames_until(is_idle_event, timeout=10)
    statuses = [f.event for f in frames if f.event.startswith("session.status_")]
    assert statuses == ["session.status_starting", "session.status_running",
                        "session.status_idle"], statuses
    for f in frames:
        if f.event.startswith("session.status_"):
            assert f.json["status"] == f.event[len("session.status_"):]


def test_failed_status_frame_carries_the_error(llm_server, mock_llm):
    server = llm_server(PINCER_LLM_MAX_RETRIES="0")
    s = AgentSession.create(server, mock_llm, steps=[{"status": 401}])
    with s.stream() as c:
        c.next_frame(5)
        s.send("go")
        frames = c.frames_until(lambda f: f.event == "session.status_failed", timeout=10)
    err = frames[-1].json.get("error") or frames[-1].json.get("content")
    assert err and "OPENAI_API_KEY" in err, frames[-1]


@pytest.mark.parametrize("how", ["header", "query"])
def test_resume_after_a_seq(llm_server, mock_llm, how):
    server = llm_server()
    s = finished_session(server, mock_llm)
    history = s.events()
    n = len(history)
    k = 3
    headers = {"Last-Event-ID": str(k)} if how == "header" else None
    query = f"&after={k}" if how == "query" else ""
    with s.stream(query=query, headers=headers) as c:
        assert c.next_frame(5).event == "session.status_idle"
        caught = c.frames_until(lambda f: f.id == str(n), timeout=5)
    assert [int(f.id) for f in caught] == list(range(k + 1, n + 1))
    assert [f.json for f in caught] == history[k:]


def test_resume_with_an_event_id(llm_server, mock_llm):
    server = llm_server()
    s = finished_session(server, mock_llm)
    history = s.events()
    n = len(history)
    k = 4
    with s.stream(headers={"Last-Event-ID": history[k - 1]["event_id"]}) as c:
        c.next_frame(5)
        caught = c.frames_until(lambda f: f.id == str(n), timeout=5)
    assert [int(f.id) for f in caught] == list(range(k + 1, n + 1))
    with s.stream(query="&after=" + history[1]["event_id"]) as c:
        c.next_frame(5)
        caught = c.frames_until(lambda f: f.id == str(n), timeout=5)
    assert [int(f.id) for f in caught] == list(range(3, n + 1))


def test_last_event_id_header_wins_over_after(llm_server, mock_llm):
    server = llm_server()
    s = finished_session(server, mock_llm)
    n = len(s.events())
    with s.stream(query="&after=1", headers={"Last-Event-ID": "4"}) as c:
        c.next_frame(5)
        caught = c.frames_until(lambda f: f.id == str(n), timeout=5)
    assert [int(f.id) for f in caught] == list(range(5, n + 1))


def test_resume_at_the_end_then_live(llm_server, mock_llm):
    server = llm_server()
    s = finished_session(server, mock_llm)
    n = len(s.events())
    with s.stream(headers={"Last-Event-ID": str(n)}) as c:
        c.next_frame(5)
        s.script([{"text": "next"}])
        s.send("more")
        live = c.frames_until(is_idle_event, timeout=10)
    ids = [int(f.id) for f in persisted(live)]
    assert ids[0] == n + 1
    assert ids == list(range(n + 1, n + 1 + len(ids)))


def test_unknown_resume_id_replays_everything(llm_server, mock_llm):
    server = llm_server()
    s = finished_session(server, mock_llm)
    n = len(s.events())
    with s.stream(headers={"Last-Event-ID": "evt_notinthislog"}) as c:
        c.next_frame(5)
        caught = c.frames_until(lambda f: f.id == str(n), timeout=5)
    assert [int(f.id) for f in caught] == list(range(1, n + 1))


def test_resume_mid_turn_loses_and_repeats_nothing(llm_server, mock_llm):
    server = llm_server()
    steps = [{"tool_calls": [{"name": "test_echo", "arguments": {"text": f"t{i}"}}],
              "chunk_delay_ms": 20} for i in range(6)] + [{"text": "end"}]
    s = AgentSession.create(server, mock_llm, steps=steps)
    s.send("go")
    seen: list = []
    last = None
    # Reconnect several times while the turn runs, each time resuming from the last id seen.
    for _ in range(4):
        headers = {"Last-Event-ID": last} if last else None
        with s.stream(headers=headers) as c:
            c.next_frame(5)
            got = c.frames_until(lambda f: f.id is not None, timeout=10)
            seen += persisted(got)
            last = seen[-1].id
    with s.stream(headers={"Last-Event-ID": last}) as c:
        c.next_frame(5)
        seen += persisted(c.frames_until(is_idle_event, timeout=15))
    events = s.events()
    assert_dense(events)
    assert [int(f.id) for f in seen] == [e["seq"] for e in events]
    assert [f.json for f in seen] == events


def test_heartbeats(llm_server, mock_llm):
    server = llm_server(PINCER_SSE_HEARTBEAT_MS="100")
    s = AgentSession.create(server, mock_llm)
    with s.stream() as c:
        c.next_frame(5)
        beats = []
        deadline = time.monotonic() + 5
        while len(beats) < 4:
            f = c.next_frame(max(0.01, deadline - time.monotonic()))
            assert f is not None, "stream ended"
            assert f.event == "heartbeat", f
            beats.append(f)
    for f in beats:
        assert f.id is None
        assert f.names == ["event", "data"]
        assert isinstance(f.json["ts"], int)
    ts = [f.json["ts"] for f in beats]
    assert all(b - a >= 50 for a, b in zip(ts, ts[1:])), ts


def test_default_heartbeat_is_not_sent_early(llm_server, mock_llm):
    # Default interval is 15 s: a short read sees no heartbeat.
    server = llm_server(PINCER_SSE_IDLE_CLOSE_MS="400")
    s = AgentSession.create(server, mock_llm)
    with s.stream() as c:
        frames = c.read_to_end(timeout=5)
    assert [f.event for f in frames] == ["session.status_idle"]


def test_stream_closes_after_the_session_idles(llm_server, mock_llm):
    server = llm_server(PINCER_SSE_IDLE_CLOSE_MS="300")
    s = AgentSession.create(server, mock_llm)
    t0 = time.monotonic()
    with s.stream() as c:
        frames = c.read_to_end(timeout=5)
        took = time.monotonic() - t0
    assert frames[0].event == "session.status_idle"
    assert 0.25 <= took < 4, took


def test_stream_stays_open_while_running_then_closes(llm_server, mock_llm):
    server = llm_server(PINCER_SSE_IDLE_CLOSE_MS="300")
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 800}}]},
        {"text": "woke up"},
    ])
    s.send("sleep")
    s.wait_event(lambda e: e["type"] == "agent.tool_use")
    with s.stream() as c:
        frames = c.read_to_end(timeout=8)
        ended = time.monotonic()
    types = [f.event for f in frames]
    assert types[0] in ("session.status_running", "session.status_starting")
    assert "session.status_idle" in types, types
    idle = next(f for f in frames if f.event == "session.status_idle")
    assert ended - idle.received_at >= 0.2
    msg = next(f for f in frames if f.event == "agent.message")
    assert msg.json["content"] == "woke up"


@pytest.mark.parametrize("fmt", FORMATS)
def test_deltas_concatenate_to_the_final_message(llm_server, mock_llm, fmt):
    server = llm_server()
    text = "Héllo wörld — streaming ✓ in small pieces, 日本語 too."
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], thinkingLevel="low",
                            steps=[{"text": text, "thinking": "a little thought first",
                                    "chunk_size": 3}])
    with s.stream(query="&deltas=true") as c:
        c.next_frame(5)
        s.send("stream it")
        frames = c.frames_until(is_idle_event, timeout=10)
    deltas = [f for f in frames if f.event == "agent.message.delta"]
    assert len(deltas) > 3, [f.event for f in frames]
    for f in deltas:
        assert f.id is None
        assert f.json["session_id"] == s.id
        assert f.json["type"] == "agent.message.delta"
    assert "".join(f.json["delta"] for f in deltas) == text
    final = next(f for f in frames if f.event == "agent.message")
    assert final.json["content"] == text
    assert frames.index(deltas[-1]) < frames.index(final)
    thinking = [f for f in frames if f.event == "agent.thinking.delta"]
    assert "".join(f.json["delta"] for f in thinking) == "a little thought first"
    # Deltas are not persisted.
    assert not [e for e in s.events() if e["type"].endswith(".delta")]


def test_no_delta_frames_without_the_opt_in(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "no deltas for you",
                                                      "chunk_size": 2}])
    with s.stream() as plain, s.stream(query="&deltas=true") as rich:
        plain.next_frame(5)
        rich.next_frame(5)
        s.send("go")
        plain_frames = plain.frames_until(is_idle_event, timeout=10)
        rich_frames = rich.frames_until(is_idle_event, timeout=10)
    assert not [f for f in plain_frames if f.event.endswith(".delta")]
    assert [f for f in rich_frames if f.event == "agent.message.delta"]
    assert [f.json for f in persisted(plain_frames)] == [f.json for f in persisted(rich_frames)]


def test_two_subscribers_see_the_same_events(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "x"}}]}, {"text": "done"}])
    with s.stream() as a, s.stream() as b:
        a.next_frame(5)
        b.next_frame(5)
        s.send("go")
        fa = a.frames_until(is_idle_event, timeout=10)
        fb = b.frames_until(is_idle_event, timeout=10)
    assert [(f.event, f.id, f.data) for f in persisted(fa)] == \
        [(f.event, f.id, f.data) for f in persisted(fb)]
    assert [f.json for f in persisted(fa)] == s.events()


def _raw_stream(server, target: str) -> socket.socket:
    """A stream request on a socket with a tiny receive buffer, left unread by the caller."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def _read_until(sock: socket.socket, markers: tuple[bytes, ...], timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while not any(m in data for m in markers):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_slow_subscriber_is_dropped_without_blocking_anyone(llm_server, mock_llm):
    server = llm_server()
    # Twenty queued turns of ~450 kB answers, streamed with deltas: ~18 MB for a subscriber
    # that asked for deltas, far more than its kernel buffers and its 8 MiB queue hold (while
    # each event stays well under 1 MiB, so a reader that keeps up is never behind).
    turns = 20
    text = "z" * 450_000
    s = AgentSession.create(server, mock_llm, steps=[{"text": f"{i}{text}", "chunk_size": 30_000}
                                                     for i in range(turns)])
    slow = _raw_stream(server, s.path + "/events?stream=true&deltas=true")
    try:
        poll(lambda: metric_value(server.metrics(), "sse_subscribers") == 1,
             message="the slow subscriber")
        with s.stream() as fast:
            fast.next_frame(5)
            s.send("turn 0")
            for i in range(1, turns):
                assert s.send(f"turn {i}")["queued"] is True
            # The turns finish and the fast subscriber gets every event while the slow one
            # reads nothing.
            frames = fast.frames_until(is_idle_event, timeout=30)
            assert s.get()["status"] == "idle"
            assert [f.json for f in persisted(frames)] == s.events()
        # It gets a clear error frame, then the end of the stream.
        data = _read_until(slow, (b"\r\n0\r\n\r\n",), timeout=10)
        assert b"event: error" in data and b"slow_consumer" in data, data[-300:]
        assert data.endswith(b"\r\n0\r\n\r\n"), data[-300:]
    finally:
        slow.close()
    poll(lambda: metric_value(server.metrics(), "sse_subscribers") == 0, timeout=5,
         message="subscribers to go away")


def test_subscriber_that_keeps_up_gets_a_large_event(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"text": "short"}])
    content = "a" * 1_048_500  # fits the default 1 MiB body limit and the content limit
    with s.stream() as c:
        c.next_frame(5)
        r = s.post(content)
        assert r.status_code == 200, r.text[:200]
        frames = c.frames_until(lambda f: f.event in ("user.message", "error"), timeout=10)
    assert frames[-1].event == "user.message", \
        f"a subscriber that reads promptly was cut off: {frames[-1]}"
    assert frames[-1].json["content"] == content


def _churn_one(port: int, target: str, i: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        mode = i % 4
        if mode == 1:
            sock.recv(100)  # mid response head / first frame
        elif mode >= 2:
            want = 3000 if mode == 2 else 40000  # mid catch-up
            got = 0
            while got < want:
                chunk = sock.recv(min(65536, want - got))
                if not chunk:
                    break
                got += len(chunk)
        if mode == 3:  # abortive close (RST)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()


def test_clients_vanishing_mid_stream_leak_nothing(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": f"{i}-" + "y" * 2000}}
                        for i in range(40)]},
        {"text": "done"},
    ])
    s.run("make a long log")
    target = s.path + "/events?stream=true"

    def sample():
        m = server.metrics()
        return (metric_value(m, "sse_subscribers"), metric_value(m, "process_open_fds"),
                metric_value(m, "process_resident_memory_bytes"))

    with ThreadPoolExecutor(8) as pool:  # warm-up
        list(pool.map(lambda i: _churn_one(server.port, target, i), range(80)))
    poll(lambda: sample()[0] == 0, timeout=10, message="warm-up subscribers to go away")
    _, fds0, rss0 = sample()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: _churn_one(server.port, target, i), range(1000)))

    poll(lambda: sample()[0] == 0, timeout=15, message="sse_subscribers back to 0")
    poll(lambda: sample()[1] <= fds0 + 2, timeout=15,
         message=f"open fds back to the baseline {fds0}")
    _, fds1, rss1 = sample()
    assert rss1 - rss0 < 32 * 1024 * 1024, f"RSS grew by {(rss1 - rss0) / 1e6:.1f} MB"
    # Still serving streams.
    with s.stream() as c:
        assert c.next_frame(5).event == "session.status_idle"
        n = len(s.events())
        assert len(c.frames_until(lambda f: f.id == str(n), timeout=5)) == n


def test_stream_closes_after_idle_when_the_catch_up_spans_the_end_of_a_turn(llm_server, mock_llm):
    server = llm_server(PINCER_SSE_IDLE_CLOSE_MS="300")
    # A log of 500+ events (~5 MB), so the catch-up takes more than one page and its writes
    # block while the client is not reading.
    calls = [{"name": "test_echo", "arguments": {"text": f"{i}-" + "q" * 10_000}}
             for i in range(260)]
    s = AgentSession.create(server, mock_llm, steps=[{"tool_calls": calls, "chunk_size": 100_000},
                                                     {"text": "built"}])
    s.run("build a long log", timeout=20)
    assert len(s.events()) > 500
    s.script([{"text": "quick turn", "delay_ms": 300}])
    s.send("one more")
    # Connect while the turn runs, and read nothing until it has ended.
    with s.stream(rcvbuf=4096) as c:
        s.wait(timeout=10)
        frames = c.read_to_end(timeout=4)  # idle close is 300 ms
    events = s.events()
    assert [f.json for f in persisted(frames)] == events
    assert frames[-1].event == "session.status_idle"


def test_resume_from_a_seq_beyond_the_log_replays_everything_and_follows_live(llm_server, mock_llm):
    server = llm_server()
    s = finished_session(server, mock_llm)
    n = len(s.events())
    with s.stream(headers={"Last-Event-ID": "9999"}) as c:
        c.next_frame(5)
        s.script([{"text": "live after a bogus resume id"}])
        s.send("second")
        # The replay contains the first turn's idle event too: wait for the new one.
        frames = c.frames_until(lambda f: is_idle_event(f) and int(f.id) > n, timeout=3)
    events = s.events()
    assert len(events) > n
    # The id is not in this session's log, so the seed rule applies: replay everything; and
    # in any case the live events must not be swallowed.
    assert [f.json for f in persisted(frames)] == events


def test_deltas_of_a_failed_attempt_are_not_mixed_into_the_answer(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[
        {"text": "discarded partial attempt", "chunk_size": 4, "fail_after_chunks": 4},
        {"text": "the real answer", "chunk_size": 4},
    ])
    with s.stream(query="&deltas=true") as c:
        c.next_frame(5)
        s.send("go")
        frames = c.frames_until(is_idle_event, timeout=10)
    final = next(f for f in frames if f.event == "agent.message").json["content"]
    assert final == "the real answer"
    deltas = [f for f in frames if f.event == "agent.message.delta"]
    text = "".join(f.json["delta"] for f in deltas)
    if text != final:
        # Acceptable only if the stream tells the client to drop what it showed so far.
        first_real = next(i for i, f in enumerate(frames)
                          if f.event == "agent.message.delta" and f.json["delta"] == "the ")
        markers = [f for f in frames[:first_real]
                   if f.event not in ("agent.message.delta",) and
                   any(w in f.event for w in ("reset", "retry", "discard", "abort"))]
        assert markers, (f"a delta client shows {text!r} although the answer is {final!r}, "
                         "with no frame telling it to discard the failed attempt's text")


def test_catch_up_of_a_long_log_is_complete_and_ordered(llm_server, mock_llm):
    server = llm_server()
    steps = [{"tool_calls": [{"name": "test_echo", "arguments": {"text": f"e{k}-{i}"}}
                             for i in range(200)], "chunk_size": 100_000} for k in range(3)]
    s = AgentSession.create(server, mock_llm, steps=steps + [{"text": "done"}])
    s.run("many tools", timeout=20)
    events = s.events()
    assert len(events) > 1200
    with s.stream() as c:
        c.next_frame(5)
        caught = c.frames_until(lambda f: f.id == str(len(events)), timeout=10)
    assert [f.json for f in caught] == events


def test_graceful_shutdown_ends_open_streams(llm_server, mock_llm):
    import signal
    server = llm_server()
    s = AgentSession.create(server, mock_llm)
    with s.stream() as c:
        c.next_frame(5)
        t0 = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0
        assert time.monotonic() - t0 < 5
        c.read_to_end(timeout=5)


def test_deleting_the_session_ends_its_streams(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[{"hang": True}])
    s.send("hang")
    with s.stream() as c:
        c.next_frame(5)
        c.frames_until(lambda f: f.event == "session.status_running", timeout=5)
        assert server.delete(s.path).status_code == 200
        rest = c.read_to_end(timeout=5)
    assert rest and rest[-1].event == "session.status_deleted", rest
    assert rest[-1].id is None
    poll(lambda: metric_value(server.metrics(), "sse_subscribers") == 0, timeout=5,
         message="the subscriber to go away")
