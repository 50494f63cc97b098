#pragma once

// Access: the Reader/Writer implementation over one SQLite connection. Read connections
// use only the Reader half (they are opened read-only, so writes fail loudly).

#include "store/sqlite/connection.h"
#include "store/store.h"

namespace pincer::store::sqlite {

class Access final : public Writer {
 public:
  explicit Access(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
  Connection& conn() { return *conn_; }

  Result<std::optional<domain::Agent>> GetAgent(std::string_view id) override;
  Result<Page<domain::Agent>> ListAgents(const PageRequest& page) override;
  Result<std::vector<domain::Agent>> ListAgentVersions(std::string_view id) override;
  Result<std::optional<domain::Environment>> GetEnvironment(std::string_view id) override;
  Result<Page<domain::Environment>> ListEnvironments(const PageRequest& page) override;
  Result<Page<domain::AuditEvent>> ListAudit(const AuditQuery& query) override;

  Result<void> InsertAgent(const domain::Agent& agent) override;
  Result<void> UpdateAgent(const domain::Agent& agent) override;
  Result<void> ArchiveAgent(std::string_view id, int64_t ts) override;
  Result<bool> DeleteAgent(std::string_view id) override;
  Result<void> InsertEnvironment(const domain::Environment& env) override;
  Result<bool> DeleteEnvironment(std::string_view id) override;
  Result<void> InsertAudit(const domain::AuditEvent& event) override;
  Result<int64_t> DeleteAuditBefore(int64_t ts) override;

 private:
  // The seq of row `id` in `table`, for cursors; kInvalidArgument when unknown.
  Result<int64_t> CursorSeq(const char* sql, std::string_view id);
  std::unique_ptr<Connection> conn_;
};

}  // namespace pincer::store::sqlite
