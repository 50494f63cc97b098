// Session events in the Anthropic dialect.
//
// The session log is shared by both dialects; this file renders native events in the
// dialect's shapes (content blocks, RFC 3339 processed_at, stop_reason objects) and validates
// the events a client sends. Derived events (a failed turn's session.status_idle, the
// session.status_running that follows an answer) get the native id plus a suffix.

#include "api/anthropic/dialect.h"
#include "domain/validation.h"

namespace pincer::api::anthropic {
namespace {

using domain::Checker;
using domain::FieldErrors;

std::string Str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool Bool(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_bool() && v->get_bool();
}

json::array TextBlocks(const json::object& payload) {
  if (const auto* b = payload.if_contains("content_blocks"); b && b->is_array())
    return b->get_array();
  return json::array{json::object{{"type", "text"}, {"text", Str(payload, "content")}}};
}

json::object Base(const domain::Event& e, std::string type, std::string id = "") {
  return json::object{{"id", id.empty() ? e.id : std::move(id)},
                      {"type", std::move(type)},
                      {"processed_at", Time(e.created_at)}};
}

json::object Idle(const domain::Event& e, std::string id, json::object stop_reason) {
  json::object o = Base(e, "session.status_idle", std::move(id));
  o["stop_reason"] = std::move(stop_reason);
  return o;
}

// The dialect's error type for a failed turn's native error code.
std::pair<const char*, const char*> ErrorType(const std::string& code) {
  if (code == "provider_rate_limited") return {"model_rate_limited_error", "exhausted"};
  if (code == "provider_unavailable") return {"model_overloaded_error", "exhausted"};
  if (code == "provider_timeout" || code == "provider_stalled")
    return {"model_request_failed_error", "exhausted"};
  if (code.rfind("provider_", 0) == 0 || code == "context_overflow" || code == "invalid_model" ||
      code == "missing_api_key" || code == "missing_base_url") {
    return {"model_request_failed_error", "terminal"};
  }
  if (code == "quota_exceeded") return {"billing_error", "terminal"};
  return {"unknown_error", "terminal"};
}

}  // namespace

std::vector<json::object> DialectEvents(const domain::Event& e) {
  const std::string& t = e.type;
  const json::object& p = e.payload;
  std::vector<json::object> out;
  if (t == "user.message") {
    json::object o = Base(e, t);
    o["content"] = TextBlocks(p);
    out.push_back(std::move(o));
  } else if (t == "user.interrupt") {
    out.push_back(Base(e, t));
  } else if (t == "user.tool_confirmation" || t == "user.custom_tool_result") {
    json::object o = Base(e, t);
    if (t == "user.tool_confirmation") {
      std::string use = Str(p, "tool_use_id");
      o["tool_use_id"] = use.empty() ? Str(p, "approval_id") : use;
      o["result"] = Str(p, "result");
      if (p.contains("deny_message")) o["deny_message"] = Str(p, "deny_message");
    } else {
      o["custom_tool_use_id"] = Str(p, "custom_tool_use_id");
      o["content"] = TextBlocks(p);
      o["is_error"] = Bool(p, "is_error");
    }
    out.push_back(std::move(o));
    out.push_back(Base(e, "session.status_running", e.id + "_run"));  // the turn resumes
  } else if (t == "session.status_running") {
    out.push_back(Base(e, t));
  } else if (t == "session.status_idle") {
    out.push_back(Idle(e, "", json::object{{"type", "end_turn"}}));
  } else if (t == "session.status_failed") {
    auto [type, retry] = ErrorType(Str(p, "error_code"));
    json::object err = Base(e, "session.error");
    err["error"] = json::object{{"type", type},
                                {"message", Str(p, "error")},
                                {"retry_status", json::object{{"type", retry}}}};
    out.push_back(std::move(err));
    out.push_back(Idle(e, e.id + "_idle", json::object{{"type", "retries_exhausted"}}));
  } else if (t == "agent.message") {
    json::object o = Base(e, t);
    o["content"] = json::array{json::object{{"type", "text"}, {"text", Str(p, "content")}}};
    out.push_back(std::move(o));
  } else if (t == "agent.thinking") {
    out.push_back(Base(e, t));
  } else if (t == "agent.tool_use" || t == "agent.custom_tool_use") {
    json::object o = Base(e, t);
    o["name"] = Str(p, "tool_name");
    const auto* args = p.if_contains("tool_arguments");
    o["input"] = args && args->is_object() ? *args : json::value(json::object{});
    if (t == "agent.tool_use") {
      std::string perm = Str(p, "evaluated_permission");
      o["evaluated_permission"] = perm.empty() ? "allow" : perm;
    }
    out.push_back(std::move(o));
  } else if (t == "agent.tool_result") {
    if (Bool(p, "custom")) return out;  // the client's user.custom_tool_result already says it
    json::object o = Base(e, t);
    std::string use = Str(p, "tool_use_event_id");
    o["tool_use_id"] = use.empty() ? Str(p, "tool_call_id") : use;
    o["content"] = json::array{json::object{{"type", "text"}, {"text", Str(p, "content")}}};
    o["is_error"] = Bool(p, "is_error");
    out.push_back(std::move(o));
  } else if (t == "agent.tool_confirmation_request") {
    std::string use = Str(p, "tool_use_event_id");
    json::array ids{json::value(use.empty() ? e.id : use)};
    out.push_back(
        Idle(e, "", json::object{{"type", "requires_action"}, {"event_ids", std::move(ids)}}));
  } else if (t == "session.requires_action") {
    const auto* ids = p.if_contains("event_ids");
    json::array list = ids && ids->is_array() ? ids->get_array() : json::array{};
    out.push_back(
        Idle(e, "", json::object{{"type", "requires_action"}, {"event_ids", std::move(list)}}));
  } else if (t == "session.compaction") {
    out.push_back(Base(e, "agent.thread_context_compacted"));
  }
  // Other native events (session.context, …) have no dialect form.
  return out;
}

domain::Event EventFromNativeJson(const json::object& o) {
  domain::Event e;
  for (const auto& kv : o) {
    std::string_view k = kv.key();
    if (k == "event_id" && kv.value().is_string()) {
      e.id = kv.value().get_string();
    } else if (k == "session_id" && kv.value().is_string()) {
      e.session_id = kv.value().get_string();
    } else if (k == "seq" && kv.value().is_int64()) {
      e.seq = kv.value().get_int64();
    } else if (k == "type" && kv.value().is_string()) {
      e.type = kv.value().get_string();
    } else if (k == "created_at" && kv.value().is_int64()) {
      e.created_at = kv.value().get_int64();
    } else {
      e.payload[k] = kv.value();
    }
  }
  return e;
}

namespace {

// Text of content blocks: text blocks, and documents with a plain-text source.
std::optional<std::string> BlocksText(const json::value& v, const std::string& path,
                                      size_t min_blocks, FieldErrors& errors) {
  if (!v.is_array()) {
    errors.Add(path,
               std::string("expected an array of content blocks, got ") + domain::JsonKindName(v));
    return std::nullopt;
  }
  const auto& a = v.get_array();
  if (a.size() < min_blocks || a.size() > 1000) {
    errors.Add(path, "must have " + std::to_string(min_blocks) + "..1000 content blocks");
    return std::nullopt;
  }
  std::string text;
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string at = path + "." + std::to_string(i);
    if (!a[i].is_object()) {
      errors.Add(at, "expected object");
      ok = false;
      continue;
    }
    const json::object& b = a[i].get_object();
    std::string type = Str(b, "type");
    std::string piece;
    if (type == "text") {
      const auto* t = b.if_contains("text");
      if (t == nullptr || !t->is_string()) {
        errors.Add(at + ".text", "required string");
        ok = false;
        continue;
      }
      piece = t->get_string();
    } else if (type == "document") {
      const auto* src = b.if_contains("source");
      if (src == nullptr || !src->is_object() || Str(src->get_object(), "type") != "text") {
        errors.Add(at + ".source",
                   "only documents with a {\"type\":\"text\"} source are supported");
        ok = false;
        continue;
      }
      std::string title = Str(b, "title");
      piece = (title.empty() ? "" : title + "\n\n") + Str(src->get_object(), "data");
    } else {
      errors.Add(at + ".type",
                 type.empty()
                     ? "required"
                     : "\"" + type + "\" blocks are not supported (text and text documents are)");
      ok = false;
      continue;
    }
    if (!text.empty()) text += "\n\n";
    text += piece;
  }
  if (!ok) return std::nullopt;
  if (text.size() > (1 << 20)) {
    errors.Add(path, "text must be at most 1 MiB");
    return std::nullopt;
  }
  return text;
}

}  // namespace

