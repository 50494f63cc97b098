"""The agent loop: multi-step turns with tools, the conversation sent on each step, tools
offered, tool errors, usage and cost roll-up, output, and the step cap. Both wire formats."""

from __future__ import annotations

import json

import pytest

from conftest import AgentSession, assert_dense

FORMATS = {"openai": "openai/mock-model", "anthropic": "anthropic/claude-mock"}
TEST_TOOLS = {"test_echo", "test_sleep", "test_fail"}


# --- reading requests in either wire format ----------------------------------------------------

def system_prompt(body: dict) -> str | None:
    if "system" in body:  # Anthropic
        s = body["system"]
        return s if isinstance(s, str) else "".join(b["text"] for b in s)
    first = body["messages"][0]
    return first["content"] if first["role"] == "system" else None


def tool_names(body: dict) -> list[str]:
    out = []
    for t in body.get("tools", []):
        out.append(t["function"]["name"] if "function" in t else t["name"])
    return out


def normalise(body: dict) -> list[tuple]:
    """The conversation as (kind, …) tuples, the same for both wire formats:
    ("user", text), ("assistant", text), ("call", id, name, args), ("result", id, text, is_error).
    """
    out: list[tuple] = []
    for m in body["messages"]:
        role = m["role"]
        if role == "system":
            continue
        if role == "tool":  # OpenAI tool result
            out.append(("result", m["tool_call_id"], m["content"], None))
            continue
        content = m.get("content")
        if isinstance(content, str) or content is None:
            if content:
                out.append((role, content))
            for c in m.get("tool_calls") or []:
                out.append(("call", c["id"], c["function"]["name"],
                            json.loads(c["function"]["arguments"] or "{}")))
            continue
        for b in content:
            t = b["type"]
            if t == "text":
                out.append((role, b["text"]))
            elif t == "tool_use":
                out.append(("call", b["id"], b["name"], b["input"]))
            elif t == "tool_result":
                text = b["content"] if isinstance(b["content"], str) else \
                    "".join(x["text"] for x in b["content"])
                out.append(("result", b["tool_use_id"], text, b.get("is_error", False)))
    return out


def without_errors_flag(convo: list[tuple]) -> list[tuple]:
    return [c[:3] if c[0] == "result" else c for c in convo]


# --- tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_multi_step_turn_with_tool_calls(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], instructions="Be terse.",
                            steps=[
        {"text": "Let me echo.",
         "tool_calls": [{"name": "test_echo", "arguments": {"text": "first"}, "id": "call_one"}]},
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "second"}, "id": "call_two"},
                        {"name": "test_echo", "arguments": {"text": "third"}, "id": "call_three"}]},
        {"text": "All done."},
    ])
    done = s.run("please echo things")
    assert done["output"] == "All done."
    assert done["error"] is None

    reqs = s.llm_requests()
    assert len(reqs) == 3
    for body in reqs:
        assert system_prompt(body) == f"Be terse. [mock:{s.key}]"
        assert body["stream"] is True
    assert without_errors_flag(normalise(reqs[0])) == [("user", "please echo things")]
    assert without_errors_flag(normalise(reqs[1])) == [
        ("user", "please echo things"),
        ("assistant", "Let me echo."),
        ("call", "call_one", "test_echo", {"text": "first"}),
        ("result", "call_one", "first"),
    ]
    assert without_errors_flag(normalise(reqs[2])) == without_errors_flag(normalise(reqs[1])) + [
        ("call", "call_two", "test_echo", {"text": "second"}),
        ("call", "call_three", "test_echo", {"text": "third"}),
        ("result", "call_two", "second"),
        ("result", "call_three", "third"),
    ]

    events = s.events()
    assert_dense(events)
    kinds = [(e["type"], e.get("tool_call_id")) for e in events
             if e["type"].startswith(("agent.", "user."))]
    assert kinds == [
        ("user.message", None),
        ("agent.message", None), ("agent.tool_use", "call_one"), ("agent.tool_result", "call_one"),
        ("agent.tool_use", "call_two"), ("agent.tool_use", "call_three"),
        ("agent.tool_result", "call_two"), ("agent.tool_result", "call_three"),
        ("agent.message", None),
    ]
    results = {e["tool_call_id"]: e for e in events if e["type"] == "agent.tool_result"}
    assert {k: (v["content"], v["is_error"], v["tool_name"]) for k, v in results.items()} == {
        "call_one": ("first", False, "test_echo"),
        "call_two": ("second", False, "test_echo"),
        "call_three": ("third", False, "test_echo"),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_later_turns_carry_the_whole_conversation(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "x"}, "id": "call_a"}]},
        {"text": "turn one done"},
        {"text": "turn two done"},
    ])
    s.run("turn one")
    s.run("turn two")
    reqs = s.llm_requests()
    assert len(reqs) == 3
    assert without_errors_flag(normalise(reqs[2])) == [
        ("user", "turn one"),
        ("call", "call_a", "test_echo", {"text": "x"}),
        ("result", "call_a", "x"),
        ("assistant", "turn one done"),
        ("user", "turn two"),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_tools_offered_are_the_agents_tools(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], tools=["test_echo"],
                            steps=[{"text": "ok"}])
    s.run("hi")
    body = s.llm_requests()[0]
    assert tool_names(body) == ["test_echo"]
    tool = body["tools"][0]
    schema = tool["function"]["parameters"] if "function" in tool else tool["input_schema"]
    assert schema["type"] == "object" and "text" in schema["properties"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_agent_without_tools_gets_every_tool(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[{"text": "ok"}])
    s.run("hi")
    builtin = {"bash", "read", "write", "edit", "glob", "grep", "web_fetch"}
    assert set(tool_names(s.llm_requests()[0])) == TEST_TOOLS | builtin


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_tool_gets_an_error_result_and_the_turn_continues(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], tools=["test_echo"], steps=[
        {"tool_calls": [{"name": "no_such_tool", "arguments": {"a": 1}, "id": "call_x"}]},
        {"text": "recovered"},
    ])
    done = s.run("call something odd")
    assert done["status"] == "idle" and done["output"] == "recovered"
    result = next(e for e in s.events() if e["type"] == "agent.tool_result")
    assert result["tool_call_id"] == "call_x"
    assert result["tool_name"] == "no_such_tool"
    assert result["is_error"] is True
    assert "no_such_tool" in result["content"]
    second = normalise(s.llm_requests()[1])
    res = [c for c in second if c[0] == "result"]
    assert len(res) == 1 and res[0][1] == "call_x" and "no_such_tool" in res[0][2]
    if fmt == "anthropic":
        assert res[0][3] is True


