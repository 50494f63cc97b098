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
  Result<std::optional<domain::Environment>> FindEnvironmentByName(std::string_view name) override;
  Result<std::optional<domain::Vault>> GetVault(std::string_view id) override;
  Result<Page<domain::Vault>> ListVaults(const PageRequest& page) override;
  Result<std::optional<domain::Credential>> GetCredential(std::string_view id) override;
  Result<Page<domain::Credential>> ListCredentials(std::string_view vault_id,
                                                   const PageRequest& page) override;
  Result<void> UpdateEnvironment(const domain::Environment& env) override;
  Result<void> PutVault(const domain::Vault& vault) override;
  Result<bool> DeleteVault(std::string_view id) override;
  Result<void> PutCredential(const domain::Credential& credential) override;
  Result<bool> DeleteCredential(std::string_view id) override;
  Result<Page<domain::AuditEvent>> ListAudit(const AuditQuery& query) override;

  Result<void> InsertAgent(const domain::Agent& agent) override;
  Result<void> UpdateAgent(const domain::Agent& agent) override;
  Result<void> ArchiveAgent(std::string_view id, int64_t ts) override;
  Result<bool> DeleteAgent(std::string_view id) override;
  Result<void> InsertEnvironment(const domain::Environment& env) override;
  Result<bool> DeleteEnvironment(std::string_view id) override;
  Result<void> InsertAudit(const domain::AuditEvent& event) override;
  Result<int64_t> DeleteAuditBefore(int64_t ts) override;

  // Sessions, events, queue (access_sessions.cc).
  Result<std::optional<domain::Agent>> GetAgentVersion(std::string_view id,
                                                       int64_t version) override;
  Result<std::optional<domain::Session>> GetSession(std::string_view id) override;
  Result<Page<domain::Session>> ListSessions(const PageRequest& page) override;
  Result<std::vector<std::string>> ListActiveSessions() override;
  Result<std::vector<std::string>> ListStalledQueues() override;
  Result<int64_t> CountSessionsUsingEnvironment(std::string_view environment_id) override;
  Result<std::vector<domain::Event>> ListEvents(std::string_view session_id, int64_t after_seq,
                                                int64_t limit) override;
  Result<std::optional<int64_t>> FindEventSeq(std::string_view session_id,
                                              std::string_view event_id) override;
  Result<int64_t> QueueSize(std::string_view session_id) override;
  Result<std::optional<std::pair<int, std::string>>> GetIdempotentReply(
      std::string_view session_id, std::string_view key) override;
  Result<void> InsertSession(const domain::Session& session) override;
  Result<void> UpdateSession(const domain::Session& session) override;
  Result<bool> DeleteSession(std::string_view id) override;
  Result<void> AppendEvent(domain::Session& session, domain::Event& event) override;
  Result<void> Enqueue(std::string_view session_id, const json::object& payload,
                       int64_t now) override;
  Result<std::optional<QueuedMessage>> PopQueue(std::string_view session_id) override;
  Result<int64_t> ClearQueue(std::string_view session_id) override;
  Result<void> PutIdempotentReply(std::string_view session_id, std::string_view key, int status,
                                  std::string_view body, int64_t now) override;
  Result<int64_t> DeleteIdempotentRepliesBefore(int64_t ts) override;

  void OnCommit(UniqueFunction<void()> fn) override { on_commit_.push_back(std::move(fn)); }
  // For the writer loop: callbacks registered so far, and dropping those of a rolled-back job.
  std::vector<UniqueFunction<void()>>& on_commit() { return on_commit_; }

 private:
  // The seq of row `id` in `table`, for cursors; kInvalidArgument when unknown.
  Result<int64_t> CursorSeq(const char* sql, std::string_view id);
  std::unique_ptr<Connection> conn_;
  std::vector<UniqueFunction<void()>> on_commit_;
};

}  // namespace pincer::store::sqlite
