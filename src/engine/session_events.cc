#include "engine/session_events.h"

#include "common/log.h"

namespace pincer::engine {

namespace et = domain::event_type;

Result<domain::Event> EmitEvent(store::Writer& w, EventBus& bus, domain::Session& session,
                                domain::Event event) {
  RETURN_IF_ERROR(w.AppendEvent(session, event));
  auto frame = std::make_shared<Frame>();
  frame->event = event.type;
  frame->seq = event.seq;
  frame->data = ToJson(domain::EventToJson(event));
  if (event.type.rfind("session.status_", 0) == 0) frame->status = event.type.substr(15);
  w.OnCommit(
      [&bus, sid = session.id, frame = FramePtr(std::move(frame))] { bus.Publish(sid, frame); });
  return event;
}

domain::Event StatusEvent(const std::string& status, int64_t now, std::string stop_reason,
                          std::string error) {
  domain::Event e;
  e.type = "session.status_" + status;
  e.created_at = now;
  e.payload["status"] = status;
  if (!stop_reason.empty()) e.payload["stop_reason"] = stop_reason;
  if (!error.empty()) {
    e.payload["error"] = error;
    e.payload["content"] = error;
  }
  return e;
}

domain::Event UserMessageEvent(const json::object& payload, int64_t now) {
  domain::Event e;
  e.type = et::kUserMessage;
  e.created_at = now;
  if (const auto* id = payload.if_contains("_event_id"); id && id->is_string())
    e.id = id->get_string();
  for (const char* k : {"content", "content_blocks", "model", "thinking_level"}) {
    if (const auto* v = payload.if_contains(k)) e.payload[k] = *v;
  }
  return e;
}

domain::Event ToolResultEvent(const std::string& tool_name, const std::string& tool_call_id,
                              const std::string& content, bool is_error, int64_t now) {
  domain::Event e;
  e.type = et::kAgentToolResult;
  e.created_at = now;
  e.payload["content"] = content;
  e.payload["tool_name"] = tool_name;
  e.payload["tool_call_id"] = tool_call_id;
  e.payload["is_error"] = is_error;
  return e;
}

std::vector<domain::Event> StepEvents(const llm::Response& r, const domain::Usage& usage,
                                      const std::string& model, int64_t step, int64_t now) {
  std::vector<domain::Event> out;
  auto make = [&](const char* type) {
    domain::Event e;
    e.type = type;
    e.created_at = now;
    e.payload["_step"] = step;
    return e;
  };
  auto attach_usage = [&](domain::Event& e) {
    e.payload["tokens"] = json::object{{"input", usage.prompt_total()},
                                       {"output", usage.output},
                                       {"cache_read", usage.cache_read},
                                       {"cache_write", usage.cache_write}};
    e.payload["cost_usd"] = usage.cost_usd;
    e.payload["model"] = model;
    e.payload["stop_reason"] = r.stop_reason;
  };
  if (!r.thinking.empty()) {
    domain::Event e = make(et::kAgentThinking);
    e.payload["content"] = r.thinking;
    if (!r.thinking_signature.empty()) e.payload["_signature"] = r.thinking_signature;
    out.push_back(std::move(e));
  }
  bool usage_attached = false;
  if (!r.text.empty() || r.tool_calls.empty()) {
    domain::Event e = make(et::kAgentMessage);
    e.payload["content"] = r.text;
    attach_usage(e);
    usage_attached = true;
    out.push_back(std::move(e));
  }
  for (const auto& call : r.tool_calls) {
    domain::Event e = make(et::kAgentToolUse);
    e.payload["content"] = call.name;
    e.payload["tool_name"] = call.name;
    e.payload["tool_call_id"] = call.id;
    e.payload["tool_arguments"] = call.arguments;
    if (!usage_attached) {
      attach_usage(e);
      usage_attached = true;
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<domain::Session> CurrentRun(store::Writer& w, const std::string& sid, int64_t run_id) {
  ASSIGN_OR_RETURN(auto got, w.GetSession(sid));
  if (!got || !got->in_flight() || got->run_id != run_id) {
    return Error(ErrorCode::kCancelled, "superseded", "the run was cancelled, replaced or deleted");
  }
  return std::move(*got);
}

std::string TruncateToolOutput(std::string s) {
  constexpr size_t kMax = 100'000;
  if (s.size() <= kMax) return s;
  size_t cut = s.size() - kMax;
  s.resize(kMax);
  return s + "\n[output truncated: " + std::to_string(cut) + " more bytes]";
}

FramePtr DeltaFrame(const std::string& session_id, const char* type, std::string_view text,
                    std::string_view event_id) {
  auto f = std::make_shared<Frame>();
  f->event = type;
  f->delta = true;
  std::string data = "{\"session_id\":";
  log::AppendJsonString(data, session_id);
  data += ",\"type\":\"";
  data += type;
  data += "\",\"delta\":";
  log::AppendJsonString(data, text);
  if (!event_id.empty()) {
    data += ",\"event_id\":";
    log::AppendJsonString(data, event_id);
  }
  data += '}';
  f->data = std::move(data);
  return f;
}

FramePtr TransientStatusFrame(const std::string& session_id, const std::string& status,
                              int64_t now) {
  auto f = std::make_shared<Frame>();
  f->event = "session.status_" + status;
  f->status = status;
  json::object o{{"session_id", session_id},
                 {"type", f->event},
                 {"status", status},
                 {"created_at", now},
                 {"ts", now}};
  f->data = ToJson(o);
  return f;
}

}  // namespace pincer::engine
