#include "step.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <initializer_list>
#include <string_view>

#include "wire_util.h"

namespace pincer::mock {
namespace {

Error Bad(std::string where, std::string what) {
  return InvalidArgument(std::move(where) + ": " + std::move(what));
}

Result<void> OnlyKeys(const json::object& o, const std::string& where,
                      std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      return Bad(where, "unknown field \"" + std::string(kv.key()) + "\"");
    }
  }
  return Ok();
}

Result<std::string> GetString(const json::object& o, std::string_view key,
                              const std::string& where) {
  const json::value* v = FindField(o, key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return Bad(where + "." + std::string(key), "must be a string");
  return std::string(v->as_string());
}

Result<std::optional<int64_t>> GetInt(const json::object& o, std::string_view key,
                                      const std::string& where, int64_t min, int64_t max) {
  const json::value* v = FindField(o, key);
  if (v == nullptr) return std::optional<int64_t>();
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(max)) {
    n = static_cast<int64_t>(v->as_uint64());
  } else if (v->is_double() &&
             v->as_double() == static_cast<double>(static_cast<int64_t>(v->as_double()))) {
    n = static_cast<int64_t>(v->as_double());
  } else {
    return Bad(where + "." + std::string(key), "must be an integer");
  }
  if (n < min || n > max) {
    return Bad(where + "." + std::string(key),
               "must be in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return std::optional<int64_t>(n);
}

constexpr int64_t kMaxMs = 3'600'000;

Result<ApiError> ParseError(const json::value& v, const std::string& where) {
  if (!v.is_object()) return Bad(where, "must be an object");
  const auto& o = v.as_object();
  RETURN_IF_ERROR(OnlyKeys(o, where, {"type", "message", "code", "param"}));
  ApiError e;
  ASSIGN_OR_RETURN(e.type, GetString(o, "type", where));
  ASSIGN_OR_RETURN(e.message, GetString(o, "message", where));
  ASSIGN_OR_RETURN(e.code, GetString(o, "code", where));
  ASSIGN_OR_RETURN(e.param, GetString(o, "param", where));
  return e;
}

Result<ToolCallSpec> ParseToolCall(const json::value& v, const std::string& where) {
  if (!v.is_object()) return Bad(where, "must be an object");
  const auto& o = v.as_object();
  RETURN_IF_ERROR(OnlyKeys(o, where, {"name", "arguments", "id"}));
  ToolCallSpec t;
  ASSIGN_OR_RETURN(t.name, GetString(o, "name", where));
  if (t.name.empty()) return Bad(where + ".name", "is required");
  ASSIGN_OR_RETURN(t.id, GetString(o, "id", where));
  if (const json::value* a = FindField(o, "arguments")) {
    if (a->is_string()) {
      t.arguments = std::string(a->as_string());  // raw, possibly malformed on purpose
    } else if (a->is_object()) {
      t.arguments = json::serialize(*a);
    } else {
      return Bad(where + ".arguments", "must be an object (or a raw JSON string)");
    }
  }
  return t;
}

Result<Step> ParseStep(const json::value& v, const std::string& where) {
  if (!v.is_object()) return Bad(where, "must be an object");
  const auto& o = v.as_object();
  RETURN_IF_ERROR(OnlyKeys(o, where,
                           {"text", "thinking", "tool_calls", "usage", "cost", "delay_ms",
                            "chunk_delay_ms", "chunk_size", "status", "error", "fail_after_chunks",
                            "fail_mode", "hang", "stop_reason", "expect", "headers"}));
  Step s;
  ASSIGN_OR_RETURN(s.text, GetString(o, "text", where));
  ASSIGN_OR_RETURN(s.thinking, GetString(o, "thinking", where));
  if (const json::value* tc = FindField(o, "tool_calls")) {
    if (!tc->is_array()) return Bad(where + ".tool_calls", "must be an array");
    for (size_t i = 0; i < tc->as_array().size(); ++i) {
      ASSIGN_OR_RETURN(auto call, ParseToolCall(tc->as_array()[i],
                                                where + ".tool_calls[" + std::to_string(i) + "]"));
      s.tool_calls.push_back(std::move(call));
    }
  }
  if (const json::value* u = FindField(o, "usage")) {
    std::string w = where + ".usage";
    if (!u->is_object()) return Bad(w, "must be an object");
    const auto& uo = u->as_object();
    RETURN_IF_ERROR(OnlyKeys(uo, w, {"input", "output", "cache_read", "cache_write", "reasoning"}));
    constexpr int64_t kMaxTok = int64_t{1} << 40;
    ASSIGN_OR_RETURN(s.usage.input, GetInt(uo, "input", w, 0, kMaxTok));
    ASSIGN_OR_RETURN(s.usage.output, GetInt(uo, "output", w, 0, kMaxTok));
    ASSIGN_OR_RETURN(s.usage.cache_read, GetInt(uo, "cache_read", w, 0, kMaxTok));
    ASSIGN_OR_RETURN(s.usage.cache_write, GetInt(uo, "cache_write", w, 0, kMaxTok));
    ASSIGN_OR_RETURN(s.usage.reasoning, GetInt(uo, "reasoning", w, 0, kMaxTok));
  }
  if (const json::value* c = FindField(o, "cost")) {
    if (!c->is_number()) return Bad(where + ".cost", "must be a number");
    s.cost = c->to_number<double>();
  }
  ASSIGN_OR_RETURN(auto delay, GetInt(o, "delay_ms", where, 0, kMaxMs));
  s.delay_ms = delay.value_or(0);
  ASSIGN_OR_RETURN(auto chunk_delay, GetInt(o, "chunk_delay_ms", where, 0, kMaxMs));
  s.chunk_delay_ms = chunk_delay.value_or(0);
  ASSIGN_OR_RETURN(auto chunk_size, GetInt(o, "chunk_size", where, 1, 1 << 20));
  s.chunk_size = chunk_size.value_or(8);
  ASSIGN_OR_RETURN(auto status, GetInt(o, "status", where, 100, 599));
  s.status = static_cast<int>(status.value_or(0));
  if (const json::value* e = FindField(o, "error")) {
    ASSIGN_OR_RETURN(s.error, ParseError(*e, where + ".error"));
  }
  ASSIGN_OR_RETURN(s.fail_after_chunks, GetInt(o, "fail_after_chunks", where, 0, 1 << 30));
  ASSIGN_OR_RETURN(auto mode, GetString(o, "fail_mode", where));
  if (mode == "error_event") {
    s.fail_mode = FailMode::kErrorEvent;
  } else if (!mode.empty() && mode != "close") {
    return Bad(where + ".fail_mode", "must be \"close\" or \"error_event\"");
  }
  if (const json::value* h = FindField(o, "hang")) {
    if (!h->is_bool()) return Bad(where + ".hang", "must be a boolean");
    s.hang = h->as_bool();
  }
  ASSIGN_OR_RETURN(s.stop_reason, GetString(o, "stop_reason", where));
  if (const json::value* e = FindField(o, "expect")) {
    std::string w = where + ".expect";
    if (!e->is_object()) return Bad(w, "must be an object");
    RETURN_IF_ERROR(OnlyKeys(e->as_object(), w, {"model"}));
    if (const json::value* m = FindField(e->as_object(), "model")) {
      if (!m->is_string()) return Bad(w + ".model", "must be a string");
      s.expect_model = std::string(m->as_string());
    }
  }
  if (const json::value* h = FindField(o, "headers")) {
    if (!h->is_object()) return Bad(where + ".headers", "must be an object of strings");
    for (const auto& kv : h->as_object()) {
      if (!kv.value().is_string()) {
        return Bad(where + ".headers." + std::string(kv.key()), "must be a string");
      }
      s.headers.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
    }
  }
  if (s.status != 0 && s.status < 400) {
    return Bad(where + ".status", "must be an error status (400..599)");
  }
  return s;
}

int64_t Tokens(size_t chars) { return std::max<int64_t>(1, static_cast<int64_t>(chars / 4)); }

// Fills usage defaults: output from the reply size, reasoning from the thinking size.
void DefaultUsage(Reply& r, const ChatSummary& req, const UsageSpec& u) {
  size_t out_chars = r.text.size() + r.thinking.size();
  for (const auto& t : r.tool_calls) out_chars += t.name.size() + t.arguments.size();
  r.input = u.input.value_or(req.input_estimate);
  r.output = u.output.value_or(Tokens(out_chars));
  r.cache_read = u.cache_read.value_or(0);
  r.cache_write = u.cache_write.value_or(0);
  r.reasoning = u.reasoning.value_or(r.thinking.empty() ? 0 : Tokens(r.thinking.size()));
}

}  // namespace

Result<std::vector<Step>> ParseSteps(const json::value& body) {
  const json::value* list = &body;
  if (body.is_object()) {
    RETURN_IF_ERROR(OnlyKeys(body.as_object(), "body", {"steps"}));
    list = FindField(body.as_object(), "steps");
    if (list == nullptr) return Bad("steps", "is required");
  }
  if (!list->is_array()) return Bad("steps", "must be an array");
  std::vector<Step> steps;
  steps.reserve(list->as_array().size());
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    ASSIGN_OR_RETURN(auto s, ParseStep(list->as_array()[i], "steps[" + std::to_string(i) + "]"));
    steps.push_back(std::move(s));
  }
  return steps;
}

