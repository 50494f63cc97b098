"""Agent quotas (maxTokensPerSession, maxCostUsdPerSession, maxWallDurationMs): checked before
each turn, 429 quota_exceeded, and quota_rejections_total{kind} (seed contract §5.7)."""

from __future__ import annotations

import time

import pytest

from conftest import AgentSession, metric_value, poll


def rejections(server, kind: str) -> float:
    return metric_value(server.metrics(), "quota_rejections_total", kind=kind) or 0.0


def assert_quota_429(r, fragment: str) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error"] == "quota_exceeded", body
    assert fragment in body.get("message", ""), body


def test_max_tokens_per_session(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, quota={"maxTokensPerSession": 100},
                            steps=[{"text": "big", "usage": {"input": 80, "output": 30}}])
    done = s.run("first turn is allowed")  # a soft ceiling: this turn overshoots
    assert done["tokens"]["input"] + done["tokens"]["output"] == 110
    assert rejections(server, "tokens") == 0

    r = s.post("second turn")
    assert_quota_429(r, "100")
    after = s.get()
    assert after["turns"] == 1 and after["status"] == "idle"
    assert [e["type"] for e in s.events()].count("user.message") == 1
    assert len(s.llm_requests()) == 1
    assert rejections(server, "tokens") == 1
    assert_quota_429(s.post("third"), "100")
    assert rejections(server, "tokens") == 2


def test_max_tokens_not_reached_allows_turns(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, quota={"maxTokensPerSession": 1000},
                            steps=[{"text": "a", "usage": {"input": 10, "output": 5}},
                                   {"text": "b", "usage": {"input": 10, "output": 5}}])
    s.run("one")
    s.run("two")
    assert s.get()["turns"] == 2


def test_max_cost_per_session(llm_server, mock_llm):
    server = llm_server()
    # openai/gpt-4o: 100k input tokens at $2.50/M = $0.25 > $0.10.
    s = AgentSession.create(server, mock_llm, model="openai/gpt-4o",
                            quota={"maxCostUsdPerSession": 0.1},
                            steps=[{"text": "pricey", "usage": {"input": 100000, "output": 10}}])
    done = s.run("spend")
    assert done["cost_usd"] > 0.1
    r = s.post("spend more")
    assert_quota_429(r, s.id)
    assert rejections(server, "cost") == 1
    assert rejections(server, "tokens") == 0
    assert s.get()["turns"] == 1


def test_max_cost_with_provider_reported_cost(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="openai/unpriced-model",
                            quota={"maxCostUsdPerSession": 0.5},
                            steps=[{"text": "a", "cost": 0.3}, {"text": "b", "cost": 0.3}])
    s.run("one")  # $0.30 < $0.50
    s.run("two")  # $0.60 now
    assert s.get()["cost_usd"] == pytest.approx(0.6)
    assert_quota_429(s.post("three"), s.id)
    assert rejections(server, "cost") == 1


def test_max_wall_duration(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, quota={"maxWallDurationMs": 1500},
                            steps=[{"text": "quick"}])
    s.run("within the window")
    created = s.get()["created_at"]
    # Wait (by polling the clock) until the session is older than its wall-time quota.
    poll(lambda: time.time() * 1000 - created >= 1600, timeout=5, interval=0.05,
         message="the wall-time quota to pass")
    r = s.post("too late")
    assert_quota_429(r, "1500")
    assert rejections(server, "duration") == 1
    assert s.get()["turns"] == 1


def test_quota_is_checked_before_queueing(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, quota={"maxTokensPerSession": 50}, steps=[
        {"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 60000}}],
         "usage": {"input": 100, "output": 10}},
    ])
    s.send("use up the quota")
    # Once the first step's usage is recorded the session is over quota while still running.
    poll(lambda: s.get()["tokens"]["input"] >= 100, message="the first step's usage")
    r = s.post("try to queue")
    assert_quota_429(r, "50")
    assert s.get()["turns"] == 1
    assert server.post(s.path + "/cancel").status_code == 200


def test_quota_metric_counts_each_kind_separately(llm_server, mock_llm):
    server = llm_server()
    t = AgentSession.create(server, mock_llm, quota={"maxTokensPerSession": 1},
                            steps=[{"text": "x", "usage": {"input": 5, "output": 5}}])
    t.run("go")
    for _ in range(3):
        assert t.post("again").status_code == 429
    samples = server.metrics()
    assert metric_value(samples, "quota_rejections_total", kind="tokens") == 3
    assert (metric_value(samples, "quota_rejections_total", kind="cost") or 0) == 0
    assert (metric_value(samples, "quota_rejections_total", kind="duration") or 0) == 0


def test_queued_turn_over_quota_is_not_run(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, quota={"maxTokensPerSession": 50}, steps=[
        {"text": "expensive", "usage": {"input": 100, "output": 10}, "delay_ms": 500},
        {"text": "must not run"},
    ])
    s.send("first")
    assert s.send("queued while under quota")["queued"] is True
    done = s.wait()
    assert len(s.llm_requests()) == 1, "a queued turn ran although the session was over quota"
    assert done["status"] == "failed", done
    assert "quota" in done["error"], done
    # The quota still holds for new posts.
    assert_quota_429(s.post("again"), "50")
