#pragma once

// Format-neutral values passed between the wire formats and the mock server:
// ChatSummary (what the mock needs from a request), Reply (what to answer) and ApiError.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pincer::mock {

// The parts of an LLM request that drive the mock.
struct ChatSummary {
  std::string model;
  bool stream = false;
  bool include_usage = false;           // OpenAI stream_options.include_usage
  std::string key = "default";          // script key from the first [mock:<key>] marker
  std::string last_user_text;           // text of the last user turn (not a tool-result turn)
  int64_t tool_results_since_user = 0;  // tool-result messages after that turn
  std::string first_tool_name;          // name of the first declared tool, if any
  int64_t input_estimate = 1;           // rough input tokens: request bytes / 4
};

// An error answer. The format renders it as its own error body.
struct ApiError {
  int status = 400;
  std::string type;  // provider error type; empty = derived from status
  std::string message;
  std::string code;   // OpenAI "code"; empty = derived / null
  std::string param;  // OpenAI "param"; empty = null
};

enum class FailMode { kClose, kErrorEvent };

struct ToolCallOut {
  std::string id;  // empty = the format generates one (call_… / toolu_…)
  std::string name;
  std::string arguments;  // JSON text (normally an object)
};

// What to answer, resolved from a scripted step, the auto config or the echo fallback.
struct Reply {
  std::string text;
  std::string thinking;
  std::vector<ToolCallOut> tool_calls;

  // Token usage, Anthropic-style split: `input` excludes cache reads and writes.
  int64_t input = 0;
  int64_t output = 0;  // all generated tokens, reasoning included
  int64_t cache_read = 0;
  int64_t cache_write = 0;
  int64_t reasoning = 0;
  std::optional<double> cost;  // OpenAI usage.cost

  std::string stop_reason;  // override, either vocabulary; empty = derived

  // Streaming controls.
  size_t chunk_size = 8;  // code points per text/thinking/argument delta
  int64_t chunk_delay_ms = 0;
  std::optional<int64_t> fail_after_chunks;  // SSE events sent before the injected failure
  FailMode fail_mode = FailMode::kClose;
  ApiError stream_error;  // body of the error event for FailMode::kErrorEvent

  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
};

}  // namespace pincer::mock
