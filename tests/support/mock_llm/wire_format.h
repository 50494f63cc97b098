#pragma once

// WireFormat: one provider API's request parsing/validation and response rendering.
// Implementations: openai_format.cc (Chat Completions), anthropic_format.cc (Messages).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat.h"
#include "common/json.h"
#include "http/message.h"

namespace pincer::mock {

struct ParsedRequest {
  ChatSummary summary;            // filled as far as parsing got (the key is always set)
  std::optional<ApiError> error;  // set when the real API would reject the request
};

class WireFormat {
 public:
  virtual ~WireFormat() = default;

  virtual std::string_view name() const = 0;
  // Header carrying the response's request id ("x-request-id" / "request-id").
  virtual std::string_view request_id_header() const = 0;

  // Extracts the ChatSummary from a parsed body. With `strict`, also checks what the real API
  // checks (credentials and version headers, required fields, tool call/result pairing,
  // thinking signatures) and reports the first violation the way the API would.
  // `raw` is the request body text (used for a fast "no marker" check and size estimates).
  virtual ParsedRequest Parse(const json::value& body, std::string_view raw,
                              const http::Headers& headers, bool strict) const = 0;

  // A complete error response body.
  virtual std::string ErrorBody(const ApiError& e) const = 0;
  // A complete non-streaming response body.
  virtual std::string Body(const Reply& r, const ChatSummary& req) const = 0;
  // The SSE events of a streaming response, each a complete frame ("…\n\n"). The events are
  // the unit of `chunk_delay_ms` and `fail_after_chunks`.
  virtual std::vector<std::string> Events(const Reply& r, const ChatSummary& req) const = 0;
  // The frame sent for fail_mode "error_event".
  virtual std::string ErrorEvent(const ApiError& e) const = 0;
  // The GET /v1/models body.
  virtual std::string ModelsBody(const std::vector<std::string>& ids) const = 0;
};

const WireFormat& OpenAiFormat();
const WireFormat& AnthropicFormat();

// Concatenated text of a message `content`: a string, or the "text" fields of an array of
// {"type":"text","text":…} parts/blocks (joined by "\n"). Other values give "".
std::string ContentText(const json::value* content);

}  // namespace pincer::mock
