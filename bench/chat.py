#!/usr/bin/python3
"""Chat-completions benchmark (issue 5): time to the first streamed chunk of
`POST /v1/chat/completions` (`"stream": true`) and streaming throughput on one connection.

    bench/chat.py build/release/pincer            # default sizes
    bench/chat.py build/release/pincer --quick    # small sizes, < 60 s

The server's agent (model `openai/mock-model`) calls `pincer-mock-llm` at 0 ms delay. The client
is a raw socket (no SDK): it connects, then sends the request (`Connection: close`), and reads
the response with kernel receive timestamps (SO_TIMESTAMPNS), so its own speed does not count.

ttfc          --samples requests (after --warmup), one at a time, each on a new connection,
              ephemeral sessions (no session key: the server creates and deletes a session per
              request); the mock answers a short text in --ttfc-chunk-size code-point deltas.
              Measured from the request's send to: the first `data:` chunk (the
              `{"role":"assistant"}` chunk, sent when the turn starts), the first content chunk
              (the model's first token), `data: [DONE]`. Also with a sticky session key
              (`user`), rotated every 20 requests.
throughput    One request whose reply is --chars characters streamed by the mock in deltas of
              --chunk-size (1) code points. chunks/s = content chunks received in the reads after
              the first content read / (arrival of the last − arrival of that first read), plus
              the whole stream's rate from the request's send (incl. the start), the
              number of chunks vs the mock's deltas, and the CPU of the server, the mock and the
              client during the stream.

The JSON document goes to bench/results/chat-<UTC>.json (its path is printed last).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

log = bl.logger("chat")
MODEL = "openai/mock-model"
CONTENT_PAT = b'"delta":{"content":"'
DONE_PAT = b"data: [DONE]"
GOAL_TTFC_P50_MS = 5.0
GOAL_CHUNKS_PER_S = 20_000


def chat_request(agent_id, stream=True, user=None, text="Say something."):
    body = {"model": "ignored", "messages": [{"role": "user", "content": text}], "stream": stream}
    if user:
        body["user"] = user
    data = json.dumps(body).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"x-pincer-agent-id: {agent_id}\r\nAccept: text/event-stream\r\nConnection: close\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    return head + data


def stream_once(port, request, keep_data=False, timeout=300.0):
    """Sends `request` on a fresh connection (connected before the clock starts) and reads the
    response to EOF. Returns the times (µs) of the first data chunk, the first content chunk
    and [DONE] (kernel receive stamps), the status and, with keep_data, every (stamp, bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    bl.enable_rx_timestamps(s)
    reads = []
    t_first = t_content = t_done = None
    head_done = False
    buf = b""
    status = None
    t0 = bl.now_us()
    s.sendall(request)
    try:
        while True:
            data, stamp = bl.recv_stamped(s, 1 << 20)
            if not data:
                break
            if keep_data:
                reads.append((stamp, data))
            if t_done is not None and not keep_data:
                continue
            scan = buf + data
            if not head_done:
                i = scan.find(b"\r\n\r\n")
                if i < 0:
                    buf = scan
                    continue
                status = int(scan.split(b" ", 2)[1])
                head_done = True
                scan = scan[i + 4:]
            if t_first is None and b"data: " in scan:
                t_first = stamp
            if t_content is None and CONTENT_PAT in scan:
                t_content = stamp
            if t_done is None and DONE_PAT in scan:
                t_done = stamp
            buf = scan[-32:]
    finally:
        s.close()
    return {"t0": t0, "status": status, "first": t_first, "content": t_content, "done": t_done,
            "reads": reads}


def ttfc_run(p, agent_id, n, warmup, sticky):
    first, content, done, bad = [], [], [], 0
    for i in range(n + warmup):
        user = f"bench-sticky-{i // 20}" if sticky else None
        r = stream_once(p.port, chat_request(agent_id, user=user))
        if r["status"] != 200 or r["first"] is None or r["content"] is None or r["done"] is None:
            bad += 1
            if bad <= 3:
                log(f"request {i}: status {r['status']} first {r['first']} content {r['content']}")
            continue
        if i < warmup:
            continue
        first.append(r["first"] - r["t0"])
        content.append(r["content"] - r["t0"])
        done.append(r["done"] - r["t0"])
    return {
        "samples": len(first),
        "errors": bad,
        "first_chunk_ms": bl.pct(first, 0.001),
        "first_content_chunk_ms": bl.pct(content, 0.001),
        "done_ms": bl.pct(done, 0.001),
    }


def throughput_run(p, mock, agent_id, chars, chunk_size):
    text = ("abcdefghij" * (chars // 10 + 1))[:chars]
    mock.config(auto={"tool_steps": 0, "text": text, "chunk_size": chunk_size, "delay_ms": 0})
    meter = bl.CpuMeter({"server": p.pid, "mock": mock.proc.pid}).start()
    r = stream_once(p.port, chat_request(agent_id), keep_data=True)
    cpu = meter.stop()
    if r["status"] != 200:
        raise RuntimeError(f"throughput request: HTTP {r['status']}")
    # After the clock: de-chunk, split into SSE frames, and give each frame the stamp of the read
    # that completed it.
    frames = []  # (read index, stamp, payload)
    raw = b""
    body = b""
    head_done = False
    pending = b""
    for k, (stamp, data) in enumerate(r["reads"]):
        raw += data
        if not head_done:
            i = raw.find(b"\r\n\r\n")
            if i < 0:
                continue
            raw = raw[i + 4:]
            head_done = True
        while True:  # chunked transfer coding
            j = raw.find(b"\r\n")
            if j < 0:
                break
            size = int(raw[:j].split(b";")[0], 16)
            if len(raw) < j + 2 + size + 2:
                break
            body += raw[j + 2:j + 2 + size]
            raw = raw[j + 2 + size + 2:]
            if size == 0:
                break
        pending += body
        body = b""
        parts = pending.split(b"\n\n")
        pending = parts.pop()
        for f in parts:
            frames.append((k, stamp, f))
    content_frames, got_text, done = [], [], False  # content_frames: (read index, stamp)
    for k, stamp, f in frames:
        if not f.startswith(b"data: "):
            continue
        payload = f[6:]
        if payload == b"[DONE]":
            done = True
            continue
        j = json.loads(payload)
        if j.get("choices") and "content" in j["choices"][0].get("delta", {}):
            c = j["choices"][0]["delta"]["content"]
            if c:
                content_frames.append((k, stamp))
                got_text.append(c)
    n = len(content_frames)
    # A read's stamp is when its newest segment arrived, so the chunks of the first content
    # read may have arrived earlier than its stamp: count only the chunks of later reads, over
    # the time from that stamp to the last one (conservative).
    span = after = None
    if n > 1:
        k0, s0 = content_frames[0]
        after = sum(1 for k, _ in content_frames if k > k0)
        span = (content_frames[-1][1] - s0) / 1e6
    total = (content_frames[-1][1] - r["t0"]) / 1e6 if n else None
    full = "".join(got_text)
    return {
        "chars": chars,
        "mock_chunk_size": chunk_size,
        "mock_deltas": -(-chars // chunk_size),
        "content_chunks_received": n,
        "text_matches": full == text,
        "done_seen": done,
        "bytes_received": sum(len(d) for _, d in r["reads"]),
        "reads": len(r["reads"]),
        "first_content_chunk_ms": round((content_frames[0][1] - r["t0"]) / 1000, 3) if n else None,
        "stream_seconds": round(span, 4) if span else None,
        "chunks_counted": after,
        "chunks_per_sec": round(after / span, 1) if span else None,
        "chunks_per_sec_incl_start": round(n / total, 1) if total else None,
        "cpu": cpu,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pincer", nargs="?", default=os.path.join(bl.REPO, "build", "release", "pincer"))
    ap.add_argument("--quick", action="store_true", help="small sizes (< 60 s)")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--ttfc-chunk-size", type=int, default=8)
    ap.add_argument("--chars", type=int, default=300_000, help="reply length for the throughput run")
    ap.add_argument("--chunk-size", type=int, default=1, help="code points per mock delta (1)")
    ap.add_argument("--throughput-runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--mock-threads", type=int, default=1)
    ap.add_argument("--results-dir", default=bl.RESULTS_DIR)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.samples, args.warmup, args.chars, args.throughput_runs = 100, 5, 30_000, 1
    args.pincer = os.path.abspath(args.pincer)
    started = bl.utc_now()
    settings = {k: v for k, v in vars(args).items() if k != "results_dir"}
    settings["command"] = " ".join(["bench/chat.py"] + sys.argv[1:])
    doc = bl.document("chat", args.pincer, settings, started)
    if doc["load_average_before"][0] > 0.5:
        log(f"note: load average {doc['load_average_before']} before the run; results will be noisy")
    mock = bl.start_mock(args.pincer, threads=args.mock_threads)
    env = bl.llm_env(mock)
    env["PINCER_THREADS"] = args.threads
    p = bl.Pincer(args.pincer, env=env, log_level="warn", name="chat").start()
    try:
        agent = p.create_agent(model=MODEL, instructions="Chat benchmark agent. [mock:chat]", tools=["test_echo"])
        aid = agent["agent_id"]
        reply = "Hello from the mock model; this is a short streamed answer."
        mock.config(auto={"tool_steps": 0, "text": reply, "chunk_size": args.ttfc_chunk_size, "delay_ms": 0})
        log(f"ttfc: {args.samples} streamed requests, ephemeral sessions")
        meter = bl.CpuMeter({"server": p.pid, "mock": mock.proc.pid}).start()
        eph = ttfc_run(p, aid, args.samples, args.warmup, sticky=False)
        eph["cpu"] = meter.stop()
        log(f"ttfc ephemeral: first chunk p50 {eph['first_chunk_ms'].get('p50')} ms, first content chunk "
            f"p50 {eph['first_content_chunk_ms'].get('p50')} ms p99 {eph['first_content_chunk_ms'].get('p99')} ms")
        sticky = ttfc_run(p, aid, max(20, args.samples // 2), args.warmup, sticky=True)
        log(f"ttfc sticky: first content chunk p50 {sticky['first_content_chunk_ms'].get('p50')} ms")
        runs = []
        for i in range(args.throughput_runs):
            t = throughput_run(p, mock, aid, args.chars, args.chunk_size)
            runs.append(t)
            log(f"throughput #{i}: {t['content_chunks_received']} chunks ({t['mock_deltas']} mock deltas) in "
                f"{t['stream_seconds']} s = {t['chunks_per_sec']} chunks/s, text ok {t['text_matches']}, "
                f"CPU server {t['cpu'].get('server_cpu_s')} s mock {t['cpu'].get('mock_cpu_s')} s "
                f"client {t['cpu'].get('client_cpu_s')} s")
        doc["ttfc"] = {"reply": {"chars": len(reply), "chunk_size": args.ttfc_chunk_size},
                       "ephemeral": eph, "sticky": sticky}
        doc["throughput"] = {"runs": runs,
                             "chunks_per_sec_median": bl.median([r["chunks_per_sec"] for r in runs])}
        doc["server_rss_end_kib"] = p.rss_kib()
        doc["server_rss_hwm_kib"] = p.hwm_kib()
    finally:
        p.stop()
        p.cleanup()
        mock.stop()
    v = doc["ttfc"]["ephemeral"]["first_chunk_ms"].get("p50")
    v2 = doc["ttfc"]["ephemeral"]["first_content_chunk_ms"].get("p50")
    tp = doc["throughput"]["chunks_per_sec_median"]
    ok_text = all(r["text_matches"] for r in doc["throughput"]["runs"])
    doc["goals"] = [
        bl.goal("time to first streamed chunk p50 < 5 ms (the role chunk)", GOAL_TTFC_P50_MS, v,
                v is not None and v < GOAL_TTFC_P50_MS, "ms"),
        bl.goal("time to first streamed content chunk (first token) p50 < 5 ms", GOAL_TTFC_P50_MS, v2,
                v2 is not None and v2 < GOAL_TTFC_P50_MS, "ms"),
        bl.goal("streaming throughput > 20,000 chunks/s on one connection", GOAL_CHUNKS_PER_S, tp,
                tp is not None and ok_text and tp > GOAL_CHUNKS_PER_S, "chunks/s"),
    ]
    return bl.conclude(doc, "chat", started, args, log)


if __name__ == "__main__":
    sys.exit(main())