Result<std::vector<SendEvent>> ParseSendEvents(const json::value& body) {
  FieldErrors errors;
  std::vector<SendEvent> out;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + domain::JsonKindName(body));
    return errors.ToError();
  }
  Checker top(body.get_object(), errors);
  top.Strict({"events"});
  const auto* events = body.get_object().if_contains("events");
  if (events == nullptr || !events->is_array() || events->get_array().empty() ||
      events->get_array().size() > 50) {
    errors.Add("events", "required: an array of 1..50 events");
    return errors.ToError();
  }
  for (size_t i = 0; i < events->get_array().size(); ++i) {
    const auto& ev = events->get_array()[i];
    std::string path = "events." + std::to_string(i);
    if (!ev.is_object()) {
      errors.Add(path, "expected object");
      continue;
    }
    const json::object& o = ev.get_object();
    Checker c(o, errors, path + ".");
    SendEvent s;
    auto type = c.Enum(
        "type",
        {"user.message", "user.interrupt", "user.tool_confirmation", "user.custom_tool_result"},
        /*required=*/true);
    if (!type) continue;
    s.type = *type;
    if (s.type == "user.message") {
      c.Strict({"type", "content"});
      if (const auto* content = o.if_contains("content")) {
        if (auto text = BlocksText(*content, path + ".content", 1, errors)) {
          s.text = std::move(*text);
          s.blocks = content->get_array();
        }
      } else {
        c.Fail("content", "required");
      }
    } else if (s.type == "user.interrupt") {
      c.Strict({"type", "session_thread_id"});
    } else if (s.type == "user.tool_confirmation") {
      c.Strict({"type", "tool_use_id", "result", "deny_message", "session_thread_id"});
      s.tool_use_id = c.String("tool_use_id", 1, 128, true).value_or("");
      auto result = c.Enum("result", {"allow", "deny"}, true);
      s.allow = result && *result == "allow";
      if (!c.IsNull("deny_message"))
        s.deny_message = c.String("deny_message", 0, 4096).value_or("");
    } else {
      c.Strict({"type", "custom_tool_use_id", "content", "is_error", "session_thread_id"});
      s.tool_use_id = c.String("custom_tool_use_id", 1, 128, true).value_or("");
      s.is_error = c.Bool("is_error").value_or(false);
      if (const auto* content = o.if_contains("content"); content && !content->is_null()) {
        if (auto text = BlocksText(*content, path + ".content", 0, errors)) {
          s.text = std::move(*text);
          s.blocks = content->get_array();
        }
      }
    }
    out.push_back(std::move(s));
  }
  if (!errors.empty()) return errors.ToError();
  return out;
}

}  // namespace pincer::api::anthropic
