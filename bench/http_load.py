#!/usr/bin/python3
"""Loopback HTTP load benchmark for `pincer serve`, driven by wrk.

    bench/http_load.py build/release/pincer [--duration 10] [--connections 64] [--threads 0]

For each log level (default: warn, then info to show the cost of access logs) it starts a
fresh server (PINCER_PORT=0, rate limiting off, a temporary PINCER_DATA_DIR, logs to a file),
measures idle RSS, creates one agent, then for each endpoint runs a wrk warm-up followed by
the measured run:

    wrk -t<wrk threads> -c<connections> -d<duration>s --latency -s bench/wrk/<script>.lua URL

While wrk runs, the server's RSS is sampled once a second (VmRSS; the kernel's VmHWM is kept
too) and its CPU time (utime+stime from /proc/<pid>/stat) is read before and after to get CPU
microseconds per request. The result is one JSON document, printed to stdout and written to
bench/results/http_load-<timestamp>.json. Progress goes to stderr.

Standard library only; meant for Debian's /usr/bin/python3 (bench/run.sh).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_DIR = os.path.join(HERE, "wrk")
RESULTS_DIR = os.path.join(HERE, "results")
CLK_TCK = os.sysconf("SC_CLK_TCK")

AGENT_BODY = json.dumps(
    {
        "model": "claude-sonnet-4-5",
        "name": "bench-agent",
        "instructions": "You are a benchmark.",
        "tools": ["bash", "read", "write"],
        "permissionPolicy": {"type": "always_ask"},
    },
    separators=(",", ":"),
)

# The goals from the issue. "Per core" is checked two ways (see bench/README.md).
GOAL_GET_RPS_PER_CORE = 20_000
GOAL_GET_P99_MS = 2.0
GOAL_CREATE_RPS = 5_000
GOAL_IDLE_RSS_MIB = 30.0


def log(msg):
    print(f"http_load: {msg}", file=sys.stderr, flush=True)


# --- /proc helpers -------------------------------------------------------------------------


def proc_status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return None


def proc_cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name (field 2) may contain spaces; fields after ')' are fixed.
    fields = data[data.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def system_cpu_seconds():
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


def proc_threads(pid):
    return proc_status_kib(pid, "Threads")


def listening_ports(pid):
    """TCP ports the process listens on (from its socket inodes and /proc/net/tcp{,6})."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", target)
            if m:
                inodes.add(m.group(1))
    except FileNotFoundError:
        return []
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state, inode = parts[1], parts[3], parts[9]
                    if state == "0A" and inode in inodes:  # 0A = LISTEN
                        ports.append(int(local.rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            pass
    return ports


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_total = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_total = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    wrk_version = "unknown"
    try:
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        wrk_version = out.splitlines()[0].strip() if out else "unknown"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "mem_total_gib": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk_version,
    }


# --- the server ----------------------------------------------------------------------------


class Server:
    """A `pincer serve` child with its own data dir; logs (JSON lines) go to a file."""

    def __init__(self, pincer, log_level, threads, workdir, cpus=None):
        self.pincer = pincer
        self.cpus = cpus
        self.log_level = log_level
        self.data_dir = os.path.join(workdir, f"data-{log_level}")
        self.log_path = os.path.join(workdir, f"server-{log_level}.log")
        self.threads = threads
        self.proc = None
        self.port = None
        self.port_source = None
        self.listening_line = None
        self.agent_id = None

    def start(self, timeout=15.0):
        env = dict(os.environ)
        env.update(
            {
                "PINCER_HOST": "127.0.0.1",
                "PINCER_PORT": "0",
                "PINCER_DATA_DIR": self.data_dir,
                "PINCER_RATE_LIMIT_RPM": "0",
                "PINCER_LOG_LEVEL": self.log_level,
                "PINCER_LOG_FORMAT": "json",
                "PINCER_THREADS": str(self.threads),
            }
        )
        env.pop("PINCER_API_TOKEN", None)
        self.log_file = open(self.log_path, "wb")
        cmd = [self.pincer, "serve"]
        if self.cpus:
            cmd = ["taskset", "-c", self.cpus] + cmd
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"pincer exited with {self.proc.returncode}: {self.tail_log()}"
                )
            # The bound port is in the "listening" log line, which is logged at info level;
            # with PINCER_LOG_LEVEL=warn it is not written, so fall back to the process's
            # listening socket in /proc.
            line = self.find_listening_line()
            if line is not None:
                self.listening_line = line
                self.port = int(line["port"])
                self.port_source = "log"
            elif self.log_level in ("warn", "error"):
                ports = listening_ports(self.proc.pid)
                if len(ports) == 1:
                    self.port = ports[0]
                    self.port_source = "/proc/net/tcp"
            if self.port and self.healthy():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pincer did not start listening within {timeout}s: {self.tail_log()}")

    def find_listening_line(self):
        try:
            with open(self.log_path, "rb") as f:
                for raw in f:
                    if b'"msg":"listening"' not in raw:
                        continue
                    try:
                        return json.loads(raw)
                    except ValueError:
                        return None
        except FileNotFoundError:
            pass
        return None

    def tail_log(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def healthy(self):
        try:
            status, _ = self.request("GET", "/healthz")
            return status == 200
        except OSError:
            return False

    @property
    def pid(self):
        return self.proc.pid

    def rss_mib(self):
        kib = proc_status_kib(self.pid, "VmRSS")
        return None if kib is None else round(kib / 1024, 2)

    def hwm_mib(self):
        kib = proc_status_kib(self.pid, "VmHWM")
        return None if kib is None else round(kib / 1024, 2)

    def log_stats(self):
        try:
            size = os.path.getsize(self.log_path)
            with open(self.log_path, "rb") as f:
                lines = sum(1 for _ in f)
            return size, lines
        except OSError:
            return 0, 0

    def stop(self, timeout=20.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log("pincer did not stop on SIGTERM; killing it")
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


# --- wrk -----------------------------------------------------------------------------------


class RssSampler(threading.Thread):
    """Samples f() (KiB) every `interval` s; finish() takes a last sample and returns the
    maximum (None without samples)."""

    def __init__(self, f, interval=1.0):
        super().__init__(daemon=True)
        self.f, self.interval = f, interval
        self.samples = []
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            v = self.f()
            if v is not None:
                self.samples.append(v)
            self._done.wait(self.interval)

    def finish(self):
        self._done.set()
        self.join()
        v = self.f()
        if v is not None:
            self.samples.append(v)
        return max(self.samples) if self.samples else None


def parse_duration_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return None
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(stdout):
    """The WRK_JSON line from the lua done() hook, plus wrk's own text as a cross-check."""
    result = None
    text = {}
    for line in stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result = json.loads(line[len("WRK_JSON ") :])
            continue
        m = re.match(r"\s+(50|75|90|99)%\s+(\S+)", line)
        if m:
            text[f"p{m.group(1)}"] = parse_duration_ms(m.group(2))
        m = re.match(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            text["requests_per_sec"] = float(m.group(1))
        m = re.match(r"\s+Non-2xx or 3xx responses:\s+(\d+)", line)
        if m:
            text["non_2xx_3xx"] = int(m.group(1))
    if result is None:
        raise RuntimeError("wrk printed no WRK_JSON line (lua done() hook):\n" + stdout)
    result["text"] = text
    return result


def run_wrk(url, script, duration, connections, threads, env_extra=None, cpus=None):
    cmd = ["taskset", "-c", cpus] if cpus else []
    cmd += [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        script,
        url,
    ]
    env = dict(os.environ)
    env.update(env_extra or {})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {' '.join(cmd)}\n{out}")
    return cmd, parse_wrk(out), rusage.ru_utime + rusage.ru_stime


def measure_endpoint(server, name, method, path, args):
    url = f"http://127.0.0.1:{server.port}{path}"
    if method == "POST":
        script = os.path.join(WRK_DIR, "post_agent.lua")
    else:
        script = os.path.join(WRK_DIR, "report.lua")
    env = {"PINCER_BENCH_AGENT_BODY": AGENT_BODY}
    delay_ms = None
    if args.rate:
        # Each connection cycles through (response time + delay); start from the delay that
        # ignores response time, then correct it from what the warm-up runs achieve.
        delay_ms = args.connections * 1000.0 / args.rate
        env["PINCER_BENCH_DELAY_MS"] = f"{delay_ms:.4f}"

    warmups = 4 if args.rate else 1
    for i in range(warmups if args.warmup > 0 else 0):
        log(f"  {name}: warm-up {args.warmup}s" + (f" (delay {delay_ms:.3f} ms)" if delay_ms else ""))
        _, wu, _ = run_wrk(
            url, script, args.warmup, args.connections, args.wrk_threads, env, args.wrk_cpus
        )
        if args.rate and wu["requests"] > 0:
            achieved = wu["requests"] / (wu["duration_us"] / 1e6)
            cycle_ms = args.connections * 1000.0 / achieved
            # Damped: near saturation the achieved rate reacts steeply to the delay.
            delay_ms = max(0.0, delay_ms + 0.6 * (args.connections * 1000.0 / args.rate - cycle_ms))
            env["PINCER_BENCH_DELAY_MS"] = f"{delay_ms:.4f}"

    log(f"  {name}: {method} {path} for {args.duration}s, {args.connections} connections")
    sampler = RssSampler(lambda: proc_status_kib(server.pid, "VmRSS"))
    cpu_before = proc_cpu_seconds(server.pid)
    sys_before, steal_before = system_cpu_seconds()
    sampler.start()
    cmd, w, wrk_cpu = run_wrk(
        url, script, args.duration, args.connections, args.wrk_threads, env, args.wrk_cpus
    )
    rss_max_kib = sampler.finish()
    rss_max = round(rss_max_kib / 1024, 2) if rss_max_kib is not None else None
    cpu_after = proc_cpu_seconds(server.pid)
    sys_after, steal_after = system_cpu_seconds()

    requests = w["requests"]
    seconds = w["duration_us"] / 1e6
    lat = w["latency_us"]
    errs = w["errors"]
    server_cpu = cpu_after - cpu_before
    rps = requests / seconds if seconds > 0 else 0.0
    ms = lambda us: round(us / 1000.0, 3)  # noqa: E731
    result = {
        "method": method,
        "path": path.replace(server.agent_id, ":id") if server.agent_id else path,
        "requests": requests,
        "duration_s": round(seconds, 3),
        "requests_per_sec": round(rps, 1),
        "latency_ms": {
            "p50": ms(lat["p50"]),
            "p75": ms(lat["p75"]),
            "p90": ms(lat["p90"]),
            "p99": ms(lat["p99"]),
            "p99_9": ms(lat["p99_9"]),
            "max": ms(lat["max"]),
            "mean": ms(lat["mean"]),
        },
        "server_rss_max_mib": rss_max,
        "server_rss_hwm_mib": server.hwm_mib(),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_cores": round(server_cpu / seconds, 2) if seconds else None,
        "server_cpu_us_per_req": round(server_cpu * 1e6 / requests, 1) if requests else None,
        "server_rps_per_cpu_core": round(requests / server_cpu, 1) if server_cpu > 0 else None,
        "wrk_cpu_s": round(wrk_cpu, 2),
        # Busy CPU of everything else on the machine during the run (should be ~0; if not,
        # another process competed for the cores and the numbers are not comparable).
        "other_cpu_s": round(max(0.0, (sys_after - sys_before) - server_cpu - wrk_cpu), 2),
        "steal_cpu_s": round(steal_after - steal_before, 2),
        "errors": errs["connect"] + errs["read"] + errs["write"] + errs["timeout"],
        "errors_detail": {k: errs[k] for k in ("connect", "read", "write", "timeout")},
        "non_2xx": errs["status"],
        "wrk_text": w["text"],
        "pacing_delay_ms": round(delay_ms, 4) if delay_ms is not None else None,
        "wrk_command": " ".join(cmd[:-1] + [cmd[-1].replace(str(server.port), "PORT")]),
    }
    log(
        f"  {name}: {result['requests_per_sec']:.0f} req/s, p50 {result['latency_ms']['p50']} ms,"
        f" p99 {result['latency_ms']['p99']} ms, {result['server_cpu_us_per_req']} CPU us/req,"
        f" RSS max {rss_max} MiB, errors {result['errors']}, non-2xx {result['non_2xx']}"
        f" (CPU s: server {result['server_cpu_s']}, wrk {result['wrk_cpu_s']},"
        f" other {result['other_cpu_s']}, steal {result['steal_cpu_s']})"
    )
    if result["other_cpu_s"] > 0.05 * args.duration * len(os.sched_getaffinity(0)):
        log(f"  {name}: WARNING: other processes used {result['other_cpu_s']} CPU s during the run")
    return result


ENDPOINTS = {
    # name: (method, path template)
    "get_agent": ("GET", "/v1/agents/{agent_id}"),
    "create_agent": ("POST", "/v1/agents"),
    "healthz": ("GET", "/healthz"),
}


def run_level(args, level, workdir):
    log(f"log level {level}: starting {args.pincer} serve")
    server = Server(args.pincer, level, args.threads, workdir, args.server_cpus)
    server.start()
    try:
        time.sleep(args.settle)
        idle_rss = server.rss_mib()
        log(f"  listening on port {server.port} (from {server.port_source}); idle RSS {idle_rss} MiB")
        status, body = server.request("POST", "/v1/agents", AGENT_BODY)
        if status != 200 and status != 201:
            raise RuntimeError(f"creating the agent failed: {status} {body[:500]!r}")
        server.agent_id = json.loads(body)["agent_id"]
        status, _ = server.request("GET", f"/v1/agents/{server.agent_id}")
        if status != 200:
            raise RuntimeError(f"GET of the new agent failed: {status}")

        endpoints = {}
        for name in args.endpoints:
            method, template = ENDPOINTS[name]
            path = template.format(agent_id=server.agent_id)
            endpoints[name] = measure_endpoint(server, name, method, path, args)

        time.sleep(args.settle)
        log_bytes, log_lines = server.log_stats()
        return {
            "log_level": level,
            "port_source": server.port_source,
            "server_threads": int(server.listening_line["threads"])
            if server.listening_line and "threads" in server.listening_line
            else (args.threads or None),
            "os_threads": proc_threads(server.pid),
            "idle_rss_mib": idle_rss,
            "idle_rss_after_load_mib": server.rss_mib(),
            "rss_hwm_mib": server.hwm_mib(),
            "log_bytes": log_bytes,
            "log_lines": log_lines,
            "endpoints": endpoints,
        }
    finally:
        server.stop()


def evaluate_goals(doc):
    goals = []
    runs = {r["log_level"]: r for r in doc["runs"]}
    base = runs.get("warn") or doc["runs"][0]
    nproc = doc["machine"]["cpus_available"]
    g = base["endpoints"].get("get_agent")
    if g:
        goals.append(
            {
                "goal": f"GET /v1/agents/:id >= {GOAL_GET_RPS_PER_CORE} req/s per core "
                f"(x {nproc} cores, wrk on the same cores)",
                "target": GOAL_GET_RPS_PER_CORE * nproc,
                "measured": g["requests_per_sec"],
                "met": g["requests_per_sec"] >= GOAL_GET_RPS_PER_CORE * nproc,
            }
        )
        goals.append(
            {
                "goal": f"GET /v1/agents/:id >= {GOAL_GET_RPS_PER_CORE} req/s per server CPU "
                "core (<= 50 CPU us/request)",
                "target": GOAL_GET_RPS_PER_CORE,
                "measured": g["server_rps_per_cpu_core"],
                "met": (g["server_rps_per_cpu_core"] or 0) >= GOAL_GET_RPS_PER_CORE,
            }
        )
        goals.append(
            {
                "goal": f"GET /v1/agents/:id p99 < {GOAL_GET_P99_MS} ms",
                "target": GOAL_GET_P99_MS,
                "measured": g["latency_ms"]["p99"],
                "met": g["latency_ms"]["p99"] < GOAL_GET_P99_MS,
            }
        )
    c = base["endpoints"].get("create_agent")
    if c:
        goals.append(
            {
                "goal": f"POST /v1/agents >= {GOAL_CREATE_RPS} creates/s",
                "target": GOAL_CREATE_RPS,
                "measured": c["requests_per_sec"],
                "met": c["requests_per_sec"] >= GOAL_CREATE_RPS,
            }
        )
    goals.append(
        {
            "goal": f"idle RSS < {GOAL_IDLE_RSS_MIB} MiB",
            "target": GOAL_IDLE_RSS_MIB,
            "measured": base["idle_rss_mib"],
            "met": base["idle_rss_mib"] is not None and base["idle_rss_mib"] < GOAL_IDLE_RSS_MIB,
        }
    )
    return goals


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pincer", help="path to the pincer binary (e.g. build/release/pincer)")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint (3)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument(
        "--threads", type=int, default=0, help="server I/O threads, PINCER_THREADS (0 = one per core)"
    )
    p.add_argument(
        "--rate",
        type=float,
        help="offered load in req/s over all connections (paced with wrk's delay() hook); "
        "default: as fast as possible",
    )
    p.add_argument("--server-cpus", help="pin the server to these CPUs (taskset -c list, e.g. 0)")
    p.add_argument("--wrk-cpus", help="pin wrk to these CPUs (taskset -c list, e.g. 1)")
    p.add_argument(
        "--log-levels",
        default="warn,info",
        help="comma list; one server run per level (warn,info: info shows the access-log cost)",
    )
    p.add_argument(
        "--endpoints",
        default=",".join(ENDPOINTS),
        help=f"comma list of {', '.join(ENDPOINTS)} (all)",
    )
    p.add_argument("--settle", type=float, default=1.0, help="idle seconds before RSS readings (1)")
    p.add_argument("--results-dir", default=RESULTS_DIR, help="where to write the JSON (bench/results)")
    p.add_argument("--no-save", action="store_true", help="print the JSON only")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir and logs")
    args = p.parse_args()
    args.pincer = os.path.abspath(args.pincer)
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    for e in args.endpoints:
        if e not in ENDPOINTS:
            p.error(f"unknown endpoint {e!r}")
    levels = [lv for lv in args.log_levels.split(",") if lv]
    if not os.access(args.pincer, os.X_OK):
        p.error(f"{args.pincer} is not an executable")
    if shutil.which("wrk") is None:
        p.error("wrk not found (Debian: apt-get install wrk; or make deps)")

    version = subprocess.run([args.pincer, "version"], capture_output=True, text=True).stdout.strip()
    m = re.search(r"pincer (\S+) \(commit (\S+)\)", version)
    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        log(f"note: load average is {load_before[0]:.2f} before the run; results will be noisy")

    started = datetime.datetime.now(datetime.timezone.utc)
    workdir = tempfile.mkdtemp(prefix="pincer-bench-")
    try:
        runs = [run_level(args, level, workdir) for level in levels]
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    doc = {
        "benchmark": "http_load",
        "timestamp": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "pincer": {
            "binary": args.pincer,
            "version_output": version,
            "version": m.group(1) if m else None,
            "commit": m.group(2) if m else None,
        },
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.wrk_threads,
            "server_threads": args.threads,
            "offered_rate": args.rate,
            "server_cpus": args.server_cpus,
            "wrk_cpus": args.wrk_cpus,
            "log_levels": levels,
            "endpoints": args.endpoints,
            "server_env": {
                "PINCER_PORT": "0",
                "PINCER_RATE_LIMIT_RPM": "0",
                "PINCER_THREADS": str(args.threads),
                "PINCER_LOG_FORMAT": "json (to a file)",
            },
            "agent_body": json.loads(AGENT_BODY),
        },
        "runs": runs,
    }
    doc["goals"] = evaluate_goals(doc)
    text = json.dumps(doc, indent=2)
    print(text)
    if not args.no_save:
        os.makedirs(args.results_dir, exist_ok=True)
        path = os.path.join(args.results_dir, f"http_load-{started.strftime('%Y%m%dT%H%M%SZ')}.json")
        with open(path, "w") as f:
            f.write(text + "\n")
        log(f"wrote {path}")
    for g in doc["goals"]:
        log(f"goal {'MET ' if g['met'] else 'MISS'} {g['goal']}: measured {g['measured']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
