#pragma once

// Provider for the Anthropic Messages wire format: streaming, tool_use blocks, extended
// thinking (budget from the thinking level; signatures echoed back), prompt-cache usage.

#include <chrono>
#include <memory>
#include <string>

#include "engine/llm/types.h"
#include "http/client.h"

namespace pincer::llm {

struct AnthropicOptions {
  std::string name = "anthropic";
  std::string base_url = "https://api.anthropic.com";  // …/v1/messages is appended
  std::string api_key;
  std::string key_env = "ANTHROPIC_API_KEY";
  std::string version = "2023-06-01";
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds idle_timeout{120'000};
};

std::unique_ptr<Provider> MakeAnthropicMessages(http::HttpClient& client, AnthropicOptions options);

// Thinking budget in tokens for a level (0 for "off").
int64_t ThinkingBudget(std::string_view level);

// Exposed for tests.
json::object AnthropicBody(const Request& request);

class AnthropicStreamDecoder {
 public:
  AnthropicStreamDecoder(std::string provider, const StreamHandler& stream)
      : provider_(std::move(provider)), stream_(stream) {}
  void OnEvent(std::string_view event, std::string_view data);
  Result<Response> Finish();

 private:
  struct Block {
    std::string type;  // text | thinking | tool_use | other
    std::string text;
    std::string signature;
    std::string tool_id, tool_name, json;
  };
  std::string provider_;
  const StreamHandler& stream_;
  Response response_;
  std::vector<Block> blocks_;
  bool stopped_ = false;
  std::optional<Error> error_;
};

}  // namespace pincer::llm
