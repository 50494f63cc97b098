#pragma once

// Agents: create, read, update (new immutable version, optimistic concurrency), archive and
// delete agent templates. Every mutation is audited.
//
// Errors (wire codes): agent_not_found (kNotFound), agent_archived and version_conflict
// (kConflict), invalid_request (kInvalidArgument).

#include <functional>
#include <optional>
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
  // Stores an already-validated spec as version 1 (used by the Anthropic dialect).
  Task<Result<domain::Agent>> CreateSpec(const CallContext& ctx, domain::AgentSpec spec);
  Result<domain::Agent> Get(std::string_view id);
  // One version of the agent; agent_not_found / agent_version_not_found when absent.
  Result<domain::Agent> GetVersion(std::string_view id, int64_t version);
  Result<store::Page<domain::Agent>> List(const store::PageRequest& page);
  // Every version, ascending. agent_not_found when the agent does not exist.
  Result<std::vector<domain::Agent>> Versions(std::string_view id);
  // Applies an update body. A body that changes nothing returns the agent unchanged (no new
  // version). Checks, in order: body (400), existence (404), archived (409), version (409).
  Task<Result<domain::Agent>> Update(const CallContext& ctx, std::string id,
                                     const json::value& body);
  // Applies `apply` to a copy of the current spec inside the write; a changed spec becomes a
  // new version. With `expected_version`, a mismatch is 409 version_conflict. `apply` errors
  // are returned as they are (400s for bad input).
  Task<Result<domain::Agent>> Modify(const CallContext& ctx, std::string id,
                                     std::optional<int64_t> expected_version,
                                     std::function<Result<void>(domain::AgentSpec&)> apply);
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
