"""Tests of pincer-mock-llm itself: both wire formats, streaming and not, over raw HTTP.

The mock stands in for the OpenAI and Anthropic APIs in Pincer's functional tests and
benchmarks, so these tests pin its wire formats and its scripting behaviour.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
import requests

from conftest import poll
from mock_llm_client import MockLLM, MockLLMError

OA_HEADERS = {"authorization": "Bearer mock-key", "content-type": "application/json"}
AN_HEADERS = {"x-api-key": "mock-key", "anthropic-version": "2023-06-01",
              "content-type": "application/json"}


@pytest.fixture(scope="module")
def mock_process():
    with MockLLM() as mock:
        yield mock


@pytest.fixture
def mock(mock_process):
    mock_process.reset()
    yield mock_process
    assert mock_process.proc.poll() is None, mock_process.stderr()


# --- helpers ----------------------------------------------------------------------------------

def openai(mock: MockLLM, body: dict[str, Any], headers: dict[str, str] | None = None,
           path: str = "/v1/chat/completions", **kw) -> requests.Response:
    return requests.post(mock.base_url + path, data=json.dumps(body),
                         headers=OA_HEADERS if headers is None else headers,
                         timeout=kw.pop("timeout", 10), **kw)


def anthropic(mock: MockLLM, body: dict[str, Any], headers: dict[str, str] | None = None,
              **kw) -> requests.Response:
    return requests.post(mock.base_url + "/v1/messages", data=json.dumps(body),
                         headers=AN_HEADERS if headers is None else headers,
                         timeout=kw.pop("timeout", 10), **kw)


def oa_body(text: str = "hi", key: str | None = None, **extra) -> dict[str, Any]:
    system = "You are an agent." + (f" [mock:{key}]" if key else "")
    body = {"model": "gpt-test", "messages": [{"role": "system", "content": system},
                                              {"role": "user", "content": text}]}
    body.update(extra)
    return body


def an_body(text: str = "hi", key: str | None = None, **extra) -> dict[str, Any]:
    body = {"model": "claude-test", "max_tokens": 4096,
            "system": "You are an agent." + (f" [mock:{key}]" if key else ""),
            "messages": [{"role": "user", "content": text}]}
    body.update(extra)
    return body


def read_sse(resp: requests.Response) -> tuple[list[tuple[str | None, str]], Exception | None]:
    """(event name, data) pairs in order, and the exception that ended the read, if any."""
    events: list[tuple[str | None, str]] = []
    name, data = None, []
    error = None
    try:
        for raw in resp.iter_lines(decode_unicode=False):
            line = raw.decode()
            if line == "":
                if data:
                    events.append((name, "\n".join(data)))
                name, data = None, []
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as e:
        error = e
    return events, error


def openai_chunks(resp: requests.Response) -> tuple[list[dict], bool]:
    """Parsed chunk objects and whether the stream ended with [DONE]."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    events, _ = read_sse(resp)
    done = bool(events) and events[-1][1] == "[DONE]"
    chunks = [json.loads(d) for _, d in events if d != "[DONE]"]
    assert all(name is None for name, _ in events)
    return chunks, done


def assemble_openai(chunks: list[dict]) -> dict[str, Any]:
    """Rebuilds the message the way an OpenAI client does."""
    out: dict[str, Any] = {"content": "", "reasoning": "", "tool_calls": {}, "finish": None,
                           "usage": None, "role": None}
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["id"] == chunks[0]["id"] and c["id"].startswith("chatcmpl-")
        if c.get("usage"):
            assert c["choices"] == []
            out["usage"] = c["usage"]
            continue
        (choice,) = c["choices"]
        delta = choice["delta"]
        out["role"] = out["role"] or delta.get("role")
        out["content"] += delta.get("content") or ""
        out["reasoning"] += delta.get("reasoning_content") or ""
        for tc in delta.get("tool_calls") or []:
            slot = out["tool_calls"].setdefault(tc["index"], {"id": None, "name": None,
                                                              "arguments": ""})
            if "id" in tc:
                slot["id"] = tc["id"]
                assert tc["type"] == "function"
            fn = tc.get("function") or {}
            if fn.get("name"):
                slot["name"] = fn["name"]
            slot["arguments"] += fn.get("arguments") or ""
        if choice["finish_reason"] is not None:
            out["finish"] = choice["finish_reason"]
    return out


