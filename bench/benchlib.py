"""Shared helpers for the agent-loop, sandbox and chat benchmarks (bench/agent_loop.py,
bench/sandbox.py, bench/chat.py).

Standard library only (Debian's /usr/bin/python3). It provides:

- `Pincer`: a `pincer serve` child with a temporary data dir, wired to the mock LLM, its logs in
  a file, and a keep-alive JSON client (`call`);
- `start_mock`: `pincer-mock-llm` through tests/functional/mock_llm_client.py;
- `/proc` readings: RSS, CPU time, whole-machine CPU (`CpuMeter`: CPU of the processes under
  test and of everything else during a measurement), load average;
- `SseReader`: one SSE stream on a raw socket, frames timestamped as they arrive;
  `StampedSseReader` / `recv_stamped`: the same with the kernel's receive timestamps
  (SO_TIMESTAMPNS), so a busy client does not inflate the latencies it measures;
- `pct`: percentile summaries; `document` / `save`: the JSON envelope every benchmark writes
  (machine, load average, binary version, git state) into bench/results/.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS_DIR = os.path.join(HERE, "results")
sys.path.insert(0, os.path.join(REPO, "tests", "functional"))
sys.path.insert(0, HERE)

import http_load  # noqa: E402  (proc helpers and machine_info)
from mock_llm_client import MockLLM  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

proc_status_kib = http_load.proc_status_kib
proc_cpu_seconds = http_load.proc_cpu_seconds
system_cpu_seconds = http_load.system_cpu_seconds
listening_ports = http_load.listening_ports


def logger(name):
    def log(msg):
        print(f"{name}: {msg}", file=sys.stderr, flush=True)

    return log


def now_us():
    """Wall clock (CLOCK_REALTIME) µs, comparable with the mock's received_at_us/done_at_us."""
    return time.time_ns() // 1000


def raise_nofile(want=None):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if want is None else min(hard, max(soft, want))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --- statistics ----------------------------------------------------------------------------


def percentile(sorted_values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def pct(values, scale=1.0, digits=3):
    """{n, p50, p90, p99, max, min, mean} of `values` multiplied by `scale`."""
    v = sorted(x * scale for x in values if x is not None)
    if not v:
        return {"n": 0}
    r = lambda x: round(x, digits)  # noqa: E731
    return {
        "n": len(v),
        "p50": r(percentile(v, 50)),
        "p90": r(percentile(v, 90)),
        "p99": r(percentile(v, 99)),
        "max": r(v[-1]),
        "min": r(v[0]),
        "mean": r(sum(v) / len(v)),
    }


def median(values):
    v = sorted(x for x in values if x is not None)
    return percentile(v, 50) if v else None


# --- /proc ---------------------------------------------------------------------------------


def rss_kib(pid):
    return proc_status_kib(pid, "VmRSS")


def pss_kib(pid):
    """Proportional set size (shared pages split between the processes mapping them)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_s(pid):
    try:
        return proc_cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


def thread_cpu_s(pid):
    """{thread name: utime+stime seconds} of a process, summed over threads of the same name."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def thread_cpu_delta(before, after):
    return {k: round(v - before.get(k, 0.0), 2) for k, v in sorted(after.items(), key=lambda kv: -kv[1])
            if v - before.get(k, 0.0) > 0.005}


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


class CpuMeter:
    """CPU seconds of named processes and of everything else between start() and stop().

    `pids` is {name: pid}; `extra` is {name: callable() -> cpu seconds} for process groups
    (e.g. every sandbox). `other_cpu_s` is the machine's busy CPU minus all of those and minus
    this Python process (the load generator, reported as `client_cpu_s`).
    """

    def __init__(self, pids=None, extra=None):
        self.pids = dict(pids or {})
        self.extra = dict(extra or {})

    def _snap(self):
        busy, steal = system_cpu_seconds()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        ruc = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "t": time.monotonic(),
            "busy": busy,
            "steal": steal,
            "client": ru.ru_utime + ru.ru_stime,
            "children_reaped": ruc.ru_utime + ruc.ru_stime,
            "procs": {k: cpu_s(p) for k, p in self.pids.items()},
            "extra": {k: f() for k, f in self.extra.items()},
        }

    def start(self):
        self.a = self._snap()
        self.load_before = load_average()
        return self

    def stop(self, client_extra_s=0.0):
        b = self._snap()
        a = self.a
        wall = b["t"] - a["t"]
        out = {"wall_s": round(wall, 3), "load_average_before": self.load_before,
               "load_average_after": load_average()}
        accounted = 0.0
        for k in self.pids:
            if a["procs"][k] is not None and b["procs"][k] is not None:
                d = b["procs"][k] - a["procs"][k]
                out[f"{k}_cpu_s"] = round(d, 2)
                out[f"{k}_cpu_cores"] = round(d / wall, 3) if wall > 0 else None
                accounted += d
        for k in self.extra:
            d = (b["extra"][k] or 0.0) - (a["extra"][k] or 0.0)
            out[f"{k}_cpu_s"] = round(d, 2)
            accounted += d
        client = b["client"] - a["client"] + client_extra_s
        out["client_cpu_s"] = round(client, 2)
        accounted += client
        busy = b["busy"] - a["busy"]
        out["machine_busy_cpu_s"] = round(busy, 2)
        out["other_cpu_s"] = round(max(0.0, busy - accounted), 2)
        out["other_cpu_cores"] = round(max(0.0, busy - accounted) / wall, 2) if wall > 0 else None
        out["steal_cpu_s"] = round(b["steal"] - a["steal"], 2)
        ncpu = len(os.sched_getaffinity(0))
        # Noise flag: other processes used more than 10% of the machine during the measurement.
        out["noisy"] = bool(wall > 0 and (busy - accounted) > 0.10 * wall * ncpu)
        return out


