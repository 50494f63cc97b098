#pragma once

// Registry: maps a model name "provider/model" to a Provider and the provider's model id.
//
// Providers and their presets (base URL, key variable) are listed in Presets(). Keys come from
// each provider's usual environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, …); base URLs
// can be overridden with OPENAI_BASE_URL, ANTHROPIC_BASE_URL and <PROVIDER>_BASE_URL.
// Thread-safe; providers are built once and reused.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/llm/types.h"
#include "http/client.h"

namespace pincer::llm {

struct Preset {
  std::string name;                   // model prefix, e.g. "deepseek"
  std::string format;                 // "openai" | "anthropic"
  std::string base_url;               // default; empty = must be configured
  std::vector<std::string> key_envs;  // first set one wins
  bool key_required = true;
  bool max_completion_tokens = false;
  bool reasoning_effort = false;  // accepts OpenAI's reasoning_effort parameter
};
const std::vector<Preset>& Presets();

struct LlmSettings {
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds idle_timeout{120'000};
};

class Registry {
 public:
  using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
  Registry(http::HttpClient& client, EnvLookup env, LlmSettings settings);

  struct Resolved {
    Provider* provider = nullptr;  // owned by the registry
    std::string provider_name;
    std::string model_id;
  };
  // Errors (kInvalidArgument): "model must look like provider/model", "unknown provider 'x'",
  // "<KEY_ENV> is not set; cannot call <model>", "<PROVIDER>_BASE_URL is not set".
  Result<Resolved> Resolve(std::string_view model);

  // True when models of `provider` can be called (known, with a key when one is required).
  bool Configured(const std::string& provider);

  // Test seam: use `provider` for every model with prefix `name`.
  void Override(std::string name, std::unique_ptr<Provider> provider);

 private:
  http::HttpClient& client_;
  EnvLookup env_;
  LlmSettings settings_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Provider>> providers_;
};

}  // namespace pincer::llm
