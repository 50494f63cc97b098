#include "engine/audit_log.h"

#include "common/log.h"

namespace pincer::engine {

Task<Result<void>> AuditLog::Mutate(const CallContext& ctx, std::string action, std::string target,
                                    Mutation mutation) {
  domain::AuditEvent row;
  row.request_id = ctx.request_id;
  row.actor = ctx.actor.empty() ? "anonymous" : ctx.actor;
  row.action = std::move(action);
  row.target = target;
  row.ts = clock_.NowMs();
  Result<void> result = co_await store_.Write([&](store::Writer& w) -> Result<void> {
    row.ts = clock_.NowMs();  // stamped on the writer so ts order follows commit order
    Entry entry{row.target, {}};
    RETURN_IF_ERROR(mutation(w, entry));
    domain::AuditEvent ok = row;
    ok.target = entry.target;
    ok.metadata = std::move(entry.metadata);
    ok.outcome = "ok";
    return w.InsertAudit(ok);
  });
  if (!result) co_await RecordFailure(std::move(row), result.error());
  co_return result;
}

Task<Error> AuditLog::Reject(const CallContext& ctx, std::string action, std::string target,
                             Error error) {
  domain::AuditEvent row;
  row.request_id = ctx.request_id;
  row.actor = ctx.actor.empty() ? "anonymous" : ctx.actor;
  row.action = std::move(action);
  row.target = std::move(target);
  row.ts = clock_.NowMs();
  co_await RecordFailure(std::move(row), error);
  co_return error;
}

Task<void> AuditLog::RecordFailure(domain::AuditEvent row, const Error& error) {
  row.outcome = error.wire_code.empty() ? ErrorCodeName(error.code) : error.wire_code;
  auto recorded = co_await store_.Write([&](store::Writer& w) {
    row.ts = clock_.NowMs();
    return w.InsertAudit(row);
  });
  if (!recorded) {
    log::Error("audit", "cannot record failed call")
        .Field("action", row.action)
        .Field("error", recorded.error().ToString());
  }
}

Result<store::Page<domain::AuditEvent>> AuditLog::List(const store::AuditQuery& query) {
  return store_.Read()->ListAudit(query);
}

Result<int64_t> AuditLog::Cleanup(int retention_days) {
  if (retention_days <= 0) return int64_t{0};
  int64_t cutoff = clock_.NowMs() - int64_t{retention_days} * 86'400'000;
  int64_t removed = 0;
  RETURN_IF_ERROR(store_.WriteSync([&](store::Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(removed, w.DeleteAuditBefore(cutoff));
    return Ok();
  }));
  return removed;
}

}  // namespace pincer::engine