# Samples f() (KiB) in the background; finish() returns the maximum.
RssSampler = http_load.RssSampler


# --- the mock and the server ---------------------------------------------------------------


def start_mock(pincer_path, threads=1, extra_args=()):
    binary = os.path.join(os.path.dirname(os.path.abspath(pincer_path)), "pincer-mock-llm")
    return MockLLM(args=["--threads", str(threads), *extra_args], binary=binary)


def llm_env(mock):
    """As tests/functional/conftest.py llm_env: both wire formats to the mock, test tools on."""
    return {
        "OPENAI_BASE_URL": mock.openai_base_url,
        "OPENAI_API_KEY": "mock",
        "ANTHROPIC_BASE_URL": mock.anthropic_base_url,
        "ANTHROPIC_API_KEY": "mock",
        "PINCER_ENABLE_TEST_TOOLS": "1",
        "PINCER_LLM_RETRY_BASE_MS": "10",
    }


class HttpError(RuntimeError):
    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path}: HTTP {status}: {body[:500]!r}")
        self.status = status
        self.body = body


class Client:
    """A keep-alive JSON client on one connection (not thread-safe: one per thread)."""

    def __init__(self, port, timeout=60.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def call(self, method, path, body=None, headers=None, ok=(200, 201, 202, 204)):
        data = None if body is None else json.dumps(body).encode()
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        if resp.getheader("connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        if ok and resp.status not in ok:
            raise HttpError(method, path, resp.status, raw)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Pincer:
    """A `pincer serve` child: PINCER_PORT=0, rate limit off, temporary data dir, JSON logs in
    a file (level `log_level`), plus `env`. The port comes from the "listening" log line or,
    at warn (where that info line is not written), from the process's listening socket."""

    def __init__(self, binary, env=None, log_level="warn", workdir=None, name="pincer"):
        self.binary = os.path.abspath(binary)
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="pincer-bench-")
        self.data_dir = os.path.join(self.workdir, f"data-{name}")
        self.log_path = os.path.join(self.workdir, f"{name}.log")
        self.env = dict(env or {})
        self.log_level = log_level
        self.proc = None
        self.port = None
        self._client = None

    def start(self, timeout=30.0):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINCER_")}
        env.update({
            "PINCER_HOST": "127.0.0.1",
            "PINCER_PORT": "0",
            "PINCER_DATA_DIR": self.data_dir,
            "PINCER_RATE_LIMIT_RPM": "0",
            "PINCER_LOG_LEVEL": self.log_level,
            "PINCER_LOG_FORMAT": "json",
        })
        env.update({k: str(v) for k, v in self.env.items()})
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     cwd=self.workdir)
        deadline = time.monotonic() + timeout
        self.port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pincer exited with {self.proc.returncode}: {self.tail_log()}")
            port = self._port_from_log()
            if port is None:
                ports = listening_ports(self.proc.pid)
                port = ports[0] if len(ports) == 1 else None
            if port is not None:
                try:
                    Client(port, timeout=2).call("GET", "/healthz")
                    self.port = port
                    self._client = Client(port)
                    return self
                except (OSError, HttpError):
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pincer did not start within {timeout}s: {self.tail_log()}")

    def _port_from_log(self):
        try:
            with open(self.log_path, "rb") as f:
                for raw in f:
                    if b'"msg":"listening"' in raw:
                        try:
                            return int(json.loads(raw)["port"])
                        except (ValueError, KeyError):
                            return None
        except FileNotFoundError:
            pass
        return None

    def tail_log(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def call(self, method, path, body=None, headers=None, ok=(200, 201, 202, 204)):
        return self._client.call(method, path, body, headers, ok)

    def client(self):
        return Client(self.port)

    def rss_kib(self):
        return rss_kib(self.pid)

    def hwm_kib(self):
        return proc_status_kib(self.pid, "VmHWM")

    def threads(self):
        return proc_status_kib(self.pid, "Threads")

    def metric(self, name):
        status, text = http_load_get(self.port, "/metrics")
        for line in text.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                try:
                    return float(line.rsplit(" ", 1)[1])
                except ValueError:
                    return None
        return None

    def create_agent(self, **body):
        body.setdefault("name", "bench")
        return self.call("POST", "/v1/agents", body)

    def create_session(self, agent_id, **extra):
        body = {"agentId": agent_id}
        body.update(extra)
        return self.call("POST", "/v1/sessions", body)

    def stop(self, timeout=30.0):
        if self._client is not None:
            self._client.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self, keep=False):
        self.kill()
        if self.own_workdir and not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def http_load_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# --- SSE on a raw socket -------------------------------------------------------------------


