#pragma once

// Agents: create, read, update (new immutable version, optimistic concurrency), archive and
// delete agent templates. Every mutation is audited.
//
// Errors (wire codes): agent_not_found (kNotFound), agent_archived and version_conflict
// (kConflict), invalid_request (kInvalidArgument).

#include <string_view>

#include "common/clock.h"
#include "common/json.h"
#include "common/result.h"
#include "common/task.h"
#include "domain/agent.h"
#include "engine/audit_log.h"
#include "store/store.h"

namespace pincer::engine {

class Agents {
 public:
  Agents(store::Store& store, AuditLog& audit, Clock& clock)
      : store_(store), audit_(audit), clock_(clock) {}

  // Validates `body` (create schema) and stores version 1.
  Task<Result<domain::Agent>> Create(const CallContext& ctx, const json::value& body);
  Result<domain::Agent> Get(std::string_view id);
  Result<store::Page<domain::Agent>> List(const store::PageRequest& page);
  // Every version, ascending. agent_not_found when the agent does not exist.
  Result<std::vector<domain::Agent>> Versions(std::string_view id);
  // Applies an update body. A body that changes nothing returns the agent unchanged (no new
  // version). Checks, in order: body (400), existence (404), archived (409), version (409).
  Task<Result<domain::Agent>> Update(const CallContext& ctx, std::string id,
                                     const json::value& body);
  // Marks the agent archived; archiving twice is a no-op returning the archived agent.
  Task<Result<domain::Agent>> Archive(const CallContext& ctx, std::string id);
  // Hard-deletes the agent and its versions.
  Task<Result<void>> Delete(const CallContext& ctx, std::string id);

 private:
  store::Store& store_;
  AuditLog& audit_;
  Clock& clock_;
};

}  // namespace pincer::engine