def assemble_anthropic(events: list[tuple[str | None, str]]) -> dict[str, Any]:
    """Rebuilds the message the way an Anthropic client does; checks event/data agreement."""
    message: dict[str, Any] | None = None
    blocks: dict[int, dict[str, Any]] = {}
    open_blocks: set[int] = set()
    for name, data in events:
        obj = json.loads(data)
        assert obj["type"] == name, (name, obj)
        if name == "message_start":
            message = obj["message"]
            assert message["content"] == [] and message["stop_reason"] is None
        elif name == "content_block_start":
            blocks[obj["index"]] = dict(obj["content_block"])
            open_blocks.add(obj["index"])
            if blocks[obj["index"]]["type"] == "tool_use":
                blocks[obj["index"]]["partial_json"] = ""
        elif name == "content_block_delta":
            assert obj["index"] in open_blocks
            b, d = blocks[obj["index"]], obj["delta"]
            if d["type"] == "text_delta":
                b["text"] += d["text"]
            elif d["type"] == "thinking_delta":
                b["thinking"] += d["thinking"]
            elif d["type"] == "signature_delta":
                b["signature"] += d["signature"]
            elif d["type"] == "input_json_delta":
                b["partial_json"] += d["partial_json"]
            else:
                raise AssertionError(f"unknown delta {d}")
        elif name == "content_block_stop":
            open_blocks.remove(obj["index"])
            b = blocks[obj["index"]]
            if b["type"] == "tool_use":
                b["input"] = json.loads(b.pop("partial_json") or "{}")
        elif name == "message_delta":
            assert message is not None
            message["stop_reason"] = obj["delta"]["stop_reason"]
            message["stop_sequence"] = obj["delta"]["stop_sequence"]
            message["usage"]["output_tokens"] = obj["usage"]["output_tokens"]
        elif name == "message_stop":
            assert message is not None
            message["stopped"] = True
        elif name == "ping":
            pass
        else:
            raise AssertionError(f"unexpected event {name}")
    assert message is not None
    assert not open_blocks
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


# --- OpenAI Chat Completions ------------------------------------------------------------------

