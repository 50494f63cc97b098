#include "store/sqlite/access.h"

#include "store/sqlite/rows.h"

namespace pincer::store::sqlite {
namespace {

Result<domain::Environment> EnvironmentFromRow(const Query& q) {
  // Columns: id, name, spec, created_at, updated_at, archived_at
  domain::Environment e;
  e.id = q.Text(0);
  e.name = q.Text(1);
  RETURN_IF_ERROR(domain::EnvironmentSpecFromStorage(q.Text(2), e));
  e.created_at = q.Int(3);
  e.updated_at = q.OptInt(4);
  e.archived_at = q.OptInt(5);
  return e;
}

}  // namespace

Result<domain::Agent> AgentFromRow(const Query& q) {
  // Columns: id, version, spec, created_at, updated_at, archived_at
  domain::Agent a;
  a.id = q.Text(0);
  a.version = q.Int(1);
  ASSIGN_OR_RETURN(a.spec, domain::AgentSpecFromStorage(q.Text(2)));
  a.created_at = q.Int(3);
  a.updated_at = q.Int(4);
  a.archived_at = q.OptInt(5);
  return a;
}

Result<int64_t> Access::CursorSeq(const char* sql, std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare(sql));
  q.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row)
    return InvalidArgument("unknown cursor \"after\": " + std::string(id), "invalid_cursor");
  return q.Int(0);
}

Result<std::optional<domain::Agent>> Access::GetAgent(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT id, version, spec, created_at, updated_at, "
                                          "archived_at FROM agents WHERE id = ?"));
  q.Bind(1, id);
  return ReadOne<domain::Agent>(q, AgentFromRow);
}

Result<Page<domain::Agent>> Access::ListAgents(const PageRequest& page) {
  int64_t after_seq = 0;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after_seq, CursorSeq("SELECT seq FROM agents WHERE id = ?", page.after));
  }
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare("SELECT id, version, spec, created_at, updated_at, archived_at FROM agents"
                     " WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, after_seq).Bind(2, page.limit > 0 ? page.limit + 1 : int64_t{-1});
  return ReadPage<domain::Agent>(q, page.limit, AgentFromRow,
                                 [](const domain::Agent& a) { return a.id; });
}

Result<std::vector<domain::Agent>> Access::ListAgentVersions(std::string_view id) {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "SELECT agent_id, version, spec, created_at, created_at, NULL FROM agent_versions"
                  " WHERE agent_id = ? ORDER BY version"));
  q.Bind(1, id);
  std::vector<domain::Agent> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(auto a, AgentFromRow(q));
    out.push_back(std::move(a));
  }
  // Each version row reports its own creation time as both created_at and updated_at.
  return out;
}

Result<std::optional<domain::Environment>> Access::GetEnvironment(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT id, name, spec, created_at, updated_at, "
                                          "archived_at FROM environments WHERE id = ?"));
  q.Bind(1, id);
  return ReadOne<domain::Environment>(q, EnvironmentFromRow);
}

Result<Page<domain::Environment>> Access::ListEnvironments(const PageRequest& page) {
  int64_t after_seq = 0;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after_seq, CursorSeq("SELECT seq FROM environments WHERE id = ?", page.after));
  }
  ASSIGN_OR_RETURN(auto q,
                   conn_->Prepare("SELECT id, name, spec, created_at, updated_at, archived_at FROM "
                                  "environments WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, after_seq).Bind(2, page.limit > 0 ? page.limit + 1 : int64_t{-1});
  return ReadPage<domain::Environment>(q, page.limit, EnvironmentFromRow,
                                       [](const domain::Environment& e) { return e.id; });
}

Result<Page<domain::AuditEvent>> Access::ListAudit(const AuditQuery& query) {
  // One statement with optional filters: a NULL parameter disables its clause.
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare(
          "SELECT id, ts, request_id, actor, action, target, outcome, metadata FROM audit_events"
          " WHERE (?1 IS NULL OR ts >= ?1) AND (?2 IS NULL OR ts <= ?2)"
          " AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR action LIKE ?4 ESCAPE '\\')"
          " AND (?5 IS NULL OR target = ?5)"
          " AND (?6 IS NULL OR ts < ?8 OR (ts = ?8 AND id < ?6))"
          " ORDER BY ts DESC, id DESC LIMIT ?7"));
  q.Bind(1, query.since).Bind(2, query.until);
  if (query.action.empty()) {
    q.BindNull(3).BindNull(4);
  } else if (query.action.find('%') != std::string::npos) {
    q.BindNull(3).Bind(4, query.action);
  } else {
    q.Bind(3, query.action).BindNull(4);
  }
  if (query.target.empty()) {
    q.BindNull(5);
  } else {
    q.Bind(5, query.target);
  }
  int64_t cursor_ts = 0;
  if (query.before_id) {
    ASSIGN_OR_RETURN(auto c, conn_->Prepare("SELECT ts FROM audit_events WHERE id = ?"));
    c.Bind(1, *query.before_id);
    ASSIGN_OR_RETURN(bool row, c.Step());
    if (!row)
      return InvalidArgument("unknown cursor \"after\": " + std::to_string(*query.before_id),
                             "invalid_cursor");
    cursor_ts = c.Int(0);
  }
  q.Bind(6, query.before_id).Bind(7, query.limit + 1).Bind(8, cursor_ts);
  auto from_row = [](const Query& r) -> Result<domain::AuditEvent> {
    domain::AuditEvent e;
    e.id = r.Int(0);
    e.ts = r.Int(1);
    e.request_id = r.Text(2);
    e.actor = r.Text(3);
    e.action = r.Text(4);
    e.target = r.Text(5);
    e.outcome = r.Text(6);
    auto meta = ParseJson(r.Text(7), 64);
    if (meta && meta->is_object()) e.metadata = std::move(meta->get_object());
    return e;
  };
  return ReadPage<domain::AuditEvent>(
      q, query.limit, from_row, [](const domain::AuditEvent& e) { return std::to_string(e.id); });
}

