// OpenAI Chat Completions: POST /v1/chat/completions, GET /v1/models.

#include <algorithm>
#include <ctime>

#include "common/log.h"
#include "wire_format.h"
#include "wire_util.h"

namespace pincer::mock {
namespace {

std::string_view Str(const json::value* v) {
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

ApiError Invalid(std::string message, std::string param = {}, std::string code = {}) {
  return ApiError{400, "invalid_request_error", std::move(message), std::move(code),
                  std::move(param)};
}

std::string Idx(size_t i) { return std::to_string(i); }

// Derives type and code from the status when the error leaves them empty.
void Defaults(const ApiError& e, std::string& type, std::string& code) {
  type = e.type;
  code = e.code;
  if (type.empty()) {
    if (e.status == 429) {
      type = "requests";
      if (code.empty()) code = "rate_limit_exceeded";
    } else if (e.status >= 500) {
      type = "server_error";
    } else {
      type = "invalid_request_error";
      if (e.status == 401 && code.empty()) code = "invalid_api_key";
    }
  }
}

void WriteError(JsonWriter& w, const ApiError& e) {
  std::string type, code;
  Defaults(e, type, code);
  w.BeginObject().String("message", e.message).String("type", type).Key("param");
  if (e.param.empty()) {
    w.Null();
  } else {
    w.String(e.param);
  }
  w.Key("code");
  if (code.empty()) {
    w.Null();
  } else {
    w.String(code);
  }
  w.EndObject();
}

std::string FinishReason(const Reply& r) {
  const std::string& s = r.stop_reason;
  if (s.empty()) return r.tool_calls.empty() ? "stop" : "tool_calls";
  if (s == "end_turn" || s == "stop_sequence") return "stop";
  if (s == "tool_use") return "tool_calls";
  if (s == "max_tokens") return "length";
  return s;
}

void WriteUsage(JsonWriter& w, const Reply& r) {
  int64_t prompt = r.input + r.cache_read + r.cache_write;
  w.BeginObject()
      .Int("prompt_tokens", prompt)
      .Int("completion_tokens", r.output)
      .Int("total_tokens", prompt + r.output)
      .BeginObject("prompt_tokens_details")
      .Int("cached_tokens", r.cache_read)
      .EndObject()
      .BeginObject("completion_tokens_details")
      .Int("reasoning_tokens", r.reasoning)
      .EndObject();
  if (r.cost) w.Double("cost", *r.cost);
  w.EndObject();
}

// Fills generated ids for tool calls that have none.
std::vector<std::string> CallIds(const Reply& r) {
  std::vector<std::string> ids;
  ids.reserve(r.tool_calls.size());
  for (const auto& t : r.tool_calls) ids.push_back(t.id.empty() ? RandomId("call_") : t.id);
  return ids;
}

class OpenAi final : public WireFormat {
 public:
  std::string_view name() const override { return "openai"; }
  std::string_view request_id_header() const override { return "x-request-id"; }

  ParsedRequest Parse(const json::value& body, std::string_view raw, const http::Headers& headers,
                      bool strict) const override {
    ParsedRequest p;
    ChatSummary& s = p.summary;
    s.input_estimate = std::max<int64_t>(1, static_cast<int64_t>(raw.size() / 4));
    if (!body.is_object()) {
      p.error = Invalid("request body must be a JSON object");
      return p;
    }
    const auto& o = body.as_object();
    bool scan = raw.find("[mock:") != std::string_view::npos;
    MarkerScan markers;
    std::optional<ApiError> err;
    auto fail = [&err](ApiError e) {
      if (!err) err = std::move(e);
    };

    if (strict) {
      auto auth = headers.Get("authorization");
      if (!auth || auth->empty()) {
        fail(ApiError{401, "invalid_request_error",
                      "You didn't provide an API key. You need to provide your API key in an "
                      "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                      "YOUR_KEY).",
                      "", ""});
      }
    }
    const json::value* model = FindField(o, "model");
    if (model != nullptr && model->is_string()) s.model = std::string(model->as_string());
    if (s.model.empty()) fail(Invalid("you must provide a model parameter"));

    if (const json::value* st = FindField(o, "stream")) {
      if (!st->is_bool()) fail(Invalid("Invalid type for 'stream': expected a boolean.", "stream"));
      s.stream = st->is_bool() && st->as_bool();
    }
    if (const json::value* so = FindField(o, "stream_options")) {
      if (!s.stream && strict) {
        fail(Invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                     "stream_options"));
      }
      if (so->is_object()) {
        const json::value* iu = FindField(so->as_object(), "include_usage");
        s.include_usage = iu != nullptr && iu->is_bool() && iu->as_bool();
      }
    }
    if (const json::value* tools = FindField(o, "tools")) {
      if (!tools->is_array()) {
        fail(Invalid("Invalid type for 'tools': expected an array.", "tools"));
      } else {
        for (size_t i = 0; i < tools->as_array().size(); ++i) {
          const json::value& t = tools->as_array()[i];
          const json::value* fn = t.is_object() ? FindField(t.as_object(), "function") : nullptr;
          std::string_view nm =
              fn != nullptr && fn->is_object() ? Str(FindField(fn->as_object(), "name")) : "";
          if (nm.empty() && strict) {
            fail(Invalid("Missing required parameter: 'tools[" + Idx(i) + "].function.name'.",
                         "tools[" + Idx(i) + "].function.name", "missing_required_parameter"));
          }
          if (s.first_tool_name.empty()) s.first_tool_name = std::string(nm);
        }
      }
    }

    const json::value* messages = FindField(o, "messages");
    if (messages == nullptr) {
      fail(Invalid("Missing required parameter: 'messages'.", "messages",
                   "missing_required_parameter"));
    } else if (!messages->is_array()) {
      fail(Invalid("Invalid type for 'messages': expected an array.", "messages"));
    } else if (messages->as_array().empty()) {
      fail(
          Invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                  "but got an empty array instead.",
                  "messages", "empty_array"));
    } else {
      WalkMessages(messages->as_array(), s, markers, scan, strict, fail);
    }
    s.key = markers.Key();
    p.error = std::move(err);
    return p;
  }

