#pragma once

// Provider for the OpenAI Chat Completions wire format (OpenAI and every OpenAI-compatible
// endpoint: Moonshot, DeepSeek, Mistral, xAI, Groq, OpenRouter, Together, Fireworks, Cerebras,
// ZenMux, Gemini's compatibility endpoint, Ollama, vLLM…). Always streams, asking for usage in
// the final chunk.

#include <chrono>
#include <memory>
#include <string>

#include "engine/llm/types.h"
#include "http/client.h"

namespace pincer::llm {

struct OpenAiChatOptions {
  std::string name;                    // provider name for messages, e.g. "openai"
  std::string base_url;                // up to and including /v1 (…/chat/completions is appended)
  std::string api_key;                 // may be empty for local servers
  std::string key_env;                 // the variable the key came from, for error messages
  bool max_completion_tokens = false;  // OpenAI's name for the output cap; others use max_tokens
  bool reasoning_effort = true;        // send reasoning_effort for thinking levels
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds idle_timeout{120'000};
};

std::unique_ptr<Provider> MakeOpenAiChat(http::HttpClient& client, OpenAiChatOptions options);

// Exposed for tests: the request body and the stream decoder.
json::object OpenAiChatBody(const Request& request, const OpenAiChatOptions& options);

class OpenAiStreamDecoder {
 public:
  OpenAiStreamDecoder(std::string provider, const StreamHandler& stream)
      : provider_(std::move(provider)), stream_(stream) {}
  // Feeds one SSE `data:` payload.
  void OnData(std::string_view data);
  // The assembled response, or the error found in the stream.
  Result<Response> Finish();

 private:
  std::string provider_;
  const StreamHandler& stream_;
  Response response_;
  std::vector<std::string> raw_args_;
  bool done_ = false;
  bool got_any_ = false;
  std::optional<Error> error_;
};

}  // namespace pincer::llm