Result<std::optional<AutoConfig>> ParseAutoConfig(const json::value& v) {
  if (v.is_null()) return std::optional<AutoConfig>();
  if (!v.is_object()) return Bad("auto", "must be an object or null");
  const auto& o = v.as_object();
  RETURN_IF_ERROR(OnlyKeys(
      o, "auto", {"tool_steps", "tool_name", "text", "delay_ms", "chunk_delay_ms", "chunk_size"}));
  AutoConfig c;
  ASSIGN_OR_RETURN(auto steps, GetInt(o, "tool_steps", "auto", 0, 1'000'000));
  c.tool_steps = steps.value_or(0);
  ASSIGN_OR_RETURN(c.tool_name, GetString(o, "tool_name", "auto"));
  if (FindField(o, "text") != nullptr) {
    ASSIGN_OR_RETURN(c.text, GetString(o, "text", "auto"));
  }
  ASSIGN_OR_RETURN(auto delay, GetInt(o, "delay_ms", "auto", 0, kMaxMs));
  c.delay_ms = delay.value_or(0);
  ASSIGN_OR_RETURN(auto chunk_delay, GetInt(o, "chunk_delay_ms", "auto", 0, kMaxMs));
  c.chunk_delay_ms = chunk_delay.value_or(0);
  ASSIGN_OR_RETURN(auto chunk_size, GetInt(o, "chunk_size", "auto", 1, 1 << 20));
  c.chunk_size = chunk_size.value_or(8);
  return std::optional<AutoConfig>(std::move(c));
}

