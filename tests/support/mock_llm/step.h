#pragma once

// Script steps (one scripted LLM answer each), the auto-mode config, and how either becomes a
// Reply for a given request. See README.md for the step fields.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat.h"
#include "common/json.h"
#include "common/result.h"

namespace pincer::mock {

struct ToolCallSpec {
  std::string name;
  std::string arguments = "{}";  // JSON text, or the raw string given in the step
  std::string id;                // optional fixed id
};

struct UsageSpec {
  std::optional<int64_t> input, output, cache_read, cache_write, reasoning;
};

struct Step {
  std::string text;
  std::string thinking;
  std::vector<ToolCallSpec> tool_calls;
  UsageSpec usage;
  std::optional<double> cost;
  int64_t delay_ms = 0;
  int64_t chunk_delay_ms = 0;
  int64_t chunk_size = 8;
  int status = 0;  // >= 400: answer this error instead
  ApiError error;  // error body (for `status` and for fail_mode "error_event")
  std::optional<int64_t> fail_after_chunks;
  FailMode fail_mode = FailMode::kClose;
  bool hang = false;
  std::string stop_reason;
  std::optional<std::string> expect_model;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Parses {"steps":[…]} (or a bare array). Unknown fields are errors, so typos fail loudly.
Result<std::vector<Step>> ParseSteps(const json::value& body);

// The fallback used when a key has no queued step (POST /_mock/config {"auto":{…}}).
struct AutoConfig {
  int64_t tool_steps = 0;
  std::string tool_name;  // empty = the request's first tool, else "mock_tool"
  std::string text = "done";
  int64_t delay_ms = 0;
  int64_t chunk_delay_ms = 0;
  int64_t chunk_size = 8;
};

// Parses the value of "auto". JSON null means "no auto config" (echo fallback).
Result<std::optional<AutoConfig>> ParseAutoConfig(const json::value& v);
std::string AutoConfigJson(const std::optional<AutoConfig>& c);

Reply ReplyFromStep(const Step& step, const ChatSummary& req);
Reply ReplyFromAuto(const AutoConfig& config, const ChatSummary& req);
// "echo: <last user text>".
Reply EchoReply(const ChatSummary& req);

}  // namespace pincer::mock
