// Anthropic Messages: POST /v1/messages, GET /v1/models (with an anthropic-version header).

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "wire_format.h"
#include "wire_util.h"

namespace pincer::mock {
namespace {

std::string_view Str(const json::value* v) {
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

std::string Idx(size_t i) { return std::to_string(i); }

ApiError Invalid(std::string message) {
  return ApiError{400, "invalid_request_error", std::move(message), "", ""};
}

std::string TypeForStatus(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string StopReason(const Reply& r) {
  const std::string& s = r.stop_reason;
  if (s.empty()) return r.tool_calls.empty() ? "end_turn" : "tool_use";
  if (s == "stop") return "end_turn";
  if (s == "tool_calls") return "tool_use";
  if (s == "length") return "max_tokens";
  return s;
}

// tool_use.input must be an object; a deliberately malformed scripted argument string becomes
// {} in a non-streaming body (streams send the raw text as partial_json).
std::string InputObject(const std::string& arguments) {
  auto parsed = ParseJson(arguments);
  if (parsed && parsed->is_object()) return arguments;
  return "{}";
}

std::vector<std::string> ToolIds(const Reply& r) {
  std::vector<std::string> ids;
  ids.reserve(r.tool_calls.size());
  for (const auto& t : r.tool_calls) ids.push_back(t.id.empty() ? RandomId("toolu_") : t.id);
  return ids;
}

std::string Frame(std::string_view event, const std::string& data) {
  std::string f;
  f.reserve(16 + event.size() + data.size());
  f += "event: ";
  f += event;
  f += "\ndata: ";
  f += data;
  f += "\n\n";
  return f;
}

class Anthropic final : public WireFormat {
 public:
  std::string_view name() const override { return "anthropic"; }
  std::string_view request_id_header() const override { return "request-id"; }

  ParsedRequest Parse(const json::value& body, std::string_view raw, const http::Headers& headers,
                      bool strict) const override {
    ParsedRequest p;
    ChatSummary& s = p.summary;
    s.input_estimate = std::max<int64_t>(1, static_cast<int64_t>(raw.size() / 4));
    std::optional<ApiError> err;
    auto fail = [&err](ApiError e) {
      if (!err) err = std::move(e);
    };
    if (strict) {
      auto key = headers.Get("x-api-key");
      auto auth = headers.Get("authorization");
      if ((!key || key->empty()) && (!auth || auth->empty())) {
        fail(ApiError{401, "authentication_error", "x-api-key header is required", "", ""});
      }
      if (!headers.Get("anthropic-version")) {
        fail(Invalid("anthropic-version: header is required"));
      }
    }
    if (!body.is_object()) {
      fail(Invalid("request body must be a JSON object"));
      p.error = std::move(err);
      return p;
    }
    const auto& o = body.as_object();
    bool scan = raw.find("[mock:") != std::string_view::npos;
    MarkerScan markers;

    s.model = std::string(Str(FindField(o, "model")));
    if (s.model.empty()) fail(Invalid("model: Field required"));
    int64_t max_tokens = 0;
    const json::value* mt = FindField(o, "max_tokens");
    if (mt == nullptr) {
      fail(Invalid("max_tokens: Field required"));
    } else if (!mt->is_int64() && !mt->is_uint64()) {
      fail(Invalid("max_tokens: Input should be a valid integer"));
    } else {
      max_tokens = mt->to_number<int64_t>();
      if (max_tokens < 1) fail(Invalid("max_tokens: Input should be greater than or equal to 1"));
    }
    if (const json::value* st = FindField(o, "stream")) {
      if (!st->is_bool()) fail(Invalid("stream: Input should be a valid boolean"));
      s.stream = st->is_bool() && st->as_bool();
    }
    if (const json::value* sys = FindField(o, "system")) {
      if (sys->is_string() || sys->is_array()) {
        if (scan) markers.Feed(ContentText(sys), /*system=*/true);
      } else {
        fail(Invalid("system: Input should be a valid string or a list of text blocks"));
      }
    }
    if (const json::value* th = FindField(o, "thinking"); th != nullptr && strict) {
      CheckThinkingConfig(*th, max_tokens, headers, fail);
    }
    if (const json::value* tools = FindField(o, "tools")) {
      if (!tools->is_array()) {
        fail(Invalid("tools: Input should be a valid list"));
      } else {
        for (size_t i = 0; i < tools->as_array().size(); ++i) {
          const json::value& t = tools->as_array()[i];
          std::string_view nm = t.is_object() ? Str(FindField(t.as_object(), "name")) : "";
          if (nm.empty() && strict) fail(Invalid("tools." + Idx(i) + ".name: Field required"));
          if (s.first_tool_name.empty()) s.first_tool_name = std::string(nm);
        }
      }
    }
    const json::value* messages = FindField(o, "messages");
    if (messages == nullptr) {
      fail(Invalid("messages: Field required"));
    } else if (!messages->is_array()) {
      fail(Invalid("messages: Input should be a valid list"));
    } else if (messages->as_array().empty() && strict) {
      fail(Invalid("messages: at least one message is required"));
    } else {
      WalkMessages(messages->as_array(), s, markers, scan, strict, fail);
    }
    s.key = markers.Key();
    p.error = std::move(err);
    return p;
  }

  template <typename Fail>
  static void CheckThinkingConfig(const json::value& th, int64_t max_tokens,
                                  const http::Headers& headers, Fail& fail) {
    if (!th.is_object()) {
      fail(Invalid("thinking: Input should be an object"));
      return;
    }
    std::string_view type = Str(FindField(th.as_object(), "type"));
    if (type == "disabled" || type == "adaptive") return;
    if (type != "enabled") {
      fail(Invalid("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'"));
      return;
    }
    const json::value* b = FindField(th.as_object(), "budget_tokens");
    if (b == nullptr || (!b->is_int64() && !b->is_uint64())) {
      fail(Invalid("thinking.enabled.budget_tokens: Field required"));
      return;
    }
    int64_t budget = b->to_number<int64_t>();
    if (budget < 1024) {
      fail(
          Invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to "
                  "1024"));
      return;
    }
    auto beta = headers.Get("anthropic-beta");
    bool interleaved = beta && beta->find("interleaved-thinking") != std::string_view::npos;
    if (max_tokens > 0 && budget >= max_tokens && !interleaved) {
      fail(Invalid("`max_tokens` must be greater than `thinking.budget_tokens`"));
    }
  }

  template <typename Fail>
  static void WalkMessages(const json::array& msgs, ChatSummary& s, MarkerScan& markers, bool scan,
                           bool strict, Fail& fail) {
    std::vector<std::string> pending;  // tool_use ids of the previous assistant message
    size_t pending_from = 0;
    auto unanswered = [&]() {
      std::string ids;
      for (const auto& id : pending) ids += (ids.empty() ? "" : ", ") + id;
      fail(Invalid(
          "messages." + Idx(pending_from) +
          ": `tool_use` ids were found without `tool_result` blocks immediately after: " + ids +
          ". Each `tool_use` block must have a corresponding `tool_result` block "
          "in the next message."));
    };
    for (size_t i = 0; i < msgs.size(); ++i) {
      std::string where = "messages." + Idx(i);
      if (!msgs[i].is_object()) {
        fail(Invalid(where + ": Input should be a valid dictionary"));
        continue;
      }
      const auto& m = msgs[i].as_object();
      std::string_view role = Str(FindField(m, "role"));
      bool user = role == "user";
      if (!user && role != "assistant") {
        fail(Invalid(where + ".role: Input should be 'user' or 'assistant'"));
        continue;
      }
      const json::value* content = FindField(m, "content");
      bool last_assistant = !user && i + 1 == msgs.size();
      std::vector<std::string> results;  // tool_use_ids answered in this message
      std::vector<std::string> uses;     // tool_use ids opened by this message
      std::string text;
      if (content == nullptr) {
        fail(Invalid(where + ".content: Field required"));
      } else if (content->is_string()) {
        text = std::string(content->as_string());
        if (text.empty() && !last_assistant && strict) {
          fail(Invalid(where + ": all messages must have non-empty content except for the "
                               "optional final assistant message"));
        }
      } else if (content->is_array()) {
        const auto& blocks = content->as_array();
        if (blocks.empty() && !last_assistant && strict) {
          fail(Invalid(where + ": all messages must have non-empty content except for the "
                               "optional final assistant message"));
        }
        for (size_t j = 0; j < blocks.size(); ++j) {
          WalkBlock(blocks[j], where + ".content." + Idx(j), user, strict, scan, markers, text,
                    results, uses, fail);
        }
      } else {
        fail(Invalid(where + ".content: Input should be a valid string or list"));
      }
      if (scan) markers.Feed(text, /*system=*/false);

      if (user) {
        if (strict) {
          for (const auto& id : results) {
            if (std::find(pending.begin(), pending.end(), id) == pending.end()) {
              fail(Invalid(where +
                           ": unexpected `tool_use_id` found in `tool_result` blocks: " + id +
                           ". Each `tool_result` block must have a corresponding `tool_use` "
                           "block in the previous message."));
            }
          }
          std::erase_if(pending, [&](const std::string& id) {
            return std::find(results.begin(), results.end(), id) != results.end();
          });
          if (!pending.empty()) unanswered();
        }
        pending.clear();
        if (results.empty()) {
          s.last_user_text = std::move(text);
          s.tool_results_since_user = 0;
        } else {
          ++s.tool_results_since_user;
        }
      } else {
        if (!pending.empty() && strict) unanswered();
        pending = std::move(uses);
        pending_from = i;
      }
    }
    if (!pending.empty() && strict) unanswered();
  }

  template <typename Fail>
  static void WalkBlock(const json::value& b, const std::string& where, bool user, bool strict,
                        bool scan, MarkerScan& markers, std::string& text,
                        std::vector<std::string>& results, std::vector<std::string>& uses,
                        Fail& fail) {
    if (!b.is_object()) {
      fail(Invalid(where + ": Input should be a valid dictionary"));
      return;
    }
    const auto& o = b.as_object();
    std::string_view type = Str(FindField(o, "type"));
    if (type == "text") {
      const json::value* t = FindField(o, "text");
      if (t == nullptr || !t->is_string()) {
        fail(Invalid(where + ".text: Field required"));
      } else if (t->as_string().empty()) {
        if (strict) fail(Invalid(where + ": text content blocks must be non-empty"));
      } else {
        if (!text.empty()) text += '\n';
        text += t->as_string();
      }
    } else if (type == "tool_result") {
      if (!user && strict)
        fail(Invalid(where + ": tool_result blocks are only allowed in user "
                             "messages"));
      std::string_view id = Str(FindField(o, "tool_use_id"));
      if (id.empty()) fail(Invalid(where + ".tool_use_id: Field required"));
      results.emplace_back(id);
      if (scan) markers.Feed(ContentText(FindField(o, "content")), /*system=*/false);
    } else if (type == "tool_use") {
      if (user && strict)
        fail(Invalid(where + ": tool_use blocks are only allowed in assistant "
                             "messages"));
      std::string_view id = Str(FindField(o, "id"));
      if (id.empty()) fail(Invalid(where + ".id: Field required"));
      if (Str(FindField(o, "name")).empty()) fail(Invalid(where + ".name: Field required"));
      const json::value* input = FindField(o, "input");
      if (strict && (input == nullptr || !input->is_object())) {
        fail(Invalid(where + ".input: Input should be a valid dictionary"));
      }
      uses.emplace_back(id);
    } else if (type == "thinking") {
      const json::value* thinking = FindField(o, "thinking");
      const json::value* sig = FindField(o, "signature");
      if (thinking == nullptr || !thinking->is_string()) {
        fail(Invalid(where + ".thinking: Field required"));
      } else if (sig == nullptr || !sig->is_string()) {
        if (strict) fail(Invalid(where + ".signature: Field required"));
      } else if (strict && sig->as_string() != ThinkingSignature(thinking->as_string())) {
        fail(Invalid(where + ": Invalid `signature` in `thinking` block"));
      }
    } else if (type.empty()) {
      fail(Invalid(where + ".type: Field required"));
    }
    // image, document, redacted_thinking, server tool blocks…: accepted as they are.
  }

  std::string ErrorBody(const ApiError& e) const override {
    JsonWriter w;
    w.BeginObject()
        .String("type", "error")
        .BeginObject("error")
        .String("type", e.type.empty() ? TypeForStatus(e.status) : e.type)
        .String("message", e.message)
        .EndObject()
        .EndObject();
    return w.Take();
  }

  std::string Body(const Reply& r, const ChatSummary& req) const override {
    JsonWriter w;
    w.str().reserve(512 + r.text.size() + r.thinking.size());
    w.BeginObject()
        .String("id", RandomId("msg_"))
        .String("type", "message")
        .String("role", "assistant")
        .String("model", req.model)
        .BeginArray("content");
    if (!r.thinking.empty()) {
      w.BeginObject()
          .String("type", "thinking")
          .String("thinking", r.thinking)
          .String("signature", ThinkingSignature(r.thinking))
          .EndObject();
    }
    if (!r.text.empty()) w.BeginObject().String("type", "text").String("text", r.text).EndObject();
    auto ids = ToolIds(r);
    for (size_t i = 0; i < r.tool_calls.size(); ++i) {
      w.BeginObject()
          .String("type", "tool_use")
          .String("id", ids[i])
          .String("name", r.tool_calls[i].name)
          .Raw("input", InputObject(r.tool_calls[i].arguments))
          .EndObject();
    }
    w.EndArray()
        .String("stop_reason", StopReason(r))
        .Null("stop_sequence")
        .BeginObject("usage")
        .Int("input_tokens", r.input)
        .Int("cache_creation_input_tokens", r.cache_write)
        .Int("cache_read_input_tokens", r.cache_read)
        .Int("output_tokens", r.output)
        .EndObject()
        .EndObject();
    return w.Take();
  }

  std::vector<std::string> Events(const Reply& r, const ChatSummary& req) const override {
    std::vector<std::string> events;
    {
      JsonWriter w;
      w.BeginObject()
          .String("type", "message_start")
          .BeginObject("message")
          .String("id", RandomId("msg_"))
          .String("type", "message")
          .String("role", "assistant")
          .String("model", req.model)
          .BeginArray("content")
          .EndArray()
          .Null("stop_reason")
          .Null("stop_sequence")
          .BeginObject("usage")
          .Int("input_tokens", r.input)
          .Int("cache_creation_input_tokens", r.cache_write)
          .Int("cache_read_input_tokens", r.cache_read)
          .Int("output_tokens", 1)
          .EndObject()
          .EndObject()
          .EndObject();
      events.push_back(Frame("message_start", w.str()));
    }
    events.push_back(Frame("ping", "{\"type\":\"ping\"}"));

    int64_t index = 0;
    auto start = [&](const std::string& block) {
      JsonWriter w;
      w.BeginObject()
          .String("type", "content_block_start")
          .Int("index", index)
          .Raw("content_block", block)
          .EndObject();
      events.push_back(Frame("content_block_start", w.str()));
    };
    auto delta = [&](std::string_view type, std::string_view field, std::string_view value) {
      JsonWriter w;
      w.BeginObject()
          .String("type", "content_block_delta")
          .Int("index", index)
          .BeginObject("delta")
          .String("type", type)
          .String(field, value)
          .EndObject()
          .EndObject();
      events.push_back(Frame("content_block_delta", w.str()));
    };
    auto stop = [&]() {
      events.push_back(Frame("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" +
                                                       std::to_string(index) + "}"));
      ++index;
    };

    if (!r.thinking.empty()) {
      start("{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}");
      for (auto piece : SplitUtf8(r.thinking, r.chunk_size)) {
        delta("thinking_delta", "thinking", piece);
      }
      delta("signature_delta", "signature", ThinkingSignature(r.thinking));
      stop();
    }
    if (!r.text.empty()) {
      start("{\"type\":\"text\",\"text\":\"\"}");
      for (auto piece : SplitUtf8(r.text, r.chunk_size)) delta("text_delta", "text", piece);
      stop();
    }
    auto ids = ToolIds(r);
    for (size_t i = 0; i < r.tool_calls.size(); ++i) {
      JsonWriter b;
      b.BeginObject()
          .String("type", "tool_use")
          .String("id", ids[i])
          .String("name", r.tool_calls[i].name)
          .BeginObject("input")
          .EndObject()
          .EndObject();
      start(b.str());
      for (auto piece : SplitUtf8(r.tool_calls[i].arguments, r.chunk_size)) {
        delta("input_json_delta", "partial_json", piece);
      }
      stop();
    }
    {
      JsonWriter w;
      w.BeginObject()
          .String("type", "message_delta")
          .BeginObject("delta")
          .String("stop_reason", StopReason(r))
          .Null("stop_sequence")
          .EndObject()
          .BeginObject("usage")
          .Int("output_tokens", r.output)
          .EndObject()
          .EndObject();
      events.push_back(Frame("message_delta", w.str()));
    }
    events.push_back(Frame("message_stop", "{\"type\":\"message_stop\"}"));
    return events;
  }

  std::string ErrorEvent(const ApiError& e) const override { return Frame("error", ErrorBody(e)); }

  std::string ModelsBody(const std::vector<std::string>& ids) const override {
    JsonWriter w;
    w.BeginObject().BeginArray("data");
    for (const auto& id : ids) {
      w.BeginObject()
          .String("type", "model")
          .String("id", id)
          .String("display_name", id)
          .String("created_at", "2025-01-01T00:00:00Z")
          .EndObject();
    }
    w.EndArray().Bool("has_more", false).Key("first_id");
    if (ids.empty()) {
      w.Null();
    } else {
      w.String(ids.front());
    }
    w.Key("last_id");
    if (ids.empty()) {
      w.Null();
    } else {
      w.String(ids.back());
    }
    w.EndObject();
    return w.Take();
  }
};

}  // namespace

const WireFormat& AnthropicFormat() {
  static const Anthropic format;
  return format;
}

}  // namespace pincer::mock
