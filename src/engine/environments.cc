#include "engine/environments.h"

#include "common/ids.h"

namespace pincer::engine {
namespace {
Error EnvironmentNotFound() { return NotFound("environment_not_found", "environment not found"); }

Result<void> CheckNameFree(store::Writer& w, const std::string& name, const std::string& self) {
  ASSIGN_OR_RETURN(auto same, w.FindEnvironmentByName(name));
  if (same && same->id != self) {
    return Conflict("environment_name_taken",
                    "an environment named \"" + name + "\" already exists (" + same->id + ")");
  }
  return Ok();
}
}  // namespace

Task<Result<domain::Environment>> Environments::Create(const CallContext& ctx,
                                                       const json::value& body) {
  auto parsed = domain::ParseEnvironmentCreate(body);
  if (!parsed) co_return co_await audit_.Reject(ctx, "environment.create", "", parsed.error());
  co_return co_await CreateParsed(ctx, std::move(*parsed), /*unique_name=*/false);
}

Task<Result<domain::Environment>> Environments::CreateParsed(const CallContext& ctx,
                                                             domain::Environment env,
                                                             bool unique_name) {
  env.id = NewId(domain::kEnvironmentIdPrefix);
  env.created_at = clock_.NowMs();
  env.updated_at = env.created_at;
  CO_RETURN_IF_ERROR(
      co_await audit_.Mutate(ctx, "environment.create", env.id,
                             [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
                               entry.metadata["name"] = env.name;
                               entry.metadata["networking"] = env.networking.type;
                               if (unique_name) RETURN_IF_ERROR(CheckNameFree(w, env.name, env.id));
                               return w.InsertEnvironment(env);
                             }));
  co_return env;
}

Task<Result<domain::Environment>> Environments::Modify(
    const CallContext& ctx, std::string id,
    std::function<Result<void>(domain::Environment&)> apply) {
  if (!IsValidId(id, domain::kEnvironmentIdPrefix)) {
    co_return co_await audit_.Reject(ctx, "environment.update", id, EnvironmentNotFound());
  }
  domain::Environment result;
  int64_t now = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "environment.update", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetEnvironment(id));
        if (!got) return EnvironmentNotFound();
        if (got->archived_at)
          return Conflict("environment_archived", "archived environments cannot be updated");
        result = std::move(*got);
        std::string old_name = result.name;
        RETURN_IF_ERROR(apply(result));
        if (result.name != old_name) RETURN_IF_ERROR(CheckNameFree(w, result.name, id));
        result.updated_at = now;
        return w.UpdateEnvironment(result);
      }));
  co_return result;
}

Task<Result<domain::Environment>> Environments::Archive(const CallContext& ctx, std::string id) {
  if (!IsValidId(id, domain::kEnvironmentIdPrefix)) {
    co_return co_await audit_.Reject(ctx, "environment.archive", id, EnvironmentNotFound());
  }
  domain::Environment result;
  int64_t now = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "environment.archive", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetEnvironment(id));
        if (!got) return EnvironmentNotFound();
        result = std::move(*got);
        if (result.archived_at) return Ok();
        result.archived_at = now;
        result.updated_at = now;
        return w.UpdateEnvironment(result);
      }));
  co_return result;
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
