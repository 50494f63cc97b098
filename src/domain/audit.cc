#include "domain/audit.h"

namespace pincer::domain {

json::object AuditEventToJson(const AuditEvent& e) {
  json::object o;
  o["id"] = e.id;
  o["ts"] = e.ts;
  o["request_id"] = e.request_id.empty() ? json::value(nullptr) : json::value(e.request_id);
  o["actor"] = e.actor;
  o["action"] = e.action;
  o["target"] = e.target.empty() ? json::value(nullptr) : json::value(e.target);
  o["outcome"] = e.outcome;
  o["metadata"] = e.metadata;
  return o;
}

}  // namespace pincer::domain