def test_openai_text_non_streaming(mock):
    mock.script("t", [{"text": "Hello there", "usage": {"input": 100, "output": 7,
                                                        "cache_read": 40, "cache_write": 5},
                       "cost": 0.0123}])
    r = openai(mock, oa_body(key="t"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers.get("x-request-id", "").startswith("req_")
    body = r.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-test"
    assert isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Hello there"
    assert "tool_calls" not in choice["message"]
    assert "reasoning_content" not in choice["message"]
    assert body["usage"] == {
        "prompt_tokens": 145, "completion_tokens": 7, "total_tokens": 152,
        "prompt_tokens_details": {"cached_tokens": 40},
        "completion_tokens_details": {"reasoning_tokens": 0},
        "cost": 0.0123,
    }


def test_openai_path_without_v1_prefix(mock):
    mock.script("p", [{"text": "ok"}])
    r = openai(mock, oa_body(key="p"), path="/chat/completions")
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "ok"


def test_openai_text_streaming_with_usage(mock):
    text = "The quick brown fox — jumps over the lazy dög."
    mock.script("s", [{"text": text, "chunk_size": 5, "usage": {"input": 10, "output": 12}}])
    r = openai(mock, oa_body(key="s", stream=True, stream_options={"include_usage": True}),
               stream=True)
    chunks, done = openai_chunks(r)
    assert done
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content_chunks = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content_chunks) == -(-len(text) // 5)  # ceil: 5 code points per delta
    msg = assemble_openai(chunks)
    assert msg["content"] == text
    assert msg["finish"] == "stop"
    assert msg["usage"]["prompt_tokens"] == 10
    assert msg["usage"]["completion_tokens"] == 12
    assert msg["usage"]["total_tokens"] == 22
    # The usage chunk comes right before [DONE]; before it every chunk carries usage: null.
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]
    assert all(c["usage"] is None for c in chunks[:-1])


def test_openai_streaming_without_usage(mock):
    mock.script("s", [{"text": "abc"}])
    r = openai(mock, oa_body(key="s", stream=True), stream=True)
    chunks, done = openai_chunks(r)
    assert done
    assert all("usage" not in c for c in chunks)
    assert assemble_openai(chunks)["content"] == "abc"


def test_openai_reasoning(mock):
    mock.script("r", [{"thinking": "Let me think about it.", "text": "42",
                       "usage": {"reasoning": 9, "output": 20}}] * 2)
    body = openai(mock, oa_body(key="r", reasoning_effort="high")).json()
    assert body["choices"][0]["message"]["reasoning_content"] == "Let me think about it."
    assert body["choices"][0]["message"]["content"] == "42"
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 9
    assert body["usage"]["completion_tokens"] == 20

    r = openai(mock, oa_body(key="r", stream=True, reasoning_effort="high"), stream=True)
    chunks, done = openai_chunks(r)
    msg = assemble_openai(chunks)
    assert msg["reasoning"] == "Let me think about it."
    assert msg["content"] == "42"
    # Reasoning deltas come before content deltas.
    kinds = [("r" if c["choices"][0]["delta"].get("reasoning_content") else "c")
             for c in chunks if c["choices"] and (c["choices"][0]["delta"].get("reasoning_content")
                                                  or c["choices"][0]["delta"].get("content"))]
    assert kinds == sorted(kinds, key=lambda k: k != "r")


TOOL_ARGS = {"command": "ls -la /tmp && echo \"done\"", "timeout": 30,
             "nested": {"list": [1, 2.5, None, True], "unicode": "naïve ☃"}}


def test_openai_tool_calls_non_streaming(mock):
    mock.script("tc", [{"text": "", "tool_calls": [
        {"name": "bash", "arguments": TOOL_ARGS, "id": "call_fixed1"},
        {"name": "read_file", "arguments": {"path": "/etc/hosts"}}]}])
    body = openai(mock, oa_body(key="tc")).json()
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["content"] is None
    assert [t["type"] for t in msg["tool_calls"]] == ["function", "function"]
    assert msg["tool_calls"][0]["id"] == "call_fixed1"
    assert msg["tool_calls"][1]["id"].startswith("call_")
    assert msg["tool_calls"][0]["function"]["name"] == "bash"
    assert isinstance(msg["tool_calls"][0]["function"]["arguments"], str)
    assert json.loads(msg["tool_calls"][0]["function"]["arguments"]) == TOOL_ARGS
    assert json.loads(msg["tool_calls"][1]["function"]["arguments"]) == {"path": "/etc/hosts"}


def test_openai_tool_calls_streaming(mock):
    mock.script("tc", [{"text": "Running it.", "chunk_size": 3, "tool_calls": [
        {"name": "bash", "arguments": TOOL_ARGS},
        {"name": "read_file", "arguments": {"path": "/etc/hosts"}}]}])
    r = openai(mock, oa_body(key="tc", stream=True), stream=True)
    chunks, done = openai_chunks(r)
    assert done
    msg = assemble_openai(chunks)
    assert msg["content"] == "Running it."
    assert msg["finish"] == "tool_calls"
    assert sorted(msg["tool_calls"]) == [0, 1]
    first, second = msg["tool_calls"][0], msg["tool_calls"][1]
    assert first["name"] == "bash" and first["id"].startswith("call_")
    assert json.loads(first["arguments"]) == TOOL_ARGS
    assert second["name"] == "read_file"
    assert json.loads(second["arguments"]) == {"path": "/etc/hosts"}
    # The opening delta of a call carries id, type and name with empty arguments; fragments
    # after it carry only the index and an arguments piece.
    tool_deltas = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks
                   if c["choices"] and c["choices"][0]["delta"].get("tool_calls")]
    assert tool_deltas[0]["function"] == {"name": "bash", "arguments": ""}
    assert "id" not in tool_deltas[1] and set(tool_deltas[1]["function"]) == {"arguments"}
    assert len([d for d in tool_deltas if d["index"] == 0]) > 2


