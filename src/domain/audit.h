#pragma once

// AuditEvent: one row of the audit log, written for every mutating API call.

#include <cstdint>
#include <optional>
#include <string>

#include "common/json.h"

namespace pincer::domain {

struct AuditEvent {
  int64_t id = 0;          // assigned by the store
  int64_t ts = 0;          // ms
  std::string request_id;  // x-request-id of the call
  std::string actor;       // "token:<8 hex>", "ip:<addr>" or "anonymous"
  std::string action;      // e.g. "agent.create"
  std::string target;      // the resource id ("" when none)
  std::string outcome;     // "ok" or the error code
  json::object metadata;
};

// {id, ts, request_id, actor, action, target, outcome, metadata}
json::object AuditEventToJson(const AuditEvent& e);

}  // namespace pincer::domain
