#include "domain/session.h"

namespace pincer::domain {
namespace {
json::value OrNull(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
}  // namespace

json::object SessionToJson(const Session& s) {
  json::object o;
  o.reserve(20);
  o["session_id"] = s.id;
  o["agent_id"] = s.agent_id;
  o["agent_version"] = s.agent_version;
  o["environment_id"] = OrNull(s.environment_id);
  o["status"] = s.status;
  o["output"] = OrNull(s.output);
  o["tokens"] = json::object{{"input", s.usage.prompt_total()},
                             {"output", s.usage.output},
                             {"cache_read", s.usage.cache_read},
                             {"cache_write", s.usage.cache_write}};
  o["cost_usd"] = s.usage.cost_usd;
  o["error"] = OrNull(s.error);
  o["created_at"] = s.created_at;
  o["last_event_at"] = s.last_event_at ? json::value(*s.last_event_at) : json::value(nullptr);
  o["turns"] = s.turns;
  o["boot_ms"] = s.boot_ms ? json::value(*s.boot_ms) : json::value(nullptr);
  o["pool_source"] = OrNull(s.pool_source);
  o["container_id"] = OrNull(s.container_id);
  o["container_name"] = OrNull(s.container_name);
  o["parent_session_id"] = OrNull(s.parent_session_id);
  if (s.title) o["title"] = *s.title;
  if (!s.metadata.empty()) o["metadata"] = s.metadata;
  if (s.archived_at) o["archived_at"] = *s.archived_at;
  return o;
}

json::object EventToJson(const Event& e) {
  json::object o;
  o.reserve(e.payload.size() + 6);
  o["event_id"] = e.id;
  o["session_id"] = e.session_id;
  o["seq"] = e.seq;
  o["type"] = e.type;
  o["content"] = "";
  o["created_at"] = e.created_at;
  for (const auto& kv : e.payload) {
    if (!kv.key().empty() && kv.key()[0] == '_') continue;
    o[kv.key()] = kv.value();
  }
  return o;
}

}  // namespace pincer::domain