def test_openai_tool_only_stream_and_raw_arguments(mock):
    mock.script("tc", [{"tool_calls": [{"name": "bash", "arguments": "{\"cmd\": \"ls"}]}])
    chunks, done = openai_chunks(openai(mock, oa_body(key="tc", stream=True), stream=True))
    assert done
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None,
                                                "refusal": None}
    msg = assemble_openai(chunks)
    assert msg["content"] == ""
    # A raw string argument is sent verbatim, malformed JSON included.
    assert msg["tool_calls"][0]["arguments"] == '{"cmd": "ls'


def test_openai_scripted_errors(mock):
    mock.script("e", [
        {"status": 429, "error": {"message": "slow down"}, "headers": {"retry-after": "2"}},
        {"status": 500},
        {"status": 400, "error": {"type": "invalid_request_error", "message": "context too long",
                                  "code": "context_length_exceeded"}},
    ])
    r = openai(mock, oa_body(key="e"))
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert r.json() == {"error": {"message": "slow down", "type": "requests", "param": None,
                                  "code": "rate_limit_exceeded"}}
    r = openai(mock, oa_body(key="e", stream=True))
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "server_error"
    r = openai(mock, oa_body(key="e"))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "context_length_exceeded"
    assert r.json()["error"]["message"] == "context too long"


def test_openai_request_validation(mock):
    mock.script("v", [{"text": "ok"}])
    # No API key.
    r = openai(mock, oa_body(key="v"), headers={"content-type": "application/json"})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    # An assistant tool call without its tool message.
    body = oa_body(key="v")
    body["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "user", "content": "next"},
    ]
    r = openai(mock, body)
    assert r.status_code == 400
    assert "call_1" in r.json()["error"]["message"]
    # A tool message answering nothing.
    body = oa_body(key="v")
    body["messages"].append({"role": "tool", "tool_call_id": "call_x", "content": "out"})
    assert openai(mock, body).status_code == 400
    # Arguments sent back as an object instead of a JSON string.
    body = oa_body(key="v")
    body["messages"] += [
        {"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": {}}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "out"},
    ]
    r = openai(mock, body)
    assert r.status_code == 400 and "arguments" in r.json()["error"]["param"]
    # Malformed JSON and a missing model.
    r = requests.post(mock.base_url + "/v1/chat/completions", data="{nope", headers=OA_HEADERS)
    assert r.status_code == 400
    assert openai(mock, {"messages": [{"role": "user", "content": "x"}]}).status_code == 400
    # Rejected requests did not consume the step; a well-formed pairing is accepted.
    assert mock.pending("v") == 1
    body = oa_body(key="v")
    body["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "out"},
    ]
    r = openai(mock, body)
    assert r.status_code == 200, r.text
    assert mock.pending("v") == 0


def test_openai_fail_after_chunks_close(mock):
    mock.script("f", [{"text": "x" * 80, "chunk_size": 8, "fail_after_chunks": 4}])
    r = openai(mock, oa_body(key="f", stream=True), stream=True)
    assert r.status_code == 200
    events, _ = read_sse(r)
    # Exactly the first four events arrive, then the connection ends without [DONE].
    assert len(events) == 4
    assert all(d != "[DONE]" for _, d in events)
    assert assemble_openai([json.loads(d) for _, d in events])["finish"] is None


def test_openai_fail_after_chunks_error_event(mock):
    mock.script("f", [{"text": "x" * 80, "fail_after_chunks": 2, "fail_mode": "error_event",
                       "error": {"message": "upstream broke"}}])
    r = openai(mock, oa_body(key="f", stream=True), stream=True)
    events, _ = read_sse(r)
    assert len(events) == 3
    err = json.loads(events[-1][1])
    assert err["error"]["message"] == "upstream broke"
    assert err["error"]["type"] == "server_error"


def test_models_lists(mock):
    openai(mock, oa_body())
    r = requests.get(mock.base_url + "/v1/models", headers=OA_HEADERS, timeout=10)
    body = r.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "mock-model" in ids and "gpt-test" in ids
    assert all(m["object"] == "model" and m["owned_by"] == "mock" for m in body["data"])
    r = requests.get(mock.base_url + "/v1/models", headers=AN_HEADERS, timeout=10)
    body = r.json()
    assert body["has_more"] is False
    assert all(m["type"] == "model" for m in body["data"])


# --- Anthropic Messages -----------------------------------------------------------------------