class SseReader:
    """One `GET …?stream=true` on its own socket. next_frame() returns (event, data_bytes,
    arrival_us) with arrival_us = now_us() right after the recv() that completed the frame."""

    def __init__(self, port, path, headers=None, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n"
                          f"{extra}\r\n".encode())
        self.buf = b""
        self.last_arrival = 0
        head = self._until(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RuntimeError(f"SSE {path}: HTTP {status}: {head!r} {self.buf[:300]!r}")
        self.chunked = b"transfer-encoding: chunked" in head.lower()
        self.body = b""  # de-chunked stream bytes not yet parsed into frames
        self.frames = []  # (event, data, arrival_us)

    def _recv(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("SSE stream closed")
        self.last_arrival = now_us()
        self.buf += data

    def _until(self, sep):
        while sep not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(sep)
        return head

    def _dechunk(self):
        if not self.chunked:
            self.body += self.buf
            self.buf = b""
            return
        while True:
            i = self.buf.find(b"\r\n")
            if i < 0:
                return
            size = int(self.buf[:i].split(b";")[0], 16)
            if len(self.buf) < i + 2 + size + 2:
                return
            self.body += self.buf[i + 2:i + 2 + size]
            self.buf = self.buf[i + 2 + size + 2:]
            if size == 0:
                raise EOFError("SSE stream ended")

    def _parse(self):
        while True:
            i = self.body.find(b"\n\n")
            if i < 0:
                return
            frame, self.body = self.body[:i], self.body[i + 2:]
            event, data = b"", b""
            for line in frame.split(b"\n"):
                if line.startswith(b"event: "):
                    event = line[7:]
                elif line.startswith(b"data: "):
                    data = line[6:]
            self.frames.append((event.decode(), data, self.last_arrival))

    def next_frame(self, timeout=None):
        if timeout is not None:
            self.sock.settimeout(timeout)
        self._dechunk()
        self._parse()
        while not self.frames:
            self._recv()
            self._dechunk()
            self._parse()
        return self.frames.pop(0)

    def wait_for(self, event, timeout=60.0):
        """Skips frames until one with this event name; returns (data, arrival_us)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {event} frame within {timeout}s")
            ev, data, t = self.next_frame(timeout=left)
            if ev == event:
                return data, t

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- many requests, pipelined ------------------------------------------------------------


def pipelined(port, reqs, conns=8, window=16, timeout=120.0):
    """Sends `reqs` [(method, path, body_obj_or_None)] over `conns` keep-alive connections with
    up to `window` requests in flight on each (HTTP/1.1 pipelining; responses come back in
    order). Returns [(status, body_bytes, sent_us, answered_us)] in the order of `reqs`."""
    import selectors

    results = [None] * len(reqs)
    sel = selectors.DefaultSelector()
    per = [list(range(i, len(reqs), conns)) for i in range(conns)]
    states = []
    for idxs in per:
        if not idxs:
            continue
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        st = {"sock": s, "todo": idxs, "next": 0, "inflight": [], "buf": b"", "out": b""}
        states.append(st)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)

    def fill(st):
        while len(st["inflight"]) < window and st["next"] < len(st["todo"]):
            i = st["todo"][st["next"]]
            st["next"] += 1
            method, path, body = reqs[i]
            data = b"" if body is None else json.dumps(body).encode()
            head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
            if body is not None:
                head += "Content-Type: application/json\r\n"
            head += f"Content-Length: {len(data)}\r\n\r\n"
            st["out"] += head.encode() + data
            st["inflight"].append((i, now_us()))

    def parse(st):
        while st["inflight"]:
            buf = st["buf"]
            h = buf.find(b"\r\n\r\n")
            if h < 0:
                return
            head = buf[:h].decode("latin-1")
            lines = head.split("\r\n")
            status = int(lines[0].split()[1])
            n = 0
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    n = int(v.strip())
            if len(buf) < h + 4 + n:
                return
            body = buf[h + 4:h + 4 + n]
            st["buf"] = buf[h + 4 + n:]
            i, sent = st["inflight"].pop(0)
            results[i] = (status, body, sent, now_us())

    for st in states:
        fill(st)
    deadline = time.monotonic() + timeout
    live = len(states)
    while live:
        if time.monotonic() > deadline:
            raise TimeoutError("pipelined requests timed out")
        for key, mask in sel.select(timeout=1.0):
            st = key.data
            s = st["sock"]
            if mask & selectors.EVENT_WRITE and st["out"]:
                try:
                    n = s.send(st["out"])
                    st["out"] = st["out"][n:]
                except BlockingIOError:
                    pass
            if mask & selectors.EVENT_READ:
                try:
                    data = s.recv(1 << 16)
                except BlockingIOError:
                    data = None
                if data == b"":
                    raise RuntimeError("server closed a pipelined connection")
                if data:
                    st["buf"] += data
                    parse(st)
                    fill(st)
            done = not st["inflight"] and st["next"] >= len(st["todo"])
            if done:
                sel.unregister(s)
                s.close()
                live -= 1
            else:
                sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if st["out"] else 0), st)
    return results


# --- results -------------------------------------------------------------------------------


def git_state():
    def git(*a):
        try:
            return subprocess.run(["git", "-C", REPO, *a], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ""

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "tests/support")
    return {"head": git("rev-parse", "--short", "HEAD"),
            "uncommitted_files_in_src": len(dirty.splitlines()) if dirty else 0}


def binary_version(pincer):
    try:
        return subprocess.run([pincer, "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except OSError:
        return None


def document(name, pincer, settings, started):
    info = http_load.machine_info()
    info.pop("wrk", None)
    return {
        "benchmark": name,
        "timestamp": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": info,
        "load_average_before": load_average(),
        "pincer": {"binary": os.path.abspath(pincer), "version_output": binary_version(pincer),
                   "git": git_state()},
        "settings": settings,
    }


def goal(name, target, measured, met, unit="", note=None):
    g = {"goal": name, "target": target, "measured": measured, "unit": unit,
         "met": None if measured is None else bool(met)}
    if note:
        g["note"] = note
    return g


def save(doc, name, started, results_dir=RESULTS_DIR, no_save=False, log=None):
    doc["load_average_after"] = load_average()
    text = json.dumps(doc, indent=2)
    print(text)
    if no_save:
        return None
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json")
    with open(path, "w") as f:
        f.write(text + "\n")
    if log:
        log(f"wrote {path}")
        for g in doc.get("goals", []):
            state = "MET " if g["met"] else ("N/A " if g["met"] is None else "MISS")
            log(f"goal {state} {g['goal']}: measured {g['measured']} {g.get('unit', '')}")
    return path


def remove_workdir(workdir, keep, log):
    """Removes a run's temporary directory, or says where it was kept (--keep)."""
    if keep:
        log(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def conclude(doc, name, started, args, log):
    """Saves the finished document (goals filled in) and prints its path last; the exit code."""
    path = save(doc, name, started, args.results_dir, args.no_save, log)
    if path:
        print(path)
    return 0


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


# --- kernel receive timestamps -------------------------------------------------------------

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # SO_TIMESTAMPNS_OLD on Linux


def enable_rx_timestamps(sock):
    """Ask the kernel to stamp received data (SO_TIMESTAMPNS; TCP supports it since 2.6).
    recv_stamped() then returns when the newest segment of each read reached the socket, so a
    busy client that reads late still measures when the server's bytes arrived."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


_CMSG_TS_SPACE = socket.CMSG_SPACE(16)


def recv_stamped(sock, n=1 << 16):
    """(data, arrival_us): arrival is the kernel's CLOCK_REALTIME receive stamp of the newest
    segment in this read, or now_us() when the socket gives none."""
    data, anc, _flags, _addr = sock.recvmsg(n, _CMSG_TS_SPACE)
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
            sec, nsec = struct.unpack("qq", payload[:16])
            return data, sec * 1_000_000 + nsec // 1000
    return data, now_us()


class StampedSseReader(SseReader):
    """SseReader whose frame times are kernel receive stamps (see recv_stamped); `py_arrival`
    keeps the time this process read the data, for comparison."""

    def __init__(self, port, path, headers=None, timeout=30.0):
        super().__init__(port, path, headers, timeout)
        enable_rx_timestamps(self.sock)
        self.py_arrival = 0

    def _recv(self):
        data, stamp = recv_stamped(self.sock)
        if not data:
            raise EOFError("SSE stream closed")
        self.py_arrival = now_us()
        self.last_arrival = stamp
        self.buf += data