  template <typename Fail>
  static void WalkMessages(const json::array& msgs, ChatSummary& s, MarkerScan& markers, bool scan,
                           bool strict, Fail& fail) {
    std::vector<std::string> pending;  // tool_call ids awaiting a tool message
    size_t pending_from = 0;           // index of the assistant message that opened them
    auto close_pending = [&]() {
      if (pending.empty() || !strict) return;
      std::string ids;
      for (const auto& id : pending) ids += (ids.empty() ? "" : ", ") + id;
      fail(
          Invalid("An assistant message with 'tool_calls' must be followed by tool messages "
                  "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                  "response messages: " +
                      ids,
                  "messages.[" + Idx(pending_from) + "].role"));
    };
    for (size_t i = 0; i < msgs.size(); ++i) {
      if (!msgs[i].is_object()) {
        fail(Invalid("Invalid type for 'messages[" + Idx(i) + "]': expected an object.",
                     "messages[" + Idx(i) + "]"));
        continue;
      }
      const auto& m = msgs[i].as_object();
      std::string_view role = Str(FindField(m, "role"));
      const json::value* content = FindField(m, "content");
      bool content_ok = content == nullptr || content->is_string() || content->is_array();
      if (!content_ok && strict) {
        fail(Invalid("Invalid type for 'messages[" + Idx(i) +
                         "].content': expected a string or "
                         "an array.",
                     "messages[" + Idx(i) + "].content"));
      }
      bool is_system = role == "system" || role == "developer";
      if (scan) markers.Feed(ContentText(content), is_system);

      if (role == "tool") {
        std::string_view id = Str(FindField(m, "tool_call_id"));
        auto it = std::find(pending.begin(), pending.end(), id);
        if (id.empty()) {
          if (strict) {
            fail(Invalid("Missing required parameter: 'messages[" + Idx(i) + "].tool_call_id'.",
                         "messages[" + Idx(i) + "].tool_call_id", "missing_required_parameter"));
          }
        } else if (it != pending.end()) {
          pending.erase(it);
        } else if (strict) {
          fail(
              Invalid("Invalid parameter: messages with role 'tool' must be a response to a "
                      "preceeding message with 'tool_calls'.",
                      "messages.[" + Idx(i) + "].role"));
        }
        ++s.tool_results_since_user;
        continue;
      }
      close_pending();
      pending.clear();
      if (role == "user") {
        if (content == nullptr && strict) {
          fail(Invalid("Missing required parameter: 'messages[" + Idx(i) + "].content'.",
                       "messages[" + Idx(i) + "].content", "missing_required_parameter"));
        }
        s.last_user_text = ContentText(content);
        s.tool_results_since_user = 0;
      } else if (role == "assistant") {
        const json::value* calls = FindField(m, "tool_calls");
        if (calls != nullptr && calls->is_array()) {
          pending_from = i;
          CheckToolCalls(calls->as_array(), i, pending, strict, fail);
        } else if (content == nullptr && strict) {
          fail(Invalid("Invalid value for 'messages[" + Idx(i) +
                           "]': an assistant message "
                           "needs 'content' or 'tool_calls'.",
                       "messages[" + Idx(i) + "]"));
        }
      } else if (!is_system && role != "function") {
        fail(Invalid("Invalid value: '" + std::string(role) +
                         "'. Supported values are: 'system', 'assistant', 'user', 'function', "
                         "'tool', and 'developer'.",
                     "messages[" + Idx(i) + "].role", "invalid_value"));
      }
    }
    close_pending();
  }