def test_anthropic_text_non_streaming(mock):
    mock.script("a", [{"text": "Hi!", "usage": {"input": 30, "output": 4, "cache_read": 20,
                                                "cache_write": 10}}])
    r = anthropic(mock, an_body(key="a"))
    assert r.status_code == 200, r.text
    assert r.headers.get("request-id", "").startswith("req_")
    body = r.json()
    assert body["id"].startswith("msg_")
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == "claude-test"
    assert body["content"] == [{"type": "text", "text": "Hi!"}]
    assert body["stop_reason"] == "end_turn"
    assert body["stop_sequence"] is None
    assert body["usage"] == {"input_tokens": 30, "output_tokens": 4,
                             "cache_creation_input_tokens": 10, "cache_read_input_tokens": 20}


def test_anthropic_thinking_text_and_tools_non_streaming(mock):
    mock.script("a", [{"thinking": "Plan: list files.", "text": "Listing.",
                       "tool_calls": [{"name": "bash", "arguments": TOOL_ARGS},
                                      {"name": "noop", "id": "toolu_fixed"}]}])
    body = anthropic(mock, an_body(key="a", thinking={"type": "enabled",
                                                      "budget_tokens": 2048})).json()
    kinds = [b["type"] for b in body["content"]]
    assert kinds == ["thinking", "text", "tool_use", "tool_use"]
    thinking = body["content"][0]
    assert thinking["thinking"] == "Plan: list files." and thinking["signature"]
    tool = body["content"][2]
    assert tool["id"].startswith("toolu_") and tool["name"] == "bash"
    assert tool["input"] == TOOL_ARGS
    assert body["content"][3] == {"type": "tool_use", "id": "toolu_fixed", "name": "noop",
                                  "input": {}}
    assert body["stop_reason"] == "tool_use"


def test_anthropic_streaming_text(mock):
    mock.script("a", [{"text": "Streaming works ✓", "chunk_size": 4,
                       "usage": {"input": 11, "output": 5, "cache_read": 3}}])
    r = anthropic(mock, an_body(key="a", stream=True), stream=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events, error = read_sse(r)
    assert error is None
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    start = json.loads(events[0][1])["message"]["usage"]
    assert start == {"input_tokens": 11, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 3, "output_tokens": 1}
    msg = assemble_anthropic(events)
    assert msg["content"] == [{"type": "text", "text": "Streaming works ✓"}]
    assert msg["stop_reason"] == "end_turn"
    assert msg["usage"]["output_tokens"] == 5
    assert names.count("content_block_delta") == 5  # 17 code points / 4


def test_anthropic_streaming_thinking_and_tools(mock):
    mock.script("a", [{"thinking": "I should run a command.", "text": "Let me check.",
                       "chunk_size": 6, "tool_calls": [{"name": "bash", "arguments": TOOL_ARGS},
                                                       {"name": "ls", "arguments": {}}]}])
    r = anthropic(mock, an_body(key="a", stream=True,
                                thinking={"type": "enabled", "budget_tokens": 1024}), stream=True)
    events, _ = read_sse(r)
    msg = assemble_anthropic(events)
    assert [b["type"] for b in msg["content"]] == ["thinking", "text", "tool_use", "tool_use"]
    thinking = msg["content"][0]
    assert thinking["thinking"] == "I should run a command."
    assert thinking["signature"]
    assert msg["content"][1]["text"] == "Let me check."
    assert msg["content"][2]["name"] == "bash" and msg["content"][2]["input"] == TOOL_ARGS
    assert msg["content"][3]["input"] == {}
    assert msg["stop_reason"] == "tool_use"
    # Thinking deltas, then one signature delta, inside block 0.
    deltas = [json.loads(d)["delta"]["type"] for n, d in events
              if n == "content_block_delta" and json.loads(d)["index"] == 0]
    assert deltas[-1] == "signature_delta" and set(deltas[:-1]) == {"thinking_delta"}

    # Sending the thinking block back unchanged is accepted; a modified one is rejected.
    mock.script("a", [{"text": "ok"}, {"text": "ok"}])
    tool_uses = [b for b in msg["content"] if b["type"] == "tool_use"]
    history = an_body(key="a", thinking={"type": "enabled", "budget_tokens": 1024})
    history["messages"] += [
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": thinking["thinking"],
             "signature": thinking["signature"]},
            {"type": "text", "text": "Let me check."},
            *[{"type": "tool_use", "id": t["id"], "name": t["name"], "input": t["input"]}
              for t in tool_uses]]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": t["id"],
                                      "content": "output"} for t in tool_uses]},
    ]
    r = anthropic(mock, history)
    assert r.status_code == 200, r.text
    history["messages"][-2]["content"][0]["thinking"] += " (edited)"
    r = anthropic(mock, history)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "signature" in r.json()["error"]["message"]


