#include "engine/agents.h"

#include "common/ids.h"

namespace pincer::engine {
namespace {

Error AgentNotFound() { return NotFound("agent_not_found", "agent not found"); }

Result<domain::Agent> Require(Result<std::optional<domain::Agent>> got) {
  if (!got) return std::move(got).error();
  if (!got->has_value()) return AgentNotFound();
  return std::move(**got);
}

}  // namespace

Task<Result<domain::Agent>> Agents::Create(const CallContext& ctx, const json::value& body) {
  auto spec = domain::ParseAgentCreate(body);
  if (!spec) co_return co_await audit_.Reject(ctx, "agent.create", "", spec.error());
  co_return co_await CreateSpec(ctx, std::move(*spec));
}

Task<Result<domain::Agent>> Agents::CreateSpec(const CallContext& ctx, domain::AgentSpec spec) {
  domain::Agent agent;
  agent.id = NewId(domain::kAgentIdPrefix);
  agent.spec = std::move(spec);
  agent.version = 1;
  agent.created_at = agent.updated_at = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(ctx, "agent.create", agent.id,
                                            [&](store::Writer& w, AuditLog::Entry& entry) {
                                              entry.metadata["model"] = agent.spec.model;
                                              return w.InsertAgent(agent);
                                            }));
  co_return agent;
}

Result<domain::Agent> Agents::Get(std::string_view id) {
  if (!IsValidId(id, domain::kAgentIdPrefix)) return AgentNotFound();
  return Require(store_.Read()->GetAgent(id));
}

Result<domain::Agent> Agents::GetVersion(std::string_view id, int64_t version) {
  if (!IsValidId(id, domain::kAgentIdPrefix)) return AgentNotFound();
  ASSIGN_OR_RETURN(auto got, store_.Read()->GetAgentVersion(id, version));
  if (got) return std::move(*got);
  ASSIGN_OR_RETURN(auto latest, store_.Read()->GetAgent(id));
  if (!latest) return AgentNotFound();
  return NotFound("agent_version_not_found",
                  "agent " + std::string(id) + " has no version " + std::to_string(version));
}

Result<store::Page<domain::Agent>> Agents::List(const store::PageRequest& page) {
  return store_.Read()->ListAgents(page);
}

Result<std::vector<domain::Agent>> Agents::Versions(std::string_view id) {
  if (!IsValidId(id, domain::kAgentIdPrefix)) return AgentNotFound();
  ASSIGN_OR_RETURN(auto versions, store_.Read()->ListAgentVersions(id));
  if (versions.empty()) return AgentNotFound();
  return versions;
}

Task<Result<domain::Agent>> Agents::Update(const CallContext& ctx, std::string id,
                                           const json::value& body) {
  // Validate the body on its own first so a bad body is a 400 whatever the agent's state.
  auto valid = domain::ParseAgentUpdate(body, domain::AgentSpec{});
  if (!valid) co_return co_await audit_.Reject(ctx, "agent.update", id, valid.error());
  std::function<Result<void>(domain::AgentSpec&)> apply =
      [&body](domain::AgentSpec& spec) -> Result<void> {
    ASSIGN_OR_RETURN(auto update, domain::ParseAgentUpdate(body, spec));
    spec = std::move(update.spec);
    return Ok();
  };
  co_return co_await Modify(ctx, std::move(id), valid->expected_version, std::move(apply));
}

Task<Result<domain::Agent>> Agents::Modify(const CallContext& ctx, std::string id,
                                           std::optional<int64_t> expected_version,
                                           std::function<Result<void>(domain::AgentSpec&)> apply) {
  if (!IsValidId(id, domain::kAgentIdPrefix)) {
    co_return co_await audit_.Reject(ctx, "agent.update", id, AgentNotFound());
  }
  domain::Agent result;
  int64_t now = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "agent.update", id, [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
        ASSIGN_OR_RETURN(domain::Agent current, Require(w.GetAgent(id)));
        if (current.archived_at) {
          return Conflict("agent_archived", "archived agents cannot be updated");
        }
        if (expected_version && *expected_version != current.version) {
          return Conflict("version_conflict", "expected version " +
                                                  std::to_string(current.version) + ", got " +
                                                  std::to_string(*expected_version));
        }
        domain::AgentSpec spec = current.spec;
        RETURN_IF_ERROR(apply(spec));
        if (domain::SameSpec(spec, current.spec)) {
          entry.metadata["noop"] = true;
          entry.metadata["new_version"] = current.version;
          result = std::move(current);
          return Ok();
        }
        result = std::move(current);
        result.spec = std::move(spec);
        result.version += 1;
        result.updated_at = std::max(now, result.updated_at);
        entry.metadata["new_version"] = result.version;
        return w.UpdateAgent(result);
      }));
  co_return result;
}

Task<Result<domain::Agent>> Agents::Archive(const CallContext& ctx, std::string id) {
  if (!IsValidId(id, domain::kAgentIdPrefix)) {
    co_return co_await audit_.Reject(ctx, "agent.archive", id, AgentNotFound());
  }
  domain::Agent result;
  int64_t now = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "agent.archive", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(result, Require(w.GetAgent(id)));
        if (result.archived_at) return Ok();
        result.archived_at = now;
        result.updated_at = now;
        return w.ArchiveAgent(id, now);
      }));
  co_return result;
}

Task<Result<void>> Agents::Delete(const CallContext& ctx, std::string id) {
  if (!IsValidId(id, domain::kAgentIdPrefix)) {
    co_return co_await audit_.Reject(ctx, "agent.delete", id, AgentNotFound());
  }
  co_return co_await audit_.Mutate(ctx, "agent.delete", id,
                                   [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
                                     ASSIGN_OR_RETURN(bool deleted, w.DeleteAgent(id));
                                     if (!deleted) return AgentNotFound();
                                     return Ok();
                                   });
}

}  // namespace pincer::engine