  template <typename Fail>
  static void CheckToolCalls(const json::array& calls, size_t i, std::vector<std::string>& pending,
                             bool strict, Fail& fail) {
    for (size_t j = 0; j < calls.size(); ++j) {
      std::string where = "messages[" + Idx(i) + "].tool_calls[" + Idx(j) + "]";
      if (!calls[j].is_object()) {
        if (strict) fail(Invalid("Invalid type for '" + where + "': expected an object.", where));
        continue;
      }
      const auto& c = calls[j].as_object();
      std::string_view id = Str(FindField(c, "id"));
      const json::value* fn = FindField(c, "function");
      if (strict) {
        if (id.empty()) {
          fail(Invalid("Missing required parameter: '" + where + ".id'.", where + ".id",
                       "missing_required_parameter"));
        }
        if (Str(FindField(c, "type")) != "function") {
          fail(Invalid("Invalid value for '" + where + ".type': expected 'function'.",
                       where + ".type", "invalid_value"));
        }
        if (fn == nullptr || !fn->is_object() || Str(FindField(fn->as_object(), "name")).empty()) {
          fail(Invalid("Missing required parameter: '" + where + ".function.name'.",
                       where + ".function.name", "missing_required_parameter"));
        } else {
          const json::value* args = FindField(fn->as_object(), "arguments");
          if (args == nullptr || !args->is_string()) {
            fail(Invalid("Invalid type for '" + where +
                             ".function.arguments': expected a string, but got " +
                             (args == nullptr ? "nothing" : "another type") + " instead.",
                         where + ".function.arguments", "invalid_type"));
          }
        }
      }
      if (!id.empty()) pending.emplace_back(id);
    }
  }

  std::string ErrorBody(const ApiError& e) const override {
    JsonWriter w;
    w.BeginObject().Key("error");
    WriteError(w, e);
    w.EndObject();
    return w.Take();
  }

  std::string Body(const Reply& r, const ChatSummary& req) const override {
    JsonWriter w;
    w.str().reserve(512 + r.text.size() + r.thinking.size());
    w.BeginObject()
        .String("id", RandomId("chatcmpl-"))
        .String("object", "chat.completion")
        .Int("created", static_cast<int64_t>(std::time(nullptr)))
        .String("model", req.model)
        .BeginArray("choices")
        .BeginObject()
        .Int("index", 0)
        .BeginObject("message")
        .String("role", "assistant")
        .Key("content");
    if (r.text.empty() && !r.tool_calls.empty()) {
      w.Null();
    } else {
      w.String(r.text);
    }
    w.Null("refusal");
    if (!r.thinking.empty()) w.String("reasoning_content", r.thinking);
    if (!r.tool_calls.empty()) {
      auto ids = CallIds(r);
      w.BeginArray("tool_calls");
      for (size_t i = 0; i < r.tool_calls.size(); ++i) {
        w.BeginObject()
            .String("id", ids[i])
            .String("type", "function")
            .BeginObject("function")
            .String("name", r.tool_calls[i].name)
            .String("arguments", r.tool_calls[i].arguments)
            .EndObject()
            .EndObject();
      }
      w.EndArray();
    }
    w.EndObject()  // message
        .Null("logprobs")
        .String("finish_reason", FinishReason(r))
        .EndObject()
        .EndArray()
        .Key("usage");
    WriteUsage(w, r);
    w.EndObject();
    return w.Take();
  }