def test_anthropic_scripted_errors(mock):
    mock.script("e", [{"status": 529}, {"status": 429, "error": {"message": "too many"}},
                      {"status": 400, "error": {"type": "invalid_request_error",
                                                "message": "prompt is too long"}}])
    r = anthropic(mock, an_body(key="e", stream=True))
    assert r.status_code == 529
    assert r.json()["type"] == "error"
    assert r.json()["error"]["type"] == "overloaded_error"
    r = anthropic(mock, an_body(key="e"))
    assert r.status_code == 429
    assert r.json() == {"type": "error", "error": {"type": "rate_limit_error",
                                                   "message": "too many"}}
    r = anthropic(mock, an_body(key="e"))
    assert r.json()["error"]["message"] == "prompt is too long"


def test_anthropic_request_validation(mock):
    mock.script("v", [{"text": "ok"}])
    r = anthropic(mock, an_body(key="v"), headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "authentication_error"
    r = anthropic(mock, an_body(key="v"), headers={"x-api-key": "k"})
    assert r.status_code == 400
    body = an_body(key="v")
    del body["max_tokens"]
    r = anthropic(mock, body)
    assert r.status_code == 400 and "max_tokens" in r.json()["error"]["message"]
    body = an_body(key="v", thinking={"type": "enabled", "budget_tokens": 512})
    assert anthropic(mock, body).status_code == 400
    # tool_use without a tool_result right after it.
    body = an_body(key="v")
    body["messages"] += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "bash",
                                           "input": {}}]},
        {"role": "user", "content": "and?"},
    ]
    r = anthropic(mock, body)
    assert r.status_code == 400 and "toolu_1" in r.json()["error"]["message"]
    # An empty text block.
    body = an_body(key="v")
    body["messages"][0]["content"] = [{"type": "text", "text": ""}]
    assert anthropic(mock, body).status_code == 400
    assert mock.pending("v") == 1
    # Bearer auth instead of x-api-key is accepted.
    r = anthropic(mock, an_body(key="v"), headers={"authorization": "Bearer k",
                                                   "anthropic-version": "2023-06-01"})
    assert r.status_code == 200, r.text
    assert mock.pending("v") == 0


def test_anthropic_fail_after_chunks_error_event(mock):
    mock.script("f", [{"text": "y" * 64, "fail_after_chunks": 5, "fail_mode": "error_event"}])
    r = anthropic(mock, an_body(key="f", stream=True), stream=True)
    events, _ = read_sse(r)
    assert len(events) == 6
    assert [n for n, _ in events[:3]] == ["message_start", "ping", "content_block_start"]
    name, data = events[-1]
    assert name == "error"
    assert json.loads(data) == {"type": "error", "error": {
        "type": "overloaded_error", "message": "mock: injected stream failure"}}


def test_anthropic_fail_after_chunks_close(mock):
    mock.script("f", [{"text": "y" * 64, "fail_after_chunks": 3}])
    r = anthropic(mock, an_body(key="f", stream=True), stream=True)
    events, _ = read_sse(r)
    assert [n for n, _ in events] == ["message_start", "ping", "content_block_start"]


# --- scripting --------------------------------------------------------------------------------

def test_echo_fallback_without_config(mock):
    body = openai(mock, oa_body("what is 2+2?")).json()
    assert body["choices"][0]["message"]["content"] == "echo: what is 2+2?"
    body = anthropic(mock, an_body("hello claude")).json()
    assert body["content"] == [{"type": "text", "text": "echo: hello claude"}]
    assert body["usage"]["input_tokens"] > 0 and body["usage"]["output_tokens"] > 0


