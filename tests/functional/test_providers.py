"""Provider faults: retries on 5xx and dropped streams, Retry-After, timeouts, auth errors,
context overflow, missing keys and unknown providers — each ends in a clean session state."""

from __future__ import annotations

import re
import time

import pytest

from conftest import AgentSession, assert_dense, metric_value

FORMATS = {"openai": "openai/mock-model", "anthropic": "anthropic/claude-mock"}
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("status", [500, 503, 529])
def test_5xx_then_success_is_retried_transparently(llm_server, mock_llm, fmt, status):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"status": status, "error": {"message": "upstream hiccup"}},
        {"text": "second time lucky"},
    ])
    done = s.run("go")
    assert done["output"] == "second time lucky"
    assert done["error"] is None
    assert len(s.llm_requests()) == 2
    assert s.llm_requests()[0] == s.llm_requests()[1]
    types = [e["type"] for e in s.events()]
    assert types.count("agent.message") == 1
    assert "session.status_failed" not in types


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["close", "error_event"])
def test_stream_cut_then_success_is_retried(llm_server, mock_llm, fmt, mode):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"text": "a partial answer that is cut", "chunk_size": 4, "fail_after_chunks": 3,
         "fail_mode": mode},
        {"text": "complete answer"},
    ])
    done = s.run("go")
    assert done["output"] == "complete answer", done
    assert len(s.llm_requests()) == 2
    msgs = [e["content"] for e in s.events() if e["type"] == "agent.message"]
    assert msgs == ["complete answer"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["close", "error_event"])
def test_stream_failing_mid_way_every_time_fails_after_max_retries(llm_server, mock_llm, fmt, mode):
    server = llm_server(PINCER_LLM_MAX_RETRIES="2")
    broken = {"text": "this stream never finishes properly", "chunk_size": 4,
              "fail_after_chunks": 3, "fail_mode": mode}
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[broken] * 5)
    done = s.run("go", expect="failed")
    assert len(s.llm_requests()) == 3  # the first call and two retries
    assert done["error"], done
    assert "3 attempts" in done["error"] or "retr" in done["error"], done["error"]
    events = s.events()
    assert_dense(events)
    assert not [e for e in events if e["type"] == "agent.message"], \
        "a truncated response was persisted as an answer"
    assert events[-1]["type"] == "session.status_failed"
    assert events[-1]["content"] == done["error"]
    samples = server.metrics()
    assert metric_value(samples, "session_run_failures_total") == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_429_retry_after_is_honoured(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"status": 429, "error": {"message": "slow down"}, "headers": {"retry-after": "1"}},
        {"text": "thanks for waiting"},
    ])
    done = s.run("go")
    assert done["output"] == "thanks for waiting"
    reqs = mock_llm.requests(s.key)
    assert len(reqs) == 2
    gap = reqs[1]["received_at_ms"] - reqs[0]["received_at_ms"]
    assert gap >= 900, f"retried after {gap} ms despite Retry-After: 1"


def test_429_every_time_fails_with_rate_limit_error(llm_server, mock_llm):
    server = llm_server(PINCER_LLM_MAX_RETRIES="1")
    s = AgentSession.create(server, mock_llm,
                            steps=[{"status": 429, "error": {"message": "quota gone"}}] * 2)
    done = s.run("go", expect="failed")
    assert len(s.llm_requests()) == 2
    assert re.search(r"rate.?limit|429", done["error"], re.I), done["error"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_hanging_provider_times_out(llm_server, mock_llm, fmt):
    server = llm_server(PINCER_LLM_TIMEOUT_MS="700", PINCER_LLM_MAX_RETRIES="0")
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[{"hang": True}])
    t0 = time.monotonic()
    done = s.run("go", expect="failed", timeout=10)
    took = time.monotonic() - t0
    assert took >= 0.6, took
    assert re.search(r"time|timed out|deadline", done["error"], re.I), done["error"]


def test_provider_slow_to_answer_times_out(llm_server, mock_llm):
    # delay_ms holds the response before the status line (no headers at all).
    server = llm_server(PINCER_LLM_TIMEOUT_MS="500", PINCER_LLM_MAX_RETRIES="0")
    s = AgentSession.create(server, mock_llm, steps=[{"text": "too late", "delay_ms": 30000}])
    done = s.run("go", expect="failed", timeout=10)
    assert re.search(r"time|timed out|deadline", done["error"], re.I), done["error"]