Result<void> Access::InsertAgent(const domain::Agent& a) {
  std::string spec = domain::AgentSpecToStorage(a.spec);
  {
    ASSIGN_OR_RETURN(
        auto q,
        conn_->Prepare("INSERT INTO agents(id, version, spec, created_at, updated_at, archived_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(q.Bind(1, a.id)
                        .Bind(2, a.version)
                        .Bind(3, spec)
                        .Bind(4, a.created_at)
                        .Bind(5, a.updated_at)
                        .Bind(6, a.archived_at)
                        .Run());
  }
  ASSIGN_OR_RETURN(
      auto v,
      conn_->Prepare(
          "INSERT INTO agent_versions(agent_id, version, spec, created_at) VALUES (?, ?, ?, ?)"));
  return v.Bind(1, a.id).Bind(2, a.version).Bind(3, spec).Bind(4, a.updated_at).Run();
}

Result<void> Access::UpdateAgent(const domain::Agent& a) {
  std::string spec = domain::AgentSpecToStorage(a.spec);
  {
    ASSIGN_OR_RETURN(auto q, conn_->Prepare("UPDATE agents SET version = ?, spec = ?, updated_at = "
                                            "?, archived_at = ? WHERE id = ?"));
    RETURN_IF_ERROR(q.Bind(1, a.version)
                        .Bind(2, spec)
                        .Bind(3, a.updated_at)
                        .Bind(4, a.archived_at)
                        .Bind(5, a.id)
                        .Run());
    if (conn_->Changes() != 1) return NotFound("agent_not_found");
  }
  ASSIGN_OR_RETURN(
      auto v,
      conn_->Prepare(
          "INSERT INTO agent_versions(agent_id, version, spec, created_at) VALUES (?, ?, ?, ?)"));
  return v.Bind(1, a.id).Bind(2, a.version).Bind(3, spec).Bind(4, a.updated_at).Run();
}

Result<void> Access::ArchiveAgent(std::string_view id, int64_t ts) {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare("UPDATE agents SET archived_at = ?, updated_at = ? WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, ts).Bind(2, ts).Bind(3, id).Run());
  if (conn_->Changes() != 1) return NotFound("agent_not_found");
  return Ok();
}

Result<bool> Access::DeleteAgent(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM agents WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, id).Run());
  return conn_->Changes() > 0;
}

Result<void> Access::InsertEnvironment(const domain::Environment& e) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("INSERT INTO environments(id, name, spec, created_at, "
                                          "updated_at, archived_at) VALUES (?, ?, ?, ?, ?, ?)"));
  return q.Bind(1, e.id)
      .Bind(2, e.name)
      .Bind(3, domain::EnvironmentSpecToStorage(e))
      .Bind(4, e.created_at)
      .Bind(5, e.updated_at)
      .Bind(6, e.archived_at)
      .Run();
}

Result<bool> Access::DeleteEnvironment(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM environments WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, id).Run());
  return conn_->Changes() > 0;
}

Result<void> Access::InsertAudit(const domain::AuditEvent& e) {
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare(
          "INSERT INTO audit_events(ts, request_id, actor, action, target, outcome, metadata)"
          " VALUES (?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, e.ts);
  e.request_id.empty() ? q.BindNull(2) : q.Bind(2, e.request_id);
  q.Bind(3, e.actor).Bind(4, e.action);
  e.target.empty() ? q.BindNull(5) : q.Bind(5, e.target);
  return q.Bind(6, e.outcome).Bind(7, ToJson(e.metadata)).Run();
}

Result<int64_t> Access::DeleteAuditBefore(int64_t ts) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM audit_events WHERE ts < ?"));
  RETURN_IF_ERROR(q.Bind(1, ts).Run());
  return conn_->Changes();
}

}  // namespace pincer::store::sqlite