def test_auto_mode_three_step_turn_openai(mock):
    mock.config(auto={"tool_steps": 3, "tool_name": "bash", "text": "all done"})
    body = oa_body("do the thing", tools=[{"type": "function", "function": {
        "name": "bash", "parameters": {"type": "object"}}}])
    for step in (1, 2, 3):
        msg = openai(mock, body).json()["choices"][0]
        assert msg["finish_reason"] == "tool_calls"
        (call,) = msg["message"]["tool_calls"]
        assert call["function"]["name"] == "bash"
        assert json.loads(call["function"]["arguments"]) == {"step": step}
        body["messages"] += [msg["message"],
                             {"role": "tool", "tool_call_id": call["id"], "content": "ok"}]
    final = openai(mock, body).json()["choices"][0]
    assert final["finish_reason"] == "stop"
    assert final["message"]["content"] == "all done"
    # A new user message starts a new turn.
    body["messages"] += [final["message"], {"role": "user", "content": "again"}]
    again = openai(mock, body).json()["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(again["function"]["arguments"]) == {"step": 1}


def test_auto_mode_three_step_turn_anthropic_streaming(mock):
    mock.config(auto={"tool_steps": 3})  # tool name defaults to the request's first tool
    body = an_body("go", stream=True, tools=[{"name": "read_file", "input_schema": {}},
                                             {"name": "bash", "input_schema": {}}])
    for step in (1, 2, 3):
        msg = assemble_anthropic(read_sse(anthropic(mock, body, stream=True))[0])
        assert msg["stop_reason"] == "tool_use"
        (tool,) = msg["content"]
        assert tool["name"] == "read_file" and tool["input"] == {"step": step}
        body["messages"] += [
            {"role": "assistant", "content": [{k: tool[k] for k in ("type", "id", "name",
                                                                    "input")}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool["id"],
                                          "content": "fine"}]},
        ]
    msg = assemble_anthropic(read_sse(anthropic(mock, body, stream=True))[0])
    assert msg["content"] == [{"type": "text", "text": "done"}]
    assert msg["stop_reason"] == "end_turn"
    assert mock.config(auto=None) == {"auto": None}
    assert openai(mock, oa_body("x")).json()["choices"][0]["message"]["content"] == "echo: x"


def test_marker_routing(mock):
    mock.script("alpha", [{"text": "from alpha"}])
    mock.script("beta.2", [{"text": "from beta"}])
    mock.script("default", [{"text": "from default"}])
    # Markers in the system prompt, in a later user message, and none at all.
    assert anthropic(mock, an_body(key="beta.2")).json()["content"][0]["text"] == "from beta"
    body = oa_body("please [mock:alpha] handle this")
    assert openai(mock, body).json()["choices"][0]["message"]["content"] == "from alpha"
    assert openai(mock, oa_body("plain")).json()["choices"][0]["message"]["content"] == \
        "from default"
    # The system prompt's marker wins over a message's, even when the message comes first.
    mock.script("sys", [{"text": "from sys"}])
    body = an_body("[mock:alpha] first", key="sys")
    assert anthropic(mock, body).json()["content"][0]["text"] == "from sys"
    # An exhausted key falls back to echo.
    assert anthropic(mock, an_body("again", key="beta.2")).json()["content"][0]["text"] == \
        "echo: again"
    stats = mock.stats()
    assert stats["requests_total"] == 5
    assert stats["by_key"] == {"beta.2": 2, "alpha": 1, "default": 1, "sys": 1}
    assert stats["pending"] == {}
    assert stats["pid"] == mock.proc.pid


def test_request_recording(mock):
    mock.script("rec", [{"text": "a"}, {"text": "b"}])
    openai(mock, oa_body("first", key="rec"), headers={**OA_HEADERS, "user-agent": "test/1",
                                                      "x-custom": "1"})
    anthropic(mock, an_body("second", key="rec"))
    openai(mock, oa_body("other"))
    reqs = mock.requests("rec")
    assert [r["path"] for r in reqs] == ["/v1/chat/completions", "/v1/messages"]
    assert reqs[0]["headers"] == {"authorization": "Bearer mock-key",
                                  "content-type": "application/json"}
    assert reqs[1]["headers"] == {"x-api-key": "mock-key", "anthropic-version": "2023-06-01",
                                  "content-type": "application/json"}
    assert reqs[0]["body"] == oa_body("first", key="rec")
    assert reqs[1]["body"]["messages"][0]["content"] == "second"
    assert reqs[0]["received_at_ms"] <= reqs[1]["received_at_ms"]
    assert abs(reqs[0]["received_at_ms"] / 1000 - time.time()) < 60
    assert len(mock.requests()) == 3
    assert len(mock.requests("default")) == 1
    mock.clear_requests()
    assert mock.requests() == []


