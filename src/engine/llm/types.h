#pragma once

// Provider-neutral LLM request/response types and the Provider seam. Each wire format
// (OpenAI Chat Completions, Anthropic Messages) implements Provider; the agent loop only sees
// these types.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cancel.h"
#include "common/json.h"
#include "common/result.h"
#include "common/task.h"
#include "domain/session.h"

namespace pincer::llm {

struct ToolCall {
  std::string id;
  std::string name;
  json::object arguments;  // parsed; {} when the model sent something unparsable
  std::string raw_arguments;
};

struct Message {
  enum class Role { kUser, kAssistant, kTool };
  Role role = Role::kUser;
  std::string text;  // user/assistant text, or a tool result
  std::string thinking;
  std::string thinking_signature;    // Anthropic: must be echoed back with tool use
  std::vector<ToolCall> tool_calls;  // assistant
  std::string tool_call_id;          // tool
  std::string tool_name;             // tool
  bool is_error = false;             // tool
};

struct ToolSpec {
  std::string name;
  std::string description;
  json::object input_schema;  // JSON Schema of the arguments object
};

struct Request {
  std::string model;  // the provider's own model id (without our "provider/" prefix)
  std::string system;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  std::string thinking_level = "off";  // off | low | medium | high | xhigh
  int64_t max_tokens = 8192;
};

struct Response {
  std::string text;
  std::string thinking;
  std::string thinking_signature;
  std::vector<ToolCall> tool_calls;
  domain::Usage usage;  // usage.cost_usd is set when cost_reported
  bool cost_reported = false;
  std::string stop_reason;  // end_turn | tool_use | max_tokens | …
  std::string model;        // as the provider reported it
};

// Live token text while a response streams (called on the HTTP client's thread).
struct StreamHandler {
  std::function<void(std::string_view)> on_text;
  std::function<void(std::string_view)> on_thinking;
  // A retry is starting: text streamed by the failed attempt must be discarded.
  std::function<void(int attempt)> on_retry;
};

// Error wire codes a Provider returns:
//   provider_auth (kUnauthenticated), provider_rate_limited (kResourceExhausted),
//   provider_unavailable (kUnavailable: 5xx, connection lost), context_overflow and
//   provider_bad_request (kInvalidArgument), timeout (kDeadlineExceeded), cancelled.
// Retryable errors are kResourceExhausted and kUnavailable (and timeouts of a stalled stream);
// details_json may carry {"retry_after_ms": N} from a Retry-After header.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual Task<Result<Response>> Complete(const Request& request, const StreamHandler& stream,
                                          CancelToken* cancel) = 0;
};

// True for errors worth retrying (rate limits, 5xx, dropped connections, stalls).
bool IsRetryable(const Error& e);

}  // namespace pincer::llm
