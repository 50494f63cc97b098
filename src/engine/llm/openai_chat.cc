#include "engine/llm/openai_chat.h"

#include "engine/llm/provider_errors.h"
#include "engine/llm/streaming_call.h"

namespace pincer::llm {
namespace {

int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

std::string_view StrField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

json::value MessageJson(const Message& m) {
  switch (m.role) {
    case Message::Role::kUser:
      return json::object{{"role", "user"}, {"content", m.text}};
    case Message::Role::kTool:
      return json::object{{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", m.text}};
    case Message::Role::kAssistant: {
      json::object o{{"role", "assistant"}};
      o["content"] =
          m.text.empty() && !m.tool_calls.empty() ? json::value(nullptr) : json::value(m.text);
      if (!m.tool_calls.empty()) {
        json::array calls;
        for (const auto& c : m.tool_calls) {
          calls.emplace_back(json::object{
              {"id", c.id},
              {"type", "function"},
              {"function",
               json::object{{"name", c.name},
                            {"arguments",
                             c.raw_arguments.empty() ? ToJson(c.arguments) : c.raw_arguments}}}});
        }
        o["tool_calls"] = std::move(calls);
      }
      return o;
    }
  }
  return nullptr;
}

class OpenAiChat final : public Provider {
 public:
  OpenAiChat(http::HttpClient& client, OpenAiChatOptions options)
      : client_(client), options_(std::move(options)) {}

  Task<Result<Response>> Complete(const Request& request, const StreamHandler& stream,
                                  CancelToken* cancel) override {
    http::ClientRequest req;
    req.method = "POST";
    req.url = options_.base_url + "/chat/completions";
    if (!options_.api_key.empty()) req.headers.Set("authorization", "Bearer " + options_.api_key);
    req.body = ToJson(OpenAiChatBody(request, options_));
    req.timeout = options_.timeout;
    req.idle_timeout = options_.idle_timeout;

    OpenAiStreamDecoder decoder(options_.name, stream);
    SseParser::OnEvent on_event = [&decoder](std::string_view, std::string_view data) {
      decoder.OnData(data);
    };
    auto sent = co_await SendStreaming(client_, std::move(req), std::move(on_event), cancel,
                                       options_.name, options_.key_env);
    if (!sent) co_return std::move(sent).error();
    co_return decoder.Finish();
  }

 private:
  http::HttpClient& client_;
  OpenAiChatOptions options_;
};

}  // namespace

json::object OpenAiChatBody(const Request& request, const OpenAiChatOptions& options) {
  json::array messages;
  if (!request.system.empty()) {
    messages.emplace_back(json::object{{"role", "system"}, {"content", request.system}});
  }
  for (const auto& m : request.messages) messages.emplace_back(MessageJson(m));
  json::object body{{"model", request.model},
                    {"messages", std::move(messages)},
                    {"stream", true},
                    {"stream_options", json::object{{"include_usage", true}}}};
  body[options.max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = request.max_tokens;
  if (!request.tools.empty()) {
    json::array tools;
    for (const auto& t : request.tools) {
      tools.emplace_back(json::object{{"type", "function"},
                                      {"function", json::object{{"name", t.name},
                                                                {"description", t.description},
                                                                {"parameters", t.input_schema}}}});
    }
    body["tools"] = std::move(tools);
  }
  if (options.reasoning_effort && request.thinking_level != "off") {
    body["reasoning_effort"] = request.thinking_level == "xhigh" ? "high" : request.thinking_level;
  }
  return body;
}

void OpenAiStreamDecoder::OnData(std::string_view data) {
  if (error_ || done_) return;
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  auto v = ParseJson(data, 128);
  if (!v || !v->is_object()) return;  // tolerate keep-alive noise
  const json::object& o = v->get_object();
  if (const auto* err = o.if_contains("error")) {
    std::string type = "api_error", message = ToJson(*err);
    if (err->is_object()) {
      type = std::string(StrField(err->get_object(), "type"));
      message = std::string(StrField(err->get_object(), "message"));
    }
    error_ = ProviderStreamError(provider_, type.empty() ? "api_error" : type, message);
    return;
  }
  got_any_ = true;
  if (auto m = StrField(o, "model"); !m.empty()) response_.model = m;
  if (const auto* usage = o.if_contains("usage"); usage && usage->is_object()) {
    const auto& u = usage->get_object();
    int64_t prompt = IntField(u, "prompt_tokens");
    int64_t cached = 0;
    if (const auto* d = u.if_contains("prompt_tokens_details"); d && d->is_object()) {
      cached = IntField(d->get_object(), "cached_tokens");
    }
    response_.usage.input = prompt - cached;
    response_.usage.cache_read = cached;
    response_.usage.output = IntField(u, "completion_tokens");
    if (const auto* cost = u.if_contains("cost"); cost && cost->is_number()) {
      response_.usage.cost_usd = cost->to_number<double>();
      response_.cost_reported = true;
    }
  }
  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return;
  const auto& choice = choices->get_array()[0];
  if (!choice.is_object()) return;
  if (auto fr = StrField(choice.get_object(), "finish_reason"); !fr.empty()) {
    response_.stop_reason = fr == "stop"         ? "end_turn"
                            : fr == "tool_calls" ? "tool_use"
                            : fr == "length"     ? "max_tokens"
                                                 : std::string(fr);
  }
  const auto* delta = choice.get_object().if_contains("delta");
  if (!delta || !delta->is_object()) return;
  const auto& d = delta->get_object();
  for (std::string_view key : {"reasoning_content", "reasoning"}) {
    if (auto t = StrField(d, key); !t.empty()) {
      response_.thinking.append(t);
      if (stream_.on_thinking) stream_.on_thinking(t);
    }
  }
  if (auto t = StrField(d, "content"); !t.empty()) {
    response_.text.append(t);
    if (stream_.on_text) stream_.on_text(t);
  }
  if (const auto* calls = d.if_contains("tool_calls"); calls && calls->is_array()) {
    for (const auto& c : calls->get_array()) {
      if (!c.is_object()) continue;
      const auto& co = c.get_object();
      size_t index = static_cast<size_t>(IntField(co, "index"));
      if (index > 256) continue;
      if (response_.tool_calls.size() <= index) {
        response_.tool_calls.resize(index + 1);
        raw_args_.resize(index + 1);
      }
      auto& call = response_.tool_calls[index];
      if (auto id = StrField(co, "id"); !id.empty()) call.id = id;
      if (const auto* f = co.if_contains("function"); f && f->is_object()) {
        if (auto name = StrField(f->get_object(), "name"); !name.empty()) call.name += name;
        raw_args_[index].append(StrField(f->get_object(), "arguments"));
      }
    }
  }
}

Result<Response> OpenAiStreamDecoder::Finish() {
  if (error_) return *error_;
  if (!done_ && !got_any_) {
    return Error(ErrorCode::kUnavailable, "provider_unavailable",
                 provider_ + " ended the stream without any data");
  }
  for (size_t i = 0; i < response_.tool_calls.size(); ++i) {
    auto& call = response_.tool_calls[i];
    call.raw_arguments = raw_args_[i];
    if (call.id.empty()) call.id = "call_" + std::to_string(i);
    auto args = ParseJson(raw_args_[i].empty() ? "{}" : raw_args_[i], 64);
    if (args && args->is_object()) call.arguments = std::move(args->get_object());
  }
  std::erase_if(response_.tool_calls, [](const ToolCall& c) { return c.name.empty(); });
  if (response_.stop_reason.empty()) {
    response_.stop_reason = response_.tool_calls.empty() ? "end_turn" : "tool_use";
  }
  return std::move(response_);
}

std::unique_ptr<Provider> MakeOpenAiChat(http::HttpClient& client, OpenAiChatOptions options) {
  return std::make_unique<OpenAiChat>(client, std::move(options));
}

}  // namespace pincer::llm
