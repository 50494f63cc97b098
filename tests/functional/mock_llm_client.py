"""A small driver for pincer-mock-llm (tests/support/mock_llm), the scriptable stand-in for the
OpenAI and Anthropic APIs.

    with MockLLM() as mock:
        mock.script("t1", [{"tool_calls": [{"name": "bash", "arguments": {"cmd": "ls"}}]},
                           {"text": "done"}])
        # point the code under test at mock.openai_base_url / mock.anthropic_base_url and put
        # "[mock:t1]" in its system prompt
        ...
        assert len(mock.requests("t1")) == 2

Only the standard library is used, so benchmarks and tools can import it too.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterable

REPO_ROOT = Path(__file__).resolve().parents[2]
_UNSET: Any = object()


def mock_llm_binary() -> str:
    """$PINCER_MOCK_LLM_BIN, else next to $PINCER_BIN, else build/release/pincer-mock-llm."""
    path = os.environ.get("PINCER_MOCK_LLM_BIN")
    if not path and os.environ.get("PINCER_BIN"):
        path = str(Path(os.environ["PINCER_BIN"]).resolve().parent / "pincer-mock-llm")
    if not path:
        path = str(REPO_ROOT / "build" / "release" / "pincer-mock-llm")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"pincer-mock-llm not found at {path!r}; build it "
            "(cmake --build --preset release --target pincer-mock-llm) or set PINCER_MOCK_LLM_BIN")
    return path


class MockLLMError(RuntimeError):
    def __init__(self, status: int, body: str):
        super().__init__(f"mock control call failed: HTTP {status}: {body}")
        self.status = status
        self.body = body


class MockLLM:
    """Starts pincer-mock-llm on a free port and drives its /_mock control API."""

    def __init__(self, args: Iterable[str] = (), binary: str | None = None,
                 start_timeout: float = 10.0):
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [binary or mock_llm_binary(), "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr)
        try:
            self.port = self._read_port(start_timeout)
        except BaseException:
            self.stop()
            raise
        self.base_url = f"http://127.0.0.1:{self.port}"
        # What to put in OPENAI_BASE_URL / ANTHROPIC_BASE_URL.
        self.openai_base_url = self.base_url + "/v1"
        self.anthropic_base_url = self.base_url

    def _read_port(self, timeout: float) -> int:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"pincer-mock-llm did not report its port: {self.stderr()}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"pincer-mock-llm exited early: {self.stderr()}")
            buf += chunk
        line = json.loads(buf.split(b"\n", 1)[0])
        if line.get("msg") != "listening":
            raise RuntimeError(f"unexpected first line from pincer-mock-llm: {line}")
        return int(line["port"])

    # --- control API -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = _UNSET, timeout: float = 10.0) -> Any:
        data = None if body is _UNSET else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise MockLLMError(e.code, e.read().decode(errors="replace")) from None

    def script(self, key: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """Appends steps to the FIFO of `key`; returns {"key","added","pending"}."""
        return self._call("POST", "/_mock/scripts/" + urllib.parse.quote(key, safe=""),
                          {"steps": steps})

    def clear_script(self, key: str) -> int:
        return self._call("DELETE", "/_mock/scripts/" + urllib.parse.quote(key, safe=""))["cleared"]

    def pending(self, key: str) -> int:
        """Steps of `key` not consumed yet."""
        return self._call("GET", "/_mock/scripts/" + urllib.parse.quote(key, safe=""))["pending"]

    def requests(self, key: str | None = None) -> list[dict[str, Any]]:
        """Recorded LLM requests (oldest first): {key, path, headers, body, received_at_ms}."""
        query = "" if key is None else "?key=" + urllib.parse.quote(key, safe="")
        return self._call("GET", "/_mock/requests" + query)["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "/_mock/requests")

    def config(self, auto: dict[str, Any] | None = None) -> dict[str, Any]:
        """Sets the fallback used when a key has no step; auto=None restores the echo reply."""
        return self._call("POST", "/_mock/config", {"auto": auto})

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_mock/stats")

    def reset(self) -> None:
        """Clears every script, the auto config, recorded requests and counters."""
        self._call("POST", "/_mock/reset")

    # --- lifecycle ---------------------------------------------------------------------------

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> "MockLLM":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