std::string AutoConfigJson(const std::optional<AutoConfig>& c) {
  JsonWriter w;
  w.BeginObject().Key("auto");
  if (!c) {
    w.Null();
  } else {
    w.BeginObject()
        .Int("tool_steps", c->tool_steps)
        .String("tool_name", c->tool_name)
        .String("text", c->text)
        .Int("delay_ms", c->delay_ms)
        .Int("chunk_delay_ms", c->chunk_delay_ms)
        .Int("chunk_size", c->chunk_size)
        .EndObject();
  }
  w.EndObject();
  return w.Take();
}

Reply ReplyFromStep(const Step& step, const ChatSummary& req) {
  Reply r;
  r.text = step.text;
  r.thinking = step.thinking;
  r.tool_calls.reserve(step.tool_calls.size());
  for (const auto& t : step.tool_calls) r.tool_calls.push_back({t.id, t.name, t.arguments});
  DefaultUsage(r, req, step.usage);
  r.cost = step.cost;
  r.stop_reason = step.stop_reason;
  r.chunk_size = static_cast<size_t>(step.chunk_size);
  r.chunk_delay_ms = step.chunk_delay_ms;
  r.fail_after_chunks = step.fail_after_chunks;
  r.fail_mode = step.fail_mode;
  r.stream_error = step.error;
  r.headers = step.headers;
  return r;
}

Reply ReplyFromAuto(const AutoConfig& config, const ChatSummary& req) {
  Reply r;
  if (req.tool_results_since_user < config.tool_steps) {
    std::string name = config.tool_name;
    if (name.empty()) name = req.first_tool_name.empty() ? "mock_tool" : req.first_tool_name;
    r.tool_calls.push_back({"", std::move(name),
                            "{\"step\":" + std::to_string(req.tool_results_since_user + 1) + "}"});
  } else {
    r.text = config.text;
  }
  DefaultUsage(r, req, {});
  r.chunk_size = static_cast<size_t>(config.chunk_size);
  r.chunk_delay_ms = config.chunk_delay_ms;
  return r;
}

Reply EchoReply(const ChatSummary& req) {
  Reply r;
  r.text = "echo: " + req.last_user_text;
  DefaultUsage(r, req, {});
  return r;
}

}  // namespace pincer::mock