def test_tool_not_enabled_for_the_agent_is_not_run(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, tools=["test_echo"], steps=[
        {"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 60000}, "id": "call_s"}]},
        {"text": "fine"},
    ])
    done = s.run("sleep please", timeout=5)
    assert done["output"] == "fine"
    result = next(e for e in s.events() if e["type"] == "agent.tool_result")
    assert result["is_error"] is True


@pytest.mark.parametrize("fmt", FORMATS)
def test_failing_tool_result_is_error(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"tool_calls": [{"name": "test_fail", "arguments": {"message": "disk on fire"},
                         "id": "call_f"}]},
        {"text": "noted the failure"},
    ])
    done = s.run("try it")
    assert done["status"] == "idle"
    assert done["output"] == "noted the failure"
    result = next(e for e in s.events() if e["type"] == "agent.tool_result")
    assert result["is_error"] is True
    assert result["content"] == "disk on fire"
    res = [c for c in normalise(s.llm_requests()[1]) if c[0] == "result"]
    assert res[0][1:3] == ("call_f", "disk on fire")
    if fmt == "anthropic":
        assert res[0][3] is True


def test_tool_use_event_shape(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "shape"}, "id": "call_shape"}]},
        {"text": "ok"},
    ])
    s.run("go")
    use = next(e for e in s.events() if e["type"] == "agent.tool_use")
    assert use["content"] == "test_echo"
    assert use["tool_name"] == "test_echo"
    assert use["tool_call_id"] == "call_shape"
    assert use["tool_arguments"] == {"text": "shape"}


def test_malformed_tool_arguments_do_not_break_the_turn(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": "{not json", "id": "call_bad"}]},
        {"text": "survived"},
    ])
    done = s.run("go")
    assert done["status"] == "idle" and done["output"] == "survived"
    assert any(e["type"] == "agent.tool_result" and e["tool_call_id"] == "call_bad"
               for e in s.events())


