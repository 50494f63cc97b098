#include "engine/llm/anthropic_messages.h"

#include "engine/llm/provider_errors.h"
#include "engine/llm/streaming_call.h"

namespace pincer::llm {
namespace {

int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

std::string_view StrField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// Anthropic wants alternating user/assistant turns; tool results ride in a user turn.
json::array Messages(const std::vector<Message>& in) {
  json::array out;
  auto append = [&out](const char* role, json::value block) {
    if (!out.empty() && out.back().as_object().at("role").as_string() == role) {
      out.back().as_object()["content"].as_array().push_back(std::move(block));
      return;
    }
    out.emplace_back(json::object{{"role", role}, {"content", json::array{std::move(block)}}});
  };
  for (const auto& m : in) {
    switch (m.role) {
      case Message::Role::kUser:
        append("user", json::object{{"type", "text"}, {"text", m.text}});
        break;
      case Message::Role::kTool: {
        json::object block{
            {"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.text}};
        if (m.is_error) block["is_error"] = true;
        append("user", std::move(block));
        break;
      }
      case Message::Role::kAssistant:
        if (!m.thinking.empty() && !m.thinking_signature.empty()) {
          append("assistant", json::object{{"type", "thinking"},
                                           {"thinking", m.thinking},
                                           {"signature", m.thinking_signature}});
        }
        if (!m.text.empty()) append("assistant", json::object{{"type", "text"}, {"text", m.text}});
        for (const auto& c : m.tool_calls) {
          append("assistant",
                 json::object{
                     {"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", c.arguments}});
        }
        if (m.text.empty() && m.tool_calls.empty() && m.thinking_signature.empty()) {
          append("assistant", json::object{{"type", "text"}, {"text", "(no output)"}});
        }
        break;
    }
  }
  return out;
}

class AnthropicMessages final : public Provider {
 public:
  AnthropicMessages(http::HttpClient& client, AnthropicOptions options)
      : client_(client), options_(std::move(options)) {}

  Task<Result<Response>> Complete(const Request& request, const StreamHandler& stream,
                                  CancelToken* cancel) override {
    http::ClientRequest req;
    req.method = "POST";
    req.url = options_.base_url + "/v1/messages";
    req.headers.Set("anthropic-version", options_.version);
    if (!options_.api_key.empty()) req.headers.Set("x-api-key", options_.api_key);
    req.body = ToJson(AnthropicBody(request));
    req.timeout = options_.timeout;
    req.idle_timeout = options_.idle_timeout;

    AnthropicStreamDecoder decoder(options_.name, stream);
    SseParser::OnEvent on_event = [&decoder](std::string_view ev, std::string_view data) {
      decoder.OnEvent(ev, data);
    };
    auto sent = co_await SendStreaming(client_, std::move(req), std::move(on_event), cancel,
                                       options_.name, options_.key_env);
    if (!sent) co_return std::move(sent).error();
    co_return decoder.Finish();
  }

 private:
  http::HttpClient& client_;
  AnthropicOptions options_;
};

}  // namespace

int64_t ThinkingBudget(std::string_view level) {
  if (level == "low") return 2048;
  if (level == "medium") return 8192;
  if (level == "high") return 16384;
  if (level == "xhigh") return 32768;
  return 0;
}

json::object AnthropicBody(const Request& request) {
  int64_t budget = ThinkingBudget(request.thinking_level);
  int64_t max_tokens = request.max_tokens;
  if (budget > 0 && max_tokens <= budget) max_tokens = budget + 4096;  // must exceed the budget
  json::object body{{"model", request.model},
                    {"max_tokens", max_tokens},
                    {"messages", Messages(request.messages)},
                    {"stream", true}};
  // Prompt caching: a breakpoint after the system prompt and tools, and one on the last block of
  // the conversation, so each step re-reads everything before it from the cache.
  if (!request.system.empty()) {
    body["system"] =
        json::array{json::object{{"type", "text"},
                                 {"text", request.system},
                                 {"cache_control", json::object{{"type", "ephemeral"}}}}};
  }
  auto& msgs = body["messages"].as_array();
  if (!msgs.empty()) {
    auto& last = msgs.back().as_object()["content"].as_array();
    if (!last.empty() && last.back().as_object().at("type").as_string() != "thinking") {
      last.back().as_object()["cache_control"] = json::object{{"type", "ephemeral"}};
    }
  }
  if (budget > 0) body["thinking"] = json::object{{"type", "enabled"}, {"budget_tokens", budget}};
  if (!request.tools.empty()) {
    json::array tools;
    for (const auto& t : request.tools) {
      tools.emplace_back(json::object{
          {"name", t.name}, {"description", t.description}, {"input_schema", t.input_schema}});
    }
    tools.back().as_object()["cache_control"] = json::object{{"type", "ephemeral"}};
    body["tools"] = std::move(tools);
  }
  return body;
}

void AnthropicStreamDecoder::OnEvent(std::string_view event, std::string_view data) {
  if (error_) return;
  auto v = ParseJson(data, 128);
  if (!v || !v->is_object()) return;
  const json::object& o = v->get_object();
  std::string_view type = event.empty() ? StrField(o, "type") : event;
  if (type == "error") {
    std::string etype = "api_error", message = std::string(data);
    if (const auto* e = o.if_contains("error"); e && e->is_object()) {
      etype = std::string(StrField(e->get_object(), "type"));
      message = std::string(StrField(e->get_object(), "message"));
    }
    error_ = ProviderStreamError(provider_, etype, message);
  } else if (type == "message_start") {
    if (const auto* m = o.if_contains("message"); m && m->is_object()) {
      response_.model = StrField(m->get_object(), "model");
      if (const auto* u = m->get_object().if_contains("usage"); u && u->is_object()) {
        response_.usage.input = IntField(u->get_object(), "input_tokens");
        response_.usage.cache_read = IntField(u->get_object(), "cache_read_input_tokens");
        response_.usage.cache_write = IntField(u->get_object(), "cache_creation_input_tokens");
        response_.usage.output = IntField(u->get_object(), "output_tokens");
      }
    }
  } else if (type == "content_block_start") {
    size_t index = static_cast<size_t>(IntField(o, "index"));
    if (index > 512) return;
    if (blocks_.size() <= index) blocks_.resize(index + 1);
    if (const auto* cb = o.if_contains("content_block"); cb && cb->is_object()) {
      const auto& b = cb->get_object();
      Block& block = blocks_[index];
      block.type = StrField(b, "type");
      if (block.type == "tool_use") {
        block.tool_id = StrField(b, "id");
        block.tool_name = StrField(b, "name");
      }
      if (auto t = StrField(b, "text"); !t.empty()) block.text = t;
    }
  } else if (type == "content_block_delta") {
    size_t index = static_cast<size_t>(IntField(o, "index"));
    if (index >= blocks_.size()) return;
    Block& block = blocks_[index];
    const auto* d = o.if_contains("delta");
    if (!d || !d->is_object()) return;
    const auto& delta = d->get_object();
    std::string_view dtype = StrField(delta, "type");
    if (dtype == "text_delta") {
      auto t = StrField(delta, "text");
      block.text.append(t);
      if (stream_.on_text && !t.empty()) stream_.on_text(t);
    } else if (dtype == "thinking_delta") {
      auto t = StrField(delta, "thinking");
      block.text.append(t);
      if (stream_.on_thinking && !t.empty()) stream_.on_thinking(t);
    } else if (dtype == "signature_delta") {
      block.signature.append(StrField(delta, "signature"));
    } else if (dtype == "input_json_delta") {
      block.json.append(StrField(delta, "partial_json"));
    }
  } else if (type == "message_delta") {
    if (const auto* d = o.if_contains("delta"); d && d->is_object()) {
      if (auto sr = StrField(d->get_object(), "stop_reason"); !sr.empty())
        response_.stop_reason = sr;
    }
    if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
      int64_t out = IntField(u->get_object(), "output_tokens");
      if (out > 0) response_.usage.output = out;
    }
  } else if (type == "message_stop") {
    stopped_ = true;
  }
}

Result<Response> AnthropicStreamDecoder::Finish() {
  if (error_) return *error_;
  if (!stopped_) {
    return Error(ErrorCode::kUnavailable, "provider_unavailable",
                 provider_ + " ended the stream before message_stop");
  }
  for (auto& b : blocks_) {
    if (b.type == "text") {
      response_.text.append(b.text);
    } else if (b.type == "thinking") {
      response_.thinking.append(b.text);
      response_.thinking_signature = b.signature;
    } else if (b.type == "tool_use") {
      ToolCall call;
      call.id = b.tool_id;
      call.name = b.tool_name;
      call.raw_arguments = b.json.empty() ? "{}" : b.json;
      auto args = ParseJson(call.raw_arguments, 64);
      if (args && args->is_object()) call.arguments = std::move(args->get_object());
      response_.tool_calls.push_back(std::move(call));
    }
  }
  if (response_.stop_reason.empty()) response_.stop_reason = "end_turn";
  return std::move(response_);
}

std::unique_ptr<Provider> MakeAnthropicMessages(http::HttpClient& client,
                                                AnthropicOptions options) {
  return std::make_unique<AnthropicMessages>(client, std::move(options));
}

}  // namespace pincer::llm
