#pragma once

// Environments: create, read, list and delete sandbox templates. Mutations are audited.
// Errors (wire codes): environment_not_found (kNotFound), environment_name_taken and
// environment_in_use (kConflict), invalid_request.

#include <functional>
#include <string_view>

#include "common/clock.h"
#include "common/json.h"
#include "common/result.h"
#include "common/task.h"
#include "domain/environment.h"
#include "engine/audit_log.h"
#include "store/store.h"

namespace pincer::engine {

class Environments {
 public:
  Environments(store::Store& store, AuditLog& audit, Clock& clock)
      : store_(store), audit_(audit), clock_(clock) {}

  Task<Result<domain::Environment>> Create(const CallContext& ctx, const json::value& body);
  // Stores an already-validated environment. With `unique_name`, a live (not archived)
  // environment of the same name is 409 environment_name_taken.
  Task<Result<domain::Environment>> CreateParsed(const CallContext& ctx, domain::Environment env,
                                                 bool unique_name);
  // Applies `apply` to the stored environment (changes affect sandboxes started afterwards).
  // A rename onto a live environment's name is 409 environment_name_taken.
  Task<Result<domain::Environment>> Modify(const CallContext& ctx, std::string id,
                                           std::function<Result<void>(domain::Environment&)> apply);
  // Marks the environment archived (no new sessions); archiving twice is a no-op.
  Task<Result<domain::Environment>> Archive(const CallContext& ctx, std::string id);
  Result<domain::Environment> Get(std::string_view id);
  Result<store::Page<domain::Environment>> List(const store::PageRequest& page);
  Task<Result<void>> Delete(const CallContext& ctx, std::string id);

 private:
  store::Store& store_;
  AuditLog& audit_;
  Clock& clock_;
};

}  // namespace pincer::engine
