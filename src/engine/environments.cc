#include "engine/environments.h"

#include "common/ids.h"

namespace pincer::engine {
namespace {
Error EnvironmentNotFound() { return NotFound("environment_not_found", "environment not found"); }
}  // namespace

Task<Result<domain::Environment>> Environments::Create(const CallContext& ctx,
                                                       const json::value& body) {
  auto parsed = domain::ParseEnvironmentCreate(body);
  if (!parsed) co_return co_await audit_.Reject(ctx, "environment.create", "", parsed.error());
  domain::Environment env = std::move(*parsed);
  env.id = NewId(domain::kEnvironmentIdPrefix);
  env.created_at = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "environment.create", env.id, [&](store::Writer& w, AuditLog::Entry& entry) {
        entry.metadata["name"] = env.name;
        entry.metadata["networking"] = env.networking.type;
        return w.InsertEnvironment(env);
      }));
  co_return env;
}

Result<domain::Environment> Environments::Get(std::string_view id) {
  if (!IsValidId(id, domain::kEnvironmentIdPrefix)) return EnvironmentNotFound();
  ASSIGN_OR_RETURN(auto env, store_.Read()->GetEnvironment(id));
  if (!env) return EnvironmentNotFound();
  return std::move(*env);
}

Result<store::Page<domain::Environment>> Environments::List(const store::PageRequest& page) {
  return store_.Read()->ListEnvironments(page);
}

Task<Result<void>> Environments::Delete(const CallContext& ctx, std::string id) {
  if (!IsValidId(id, domain::kEnvironmentIdPrefix)) {
    co_return co_await audit_.Reject(ctx, "environment.delete", id, EnvironmentNotFound());
  }
  co_return co_await audit_.Mutate(
      ctx, "environment.delete", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(int64_t users, w.CountSessionsUsingEnvironment(id));
        if (users > 0) {
          return Conflict("environment_in_use",
                          std::to_string(users) + " session(s) reference this environment");
        }
        ASSIGN_OR_RETURN(bool deleted, w.DeleteEnvironment(id));
        if (!deleted) return EnvironmentNotFound();
        return Ok();
      });
}

}  // namespace pincer::engine