def test_stalled_stream_is_retried(llm_server, mock_llm):
    server = llm_server(PINCER_LLM_IDLE_TIMEOUT_MS="300")
    s = AgentSession.create(server, mock_llm, steps=[
        {"text": "stalls between chunks", "chunk_size": 4, "chunk_delay_ms": 1000},
        {"text": "quick"},
    ])
    done = s.run("go", timeout=10)
    assert done["output"] == "quick"
    assert len(s.llm_requests()) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_401_fails_naming_the_key_variable(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"status": 401, "error": {"message": "invalid api key"}},
        {"text": "never"},
    ])
    done = s.run("go", expect="failed")
    assert KEY_ENV[fmt] in done["error"], done["error"]
    assert len(s.llm_requests()) == 1, "auth errors must not be retried"


@pytest.mark.parametrize("fmt,error", [
    ("openai", {"message": "This model's maximum context length is 128000 tokens. However, "
                           "your messages resulted in 200000 tokens.",
                "code": "context_length_exceeded", "type": "invalid_request_error"}),
    ("anthropic", {"type": "invalid_request_error",
                   "message": "prompt is too long: 250000 tokens > 200000 maximum"}),
])
def test_context_overflow_fails_with_a_clear_message(llm_server, mock_llm, fmt, error):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt],
                            steps=[{"status": 400, "error": error}, {"text": "never"}])
    done = s.run("go", expect="failed")
    assert re.search(r"context", done["error"], re.I), done["error"]
    assert len(s.llm_requests()) == 1, "a context overflow must not be retried"


def test_missing_api_key_fails_the_session_not_the_server(llm_server, mock_llm):
    server = llm_server(ANTHROPIC_API_KEY=None)
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-mock")
    done = s.run("go", expect="failed")
    assert "ANTHROPIC_API_KEY" in done["error"], done["error"]
    assert s.llm_requests() == []
    assert server.running()
    assert server.get("/healthz").status_code == 200
    # Other providers still work on the same server.
    other = AgentSession.create(server, mock_llm, model="openai/mock-model",
                                steps=[{"text": "fine"}])
    assert other.run("go")["output"] == "fine"


def test_unknown_provider_prefix_fails_naming_it(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="nosuchprovider/some-model")
    done = s.run("go", expect="failed")
    assert "nosuchprovider" in done["error"], done["error"]
    assert server.get("/healthz").status_code == 200


def test_model_without_provider_prefix_fails_cleanly(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="gpt-4o")
    done = s.run("go", expect="failed")
    assert "gpt-4o" in done["error"], done["error"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_is_not_terminal(llm_server, mock_llm, fmt):
    server = llm_server(PINCER_LLM_MAX_RETRIES="0")
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"status": 500, "error": {"message": "boom"}},
        {"text": "back on track"},
    ])
    failed = s.run("first", expect="failed")
    assert failed["error"]
    r = s.post("second")
    assert r.status_code == 200, r.text
    assert r.json() == {"session_id": s.id, "session_status": "starting", "queued": False}
    assert s.get()["error"] is None  # cleared as soon as the new turn starts
    done = s.wait()
    assert done["status"] == "idle"
    assert done["error"] is None
    assert done["output"] == "back on track"
    assert done["turns"] == 2
    # The failed turn's user message stays in the history of the next one.
    assert "first" in str(s.llm_requests()[-1]["messages"])


def test_failure_drops_queued_messages(llm_server, mock_llm):
    server = llm_server(PINCER_LLM_MAX_RETRIES="0")
    s = AgentSession.create(server, mock_llm, steps=[
        {"status": 400, "error": {"message": "bad request"}, "delay_ms": 500},
        {"text": "should not be used by the queued message"},
    ])
    s.send("first")
    assert s.send("queued")["queued"] is True
    done = s.wait()
    assert done["status"] == "failed"
    assert len(s.llm_requests()) == 1
    assert [e["content"] for e in s.events() if e["type"] == "user.message"] == ["first"]


def test_unreachable_provider_is_retried_then_fails_clearly(make_server, mock_llm):
    import socket as _socket
    from conftest import llm_env
    probe = _socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    server = make_server(**llm_env(mock_llm, OPENAI_BASE_URL=f"http://127.0.0.1:{dead_port}/v1",
                                   PINCER_LLM_MAX_RETRIES="2"))
    s = AgentSession.create(server, mock_llm, model="openai/mock-model")
    done = s.run("go", expect="failed")
    assert "openai" in done["error"], done["error"]
    assert re.search(r"unreachable|connect|refused", done["error"], re.I), done["error"]
    assert "3 attempts" in done["error"], done["error"]
    assert server.get("/healthz").status_code == 200
