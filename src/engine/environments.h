#pragma once

// Environments: create, read, list and delete sandbox templates. Mutations are audited.
// Errors (wire codes): environment_not_found (kNotFound), invalid_request.

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
  Result<domain::Environment> Get(std::string_view id);
  Result<store::Page<domain::Environment>> List(const store::PageRequest& page);
  Task<Result<void>> Delete(const CallContext& ctx, std::string id);

 private:
  store::Store& store_;
  AuditLog& audit_;
  Clock& clock_;
};

}  // namespace pincer::engine
