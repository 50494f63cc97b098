#include "engine/llm/registry.h"

#include <cctype>

#include "engine/llm/anthropic_messages.h"
#include "engine/llm/openai_chat.h"

namespace pincer::llm {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s)
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

const std::vector<Preset>& Presets() {
  static const std::vector<Preset> kPresets = {
      {"openai", "openai", "https://api.openai.com/v1", {"OPENAI_API_KEY"}, true, true, true},
      {"anthropic", "anthropic", "https://api.anthropic.com", {"ANTHROPIC_API_KEY"}, true, false},
      {"moonshot", "openai", "https://api.moonshot.ai/v1", {"MOONSHOT_API_KEY"}, true, false},
      {"deepseek", "openai", "https://api.deepseek.com/v1", {"DEEPSEEK_API_KEY"}, true, false},
      {"mistral", "openai", "https://api.mistral.ai/v1", {"MISTRAL_API_KEY"}, true, false},
      {"xai", "openai", "https://api.x.ai/v1", {"XAI_API_KEY"}, true, false, true},
      {"groq", "openai", "https://api.groq.com/openai/v1", {"GROQ_API_KEY"}, true, false, true},
      {"openrouter", "openai", "https://openrouter.ai/api/v1", {"OPENROUTER_API_KEY"}, true, false},
      {"together", "openai", "https://api.together.xyz/v1", {"TOGETHER_API_KEY"}, true, false},
      {"fireworks",
       "openai",
       "https://api.fireworks.ai/inference/v1",
       {"FIREWORKS_API_KEY"},
       true,
       false},
      {"cerebras", "openai", "https://api.cerebras.ai/v1", {"CEREBRAS_API_KEY"}, true, false},
      {"zenmux", "openai", "https://zenmux.ai/api/v1", {"ZENMUX_API_KEY"}, true, false},
      {"gemini",
       "openai",
       "https://generativelanguage.googleapis.com/v1beta/openai",
       {"GEMINI_API_KEY", "GOOGLE_API_KEY"},
       true,
       false},
      {"ollama", "openai", "http://127.0.0.1:11434/v1", {"OLLAMA_API_KEY"}, false, false},
      {"vllm", "openai", "http://127.0.0.1:8000/v1", {"VLLM_API_KEY"}, false, false},
      {"openai-compatible", "openai", "", {"OPENAI_COMPATIBLE_API_KEY"}, false, false},
  };
  return kPresets;
}

Registry::Registry(http::HttpClient& client, EnvLookup env, LlmSettings settings)
    : client_(client), env_(std::move(env)), settings_(settings) {}

bool Registry::Configured(const std::string& provider) {
  {
    std::lock_guard lock(mu_);
    if (providers_.count(provider)) return true;
  }
  return Resolve(provider + "/probe").has_value();
}

void Registry::Override(std::string name, std::unique_ptr<Provider> provider) {
  std::lock_guard lock(mu_);
  providers_[std::move(name)] = std::move(provider);
}

Result<Registry::Resolved> Registry::Resolve(std::string_view model) {
  size_t slash = model.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == model.size()) {
    return InvalidArgument(
        "model \"" + std::string(model) + "\" must look like provider/model (e.g. openai/gpt-5.5)",
        "invalid_model");
  }
  std::string name(model.substr(0, slash));
  Resolved out;
  out.provider_name = name;
  out.model_id = std::string(model.substr(slash + 1));

  std::lock_guard lock(mu_);
  if (auto it = providers_.find(name); it != providers_.end()) {
    out.provider = it->second.get();
    return out;
  }
  const Preset* preset = nullptr;
  for (const auto& p : Presets()) {
    if (p.name == name) preset = &p;
  }
  if (preset == nullptr) {
    std::string known;
    for (const auto& p : Presets()) known += (known.empty() ? "" : ", ") + p.name;
    return InvalidArgument("unknown provider \"" + name + "\" in model \"" + std::string(model) +
                               "\" (known: " + known + ")",
                           "invalid_model");
  }
  std::string key, key_env = preset->key_envs.front();
  for (const auto& k : preset->key_envs) {
    if (auto v = env_(k); v && !v->empty()) {
      key = *v;
      key_env = k;
      break;
    }
  }
  if (key.empty() && preset->key_required) {
    return InvalidArgument(key_env + " is not set; cannot call " + std::string(model),
                           "missing_api_key");
  }
  std::string base_env = Upper(name) + "_BASE_URL";
  std::string base = preset->base_url;
  if (auto v = env_(base_env); v && !v->empty()) base = *v;
  if (base.empty()) {
    return InvalidArgument(base_env + " is not set; cannot call " + std::string(model),
                           "missing_base_url");
  }
  base = TrimSlash(base);
  std::unique_ptr<Provider> provider;
  if (preset->format == "anthropic") {
    AnthropicOptions o;
    o.name = name;
    o.base_url = base;
    o.api_key = key;
    o.key_env = key_env;
    o.timeout = settings_.timeout;
    o.idle_timeout = settings_.idle_timeout;
    provider = MakeAnthropicMessages(client_, std::move(o));
  } else {
    OpenAiChatOptions o;
    o.name = name;
    o.base_url = base;
    o.api_key = key;
    o.key_env = key_env;
    o.max_completion_tokens = preset->max_completion_tokens;
    o.reasoning_effort = preset->reasoning_effort;
    o.timeout = settings_.timeout;
    o.idle_timeout = settings_.idle_timeout;
    provider = MakeOpenAiChat(client_, std::move(o));
  }
  out.provider = provider.get();
  providers_[name] = std::move(provider);
  return out;
}

}  // namespace pincer::llm