def test_usage_is_rolled_up_over_every_step_with_prices(llm_server, mock_llm):
    server = llm_server()
    # openai/gpt-4o: $2.50 input, $10 output, $1.25 cached input per 1M tokens.
    s = AgentSession.create(server, mock_llm, model="openai/gpt-4o", steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "a"}}],
         "usage": {"input": 1000, "output": 200, "cache_read": 400}},
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "b"}}],
         "usage": {"input": 3000, "output": 500}},
        {"text": "done", "usage": {"input": 5000, "output": 100, "cache_read": 1000}},
    ])
    done = s.run("count")
    steps = [(1000, 200, 400), (3000, 500, 0), (5000, 100, 1000)]
    cost = lambda i, o, c: (i * 2.5 + o * 10.0 + c * 1.25) / 1e6
    assert done["tokens"]["input"] == sum(i + c for i, _, c in steps)
    assert done["tokens"]["output"] == sum(o for _, o, _ in steps)
    assert done["cost_usd"] == pytest.approx(sum(cost(*x) for x in steps), rel=1e-9)

    # Each step's event carries its own usage, cost and model.
    carriers = [e for e in s.events() if "tokens" in e]
    assert len(carriers) == 3
    for e, (i, o, c) in zip(carriers, steps):
        assert e["tokens"]["input"] == i + c and e["tokens"]["output"] == o
        assert e["cost_usd"] == pytest.approx(cost(i, o, c), rel=1e-9)
        assert e["model"] == "openai/gpt-4o"

    # A second turn adds to the totals.
    s.run("again", steps=[{"text": "more", "usage": {"input": 10, "output": 10}}])
    after = s.get()
    assert after["tokens"]["input"] == done["tokens"]["input"] + 10
    assert after["tokens"]["output"] == done["tokens"]["output"] + 10
    assert after["cost_usd"] == pytest.approx(done["cost_usd"] + cost(10, 10, 0), rel=1e-9)


def test_anthropic_usage_with_cache_is_priced(llm_server, mock_llm):
    server = llm_server()
    # anthropic/claude-sonnet-4-6: $3 input, $15 output, $0.30 cache read, $3.75 cache write.
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-sonnet-4-6", steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "a"}}],
         "usage": {"input": 100, "output": 50, "cache_read": 2000, "cache_write": 500}},
        {"text": "done", "usage": {"input": 300, "output": 70, "cache_read": 2500}},
    ])
    done = s.run("go")
    steps = [(100, 50, 2000, 500), (300, 70, 2500, 0)]
    cost = lambda i, o, r, w: (i * 3.0 + o * 15.0 + r * 0.30 + w * 3.75) / 1e6
    assert done["tokens"]["input"] == sum(i + r + w for i, _, r, w in steps)
    assert done["tokens"]["output"] == 120
    assert done["cost_usd"] == pytest.approx(sum(cost(*x) for x in steps), rel=1e-9)


def test_provider_reported_cost_wins(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="openai/gpt-4o", steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "a"}}],
         "usage": {"input": 1000, "output": 10}, "cost": 0.25},
        {"text": "done", "usage": {"input": 1000, "output": 10}, "cost": 0.5},
    ])
    done = s.run("go")
    assert done["cost_usd"] == pytest.approx(0.75)
    carriers = [e["cost_usd"] for e in s.events() if "cost_usd" in e]
    assert carriers == [pytest.approx(0.25), pytest.approx(0.5)]


def test_unpriced_model_costs_nothing_but_counts_tokens(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="openai/not-in-the-price-table",
                            steps=[{"text": "x", "usage": {"input": 100, "output": 20}}])
    done = s.run("go")
    assert done["tokens"]["input"] == 100 and done["tokens"]["output"] == 20
    assert done["cost_usd"] == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_the_last_agent_message(llm_server, mock_llm, fmt):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[
        {"text": "thinking out loud", "tool_calls": [{"name": "test_echo",
                                                      "arguments": {"text": "z"}}]},
        {"text": "the final answer"},
    ])
    done = s.run("go")
    assert done["output"] == "the final answer"
    msgs = [e["content"] for e in s.events() if e["type"] == "agent.message"]
    assert msgs == ["thinking out loud", "the final answer"]
    done = s.run("next", steps=[{"text": "newer answer"}])
    assert done["output"] == "newer answer"


@pytest.mark.parametrize("fmt", FORMATS)
def test_step_cap_fails_the_turn(llm_server, mock_llm, fmt):
    server = llm_server(PINCER_MAX_STEPS="3")
    loop = {"tool_calls": [{"name": "test_echo", "arguments": {"text": "again"}}]}
    s = AgentSession.create(server, mock_llm, model=FORMATS[fmt], steps=[loop] * 6)
    done = s.run("loop forever", expect="failed")
    assert done["error"], done
    assert "3" in done["error"] and ("PINCER_MAX_STEPS" in done["error"] or "step" in done["error"]), \
        done["error"]
    assert len(s.llm_requests()) == 3
    events = s.events()
    assert_dense(events)
    assert events[-1]["type"] == "session.status_failed"
    assert sum(e["type"] == "agent.tool_use" for e in events) == 3
    assert sum(e["type"] == "agent.tool_result" for e in events) == 3
    # The next post starts a new turn (failed is not terminal).
    mock_llm.clear_script(s.key)
    done = s.run("stop now", steps=[{"text": "stopped"}])
    assert done["error"] is None and done["output"] == "stopped"