  std::vector<std::string> Events(const Reply& r, const ChatSummary& req) const override {
    const std::string id = RandomId("chatcmpl-");
    const int64_t created = static_cast<int64_t>(std::time(nullptr));
    // Every chunk shares this prefix; only the delta and finish_reason vary.
    JsonWriter head;
    head.BeginObject()
        .String("id", id)
        .String("object", "chat.completion.chunk")
        .Int("created", created)
        .String("model", req.model);
    const std::string prefix = head.Take();

    std::vector<std::string> events;
    auto chunk = [&](const std::string& delta, std::string_view finish) {
      std::string f = "data: " + prefix;
      f += ",\"choices\":[{\"index\":0,\"delta\":";
      f += delta;
      f += ",\"logprobs\":null,\"finish_reason\":";
      if (finish.empty()) {
        f += "null";
      } else {
        log::AppendJsonString(f, finish);
      }
      f += "}]";
      if (req.include_usage) f += ",\"usage\":null";
      f += "}\n\n";
      events.push_back(std::move(f));
    };
    auto text_delta = [](std::string_view field, std::string_view piece) {
      JsonWriter w;
      w.BeginObject().String(field, piece).EndObject();
      return w.Take();
    };

    // Like the API: content "" when text follows, null when the answer is only tool calls.
    chunk(r.text.empty() && !r.tool_calls.empty()
              ? "{\"role\":\"assistant\",\"content\":null,\"refusal\":null}"
              : "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
          "");
    for (auto piece : SplitUtf8(r.thinking, r.chunk_size)) {
      chunk(text_delta("reasoning_content", piece), "");
    }
    for (auto piece : SplitUtf8(r.text, r.chunk_size)) chunk(text_delta("content", piece), "");
    auto ids = CallIds(r);
    for (size_t i = 0; i < r.tool_calls.size(); ++i) {
      const auto& t = r.tool_calls[i];
      JsonWriter w;
      w.BeginObject()
          .BeginArray("tool_calls")
          .BeginObject()
          .Int("index", static_cast<int64_t>(i))
          .String("id", ids[i])
          .String("type", "function")
          .BeginObject("function")
          .String("name", t.name)
          .String("arguments", "")
          .EndObject()
          .EndObject()
          .EndArray()
          .EndObject();
      chunk(w.Take(), "");
      for (auto piece : SplitUtf8(t.arguments, r.chunk_size)) {
        JsonWriter a;
        a.BeginObject()
            .BeginArray("tool_calls")
            .BeginObject()
            .Int("index", static_cast<int64_t>(i))
            .BeginObject("function")
            .String("arguments", piece)
            .EndObject()
            .EndObject()
            .EndArray()
            .EndObject();
        chunk(a.Take(), "");
      }
    }
    chunk("{}", FinishReason(r));
    if (req.include_usage) {
      std::string f = "data: " + prefix + ",\"choices\":[],\"usage\":";
      JsonWriter u;
      WriteUsage(u, r);
      f += u.str();
      f += "}\n\n";
      events.push_back(std::move(f));
    }
    events.emplace_back("data: [DONE]\n\n");
    return events;
  }

  std::string ErrorEvent(const ApiError& e) const override {
    std::string f = "data: ";
    f += ErrorBody(e);
    f += "\n\n";
    return f;
  }

  std::string ModelsBody(const std::vector<std::string>& ids) const override {
    JsonWriter w;
    w.BeginObject().String("object", "list").BeginArray("data");
    for (const auto& id : ids) {
      w.BeginObject()
          .String("id", id)
          .String("object", "model")
          .Int("created", 1'700'000'000)
          .String("owned_by", "mock")
          .EndObject();
    }
    w.EndArray().EndObject();
    return w.Take();
  }
};

}  // namespace

const WireFormat& OpenAiFormat() {
  static const OpenAi format;
  return format;
}

}  // namespace pincer::mock
