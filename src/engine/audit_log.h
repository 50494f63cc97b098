#pragma once

// AuditLog: records every mutating API call and serves the audit query.
//
// Mutations go through AuditLog::Mutate, which runs the change and its audit row in one
// transaction; when the change fails, the failure is recorded in a separate row with the
// error code as the outcome. Retention: rows older than `retention_days` are deleted by
// Cleanup() (run at start-up and hourly by the app).

#include <functional>
#include <string>

#include "common/clock.h"
#include "common/json.h"
#include "common/result.h"
#include "common/task.h"
#include "engine/call_context.h"
#include "store/store.h"

namespace pincer::engine {

class AuditLog {
 public:
  AuditLog(store::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // What a mutation reports back for its audit row.
  struct Entry {
    std::string target;
    json::object metadata;
  };
  using Mutation = std::function<Result<void>(store::Writer&, Entry&)>;

  // Runs `mutation` in a write transaction together with the audit row for `action`.
  // `target` is the resource id known before the call (may be refined through Entry).
  Task<Result<void>> Mutate(const CallContext& ctx, std::string action, std::string target,
                            Mutation mutation);

  // Records a call rejected before reaching the store (bad body, malformed id) and returns
  // `error` for the caller to pass on.
  Task<Error> Reject(const CallContext& ctx, std::string action, std::string target, Error error);

  // Filters as in store::AuditQuery.
  Result<store::Page<domain::AuditEvent>> List(const store::AuditQuery& query);

  // Deletes rows older than `retention_days` (0 = keep forever). Returns rows deleted.
  Result<int64_t> Cleanup(int retention_days);

 private:
  Task<void> RecordFailure(domain::AuditEvent row, const Error& error);

  store::Store& store_;
  Clock& clock_;
};

}  // namespace pincer::engine