def test_script_api(mock):
    assert mock.script("k", [{"text": "1"}, {"text": "2"}]) == {"key": "k", "added": 2,
                                                                "pending": 2}
    assert mock.script("k", [{"text": "3"}])["pending"] == 3
    assert mock.clear_script("k") == 3
    assert mock.pending("k") == 0
    with pytest.raises(MockLLMError) as e:
        mock.script("k", [{"txt": "typo"}])
    assert e.value.status == 400 and "txt" in e.value.body
    with pytest.raises(MockLLMError):
        mock.script("k", [{"status": 200}])
    with pytest.raises(MockLLMError):
        mock.script("bad key!", [{"text": "x"}])
    with pytest.raises(MockLLMError):
        mock.config(auto={"tool_steps": -1})


def test_expect_model(mock):
    mock.script("m", [{"text": "right", "expect": {"model": "gpt-test"}},
                      {"text": "never", "expect": {"model": "claude-opus"}}])
    assert openai(mock, oa_body(key="m")).json()["choices"][0]["message"]["content"] == "right"
    r = anthropic(mock, an_body(key="m"))
    assert r.status_code == 400
    assert "claude-opus" in r.json()["error"]["message"]


def test_stop_reason_override(mock):
    mock.script("sr", [{"text": "cut", "stop_reason": "max_tokens"}] * 2)
    assert openai(mock, oa_body(key="sr")).json()["choices"][0]["finish_reason"] == "length"
    assert anthropic(mock, an_body(key="sr")).json()["stop_reason"] == "max_tokens"


def test_delays(mock):
    mock.script("d", [{"text": "slow", "delay_ms": 300},
                      {"text": "abcdefgh" * 2, "chunk_size": 4, "chunk_delay_ms": 60}])
    t0 = time.monotonic()
    assert openai(mock, oa_body(key="d")).status_code == 200
    assert time.monotonic() - t0 >= 0.3
    t0 = time.monotonic()
    r = anthropic(mock, an_body(key="d", stream=True), stream=True)
    events, _ = read_sse(r)
    # message_start, ping, block start, 4 text deltas, block stop, message_delta,
    # message_stop: 10 events, 60 ms apart.
    assert len(events) == 10
    assert time.monotonic() - t0 >= 9 * 0.06


def test_hang_non_streaming_and_streaming(mock):
    mock.script("h", [{"hang": True}, {"hang": True}, {"text": "after"}])
    with pytest.raises(requests.exceptions.ReadTimeout):
        openai(mock, oa_body(key="h"), timeout=0.5)
    # Streaming: the headers arrive, then nothing until the client gives up.
    r = anthropic(mock, an_body(key="h", stream=True), stream=True, timeout=(5, 0.5))
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        next(r.iter_lines())
    r.close()
    # The mock keeps serving; the abandoned stream is released.
    assert anthropic(mock, an_body(key="h")).json()["content"][0]["text"] == "after"
    # Only the hung non-streaming request stays in flight.
    poll(lambda: mock.stats()["in_flight"] == 1, message="the abandoned stream to be released")


def test_unknown_route_and_method(mock):
    r = requests.get(mock.base_url + "/v1/nothing", timeout=10)
    assert r.status_code == 404 and "error" in r.json()
    r = requests.get(mock.base_url + "/v1/chat/completions", timeout=10)
    assert r.status_code == 405


def test_shutdown_with_hung_request():
    with MockLLM() as m:
        m.script("h", [{"hang": True}])
        s = socket.create_connection(("127.0.0.1", m.port))
        body = json.dumps(oa_body(key="h")).encode()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\n"
                  b"content-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
                  + body)
        poll(lambda: m.stats()["in_flight"] >= 1, message="the hung request to be in flight")
        t0 = time.monotonic()
        assert m.stop() == 0
        assert time.monotonic() - t0 < 5
        s.close()
