#include "store/sqlite/migrations.h"

#include "common/log.h"

namespace pincer::store::sqlite {

Result<void> Migrate(Connection& conn, int64_t now_ms) {
  RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
  int64_t current = 0;
  {
    ASSIGN_OR_RETURN(auto q,
                     conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) current = q.Int(0);
  }
  const auto& all = AllMigrations();
  int64_t latest = all.empty() ? 0 : all.back().version;
  if (current > latest) {
    return Error(ErrorCode::kUnavailable, "store_too_new",
                 "database schema version " + std::to_string(current) +
                     " is newer than this binary knows (" + std::to_string(latest) +
                     "); upgrade pincer");
  }
  for (const auto& m : all) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
    auto applied = conn.Exec(m.sql);
    if (applied) {
      ASSIGN_OR_RETURN(
          auto q, conn.Prepare(
                      "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)"));
      applied = q.Bind(1, int64_t{m.version}).Bind(2, m.name).Bind(3, now_ms).Run();
    }
    if (!applied) {
      (void)conn.Exec("ROLLBACK");
      return Internal("migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                      ") failed: " + applied.error().message);
    }
    RETURN_IF_ERROR(conn.Exec("COMMIT"));
    log::Info("store", "applied migration").Field("version", m.version).Field("name", m.name);
  }
  return Ok();
}

}  // namespace pincer::store::sqlite