def test_thinking_is_persisted_and_echoed_back_to_anthropic(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-mock", thinkingLevel="low",
                            steps=[
        {"thinking": "I should echo", "tool_calls": [{"name": "test_echo",
                                                       "arguments": {"text": "t"}}]},
        {"thinking": "now answer", "text": "answered"},
    ])
    done = s.run("think and act")
    assert done["status"] == "idle", done  # the mock rejects a thinking block without signature
    thinking = [e for e in s.events() if e["type"] == "agent.thinking"]
    assert [e["content"] for e in thinking] == ["I should echo", "now answer"]
    for e in thinking:
        assert not any(k.startswith("_") for k in e), e
    second = s.llm_requests()[1]
    blocks = second["messages"][1]["content"]
    assert blocks[0]["type"] == "thinking" and blocks[0]["thinking"] == "I should echo"
    assert blocks[0]["signature"]


def test_openai_reasoning_content_becomes_thinking(llm_server, mock_llm):
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="openai/o-mock",
                            steps=[{"thinking": "reasoning here", "text": "answer"}])
    s.run("go")
    types = [(e["type"], e["content"]) for e in s.events()
             if e["type"] in ("agent.thinking", "agent.message")]
    assert types == [("agent.thinking", "reasoning here"), ("agent.message", "answer")]


def test_loop_metrics(llm_server, mock_llm):
    from conftest import metric_value
    server = llm_server()
    s = AgentSession.create(server, mock_llm, model="anthropic/claude-mock", steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": "a"}},
                        {"name": "test_fail", "arguments": {"message": "b"}}]},
        {"text": "done"},
    ])
    s.run("go")
    m = server.metrics()
    assert metric_value(m, "llm_requests_total", provider="anthropic", outcome="ok") == 2
    assert metric_value(m, "tool_calls_total", tool="test_echo", outcome="ok") == 1
    assert metric_value(m, "tool_calls_total", tool="test_fail", outcome="error") == 1
    assert metric_value(m, "sessions_running") == 0


def test_large_tool_output_is_truncated(llm_server, mock_llm):
    server = llm_server()
    big = "0123456789" * 15_000  # 150 kB
    s = AgentSession.create(server, mock_llm, steps=[
        {"tool_calls": [{"name": "test_echo", "arguments": {"text": big}}], "chunk_size": 100_000},
        {"text": "ok"},
    ])
    s.run("echo a lot")
    result = next(e for e in s.events() if e["type"] == "agent.tool_result")
    assert len(result["content"]) < len(big)
    assert result["content"].startswith(big[:1000])
    assert "truncated" in result["content"]
    sent = [c for c in normalise(s.llm_requests()[1]) if c[0] == "result"][0][2]
    assert sent == result["content"]


def test_many_sessions_run_concurrently_without_cross_talk(llm_server, mock_llm):
    server = llm_server()
    sessions = []
    for i in range(20):
        model = "openai/mock-model" if i % 2 else "anthropic/claude-mock"
        sessions.append(AgentSession.create(server, mock_llm, model=model, steps=[
            {"tool_calls": [{"name": "test_echo", "arguments": {"text": f"echo-{i}"}}],
             "delay_ms": 50},
            {"tool_calls": [{"name": "test_sleep", "arguments": {"ms": 50}}]},
            {"text": f"answer-{i}"},
        ]))
    for i, s in enumerate(sessions):
        s.send(f"question-{i}")
    for i, s in enumerate(sessions):
        done = s.wait(timeout=15)
        assert done["status"] == "idle" and done["output"] == f"answer-{i}", done
        events = s.events()
        assert_dense(events)
        assert f"echo-{i}" in [e["content"] for e in events if e["type"] == "agent.tool_result"]
        for body in s.llm_requests():
            assert f"question-{i}" in str(body["messages"])
            for j in range(20):
                if j != i:
                    assert f"question-{j}" not in str(body["messages"]).replace(
                        f"question-{i}", "")
