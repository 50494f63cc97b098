#pragma once

// Store: the persistence seam. One implementation per engine (sqlite/ now, postgres/ later),
// all passing the same contract tests (store_contract_test.cc).
//
// Reads go through a Reader borrowed for the duration of a call (cheap; safe on I/O threads
// for point lookups and bounded pages). Writes are serialized through Store::Write: the
// function runs on the single writer inside a transaction (nested in a savepoint, so an error
// result rolls back exactly that function's changes, never a partial row) and the awaiting
// coroutine resumes on its own executor once the change is durable.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/task.h"
#include "common/unique_function.h"
#include "domain/agent.h"
#include "domain/audit.h"
#include "domain/environment.h"
#include "domain/session.h"
#include "domain/vault.h"

namespace pincer::store {

// Cursor pagination: `limit` 0 = everything; `after` = the last id of the previous page.
struct PageRequest {
  int64_t limit = 0;
  std::string after;
};

template <typename T>
struct Page {
  std::vector<T> items;
  bool has_more = false;
  std::string next_after;  // id of the last item when has_more
};

struct AuditQuery {
  std::optional<int64_t> since;  // ts >= since
  std::optional<int64_t> until;  // ts <= until
  std::string action;            // exact, or SQL LIKE when it contains '%'
  std::string target;            // exact
  int64_t limit = 100;
  std::optional<int64_t> before_id;  // cursor: id < before_id (newest first)
};

class Reader {
 public:
  virtual ~Reader() = default;

  // nullopt when absent. Errors only on storage failure (kInternal).
  virtual Result<std::optional<domain::Agent>> GetAgent(std::string_view id) = 0;
  // In creation order. Unknown `after` → kInvalidArgument "invalid_cursor".
  virtual Result<Page<domain::Agent>> ListAgents(const PageRequest& page) = 0;
  // Every version, ascending; empty when the agent does not exist.
  virtual Result<std::vector<domain::Agent>> ListAgentVersions(std::string_view id) = 0;

  virtual Result<std::optional<domain::Environment>> GetEnvironment(std::string_view id) = 0;
  virtual Result<Page<domain::Environment>> ListEnvironments(const PageRequest& page) = 0;
  virtual Result<std::optional<domain::Environment>> FindEnvironmentByName(
      std::string_view name) = 0;

  virtual Result<std::optional<domain::Vault>> GetVault(std::string_view id) = 0;
  virtual Result<Page<domain::Vault>> ListVaults(const PageRequest& page) = 0;
  virtual Result<std::optional<domain::Credential>> GetCredential(std::string_view id) = 0;
  virtual Result<Page<domain::Credential>> ListCredentials(std::string_view vault_id,
                                                           const PageRequest& page) = 0;

  // Newest first (ts DESC, id DESC).
  virtual Result<Page<domain::AuditEvent>> ListAudit(const AuditQuery& query) = 0;

  // One version of an agent (nullopt when the agent or that version does not exist).
  virtual Result<std::optional<domain::Agent>> GetAgentVersion(std::string_view id,
                                                               int64_t version) = 0;

  virtual Result<std::optional<domain::Session>> GetSession(std::string_view id) = 0;
  virtual Result<Page<domain::Session>> ListSessions(const PageRequest& page) = 0;
  // Sessions whose status is starting or running (for recovery after a restart).
  virtual Result<std::vector<std::string>> ListActiveSessions() = 0;
  // Idle or failed sessions that still have queued messages.
  virtual Result<std::vector<std::string>> ListStalledQueues() = 0;
  virtual Result<int64_t> CountSessionsUsingEnvironment(std::string_view environment_id) = 0;

  // Events with seq > after_seq, ascending; limit 0 = all.
  virtual Result<std::vector<domain::Event>> ListEvents(std::string_view session_id,
                                                        int64_t after_seq, int64_t limit) = 0;
  // The seq of event `event_id` in the session, nullopt when unknown.
  virtual Result<std::optional<int64_t>> FindEventSeq(std::string_view session_id,
                                                      std::string_view event_id) = 0;
  virtual Result<int64_t> QueueSize(std::string_view session_id) = 0;

  // A stored reply for (session, Idempotency-Key), if any: {status, body}.
  virtual Result<std::optional<std::pair<int, std::string>>> GetIdempotentReply(
      std::string_view session_id, std::string_view key) = 0;
};

// A queued user message.
struct QueuedMessage {
  int64_t id = 0;
  json::object payload;  // {"content", "model"?, "thinking_level"?}
  int64_t enqueued_at = 0;
};

class Writer : public Reader {
 public:
  // Inserts the agent and its version row.
  virtual Result<void> InsertAgent(const domain::Agent& agent) = 0;
  // Replaces the current state with `agent` (whose version must be new) and records the
  // version row.
  virtual Result<void> UpdateAgent(const domain::Agent& agent) = 0;
  // Sets archived_at and updated_at.
  virtual Result<void> ArchiveAgent(std::string_view id, int64_t ts) = 0;
  // Deletes the agent and every version; false when absent.
  virtual Result<bool> DeleteAgent(std::string_view id) = 0;

  virtual Result<void> InsertEnvironment(const domain::Environment& env) = 0;
  // Writes name, spec, updated_at and archived_at.
  virtual Result<void> UpdateEnvironment(const domain::Environment& env) = 0;
  virtual Result<void> PutVault(const domain::Vault& vault) = 0;  // insert or replace
  virtual Result<bool> DeleteVault(std::string_view id) = 0;
  virtual Result<void> PutCredential(const domain::Credential& credential) = 0;
  virtual Result<bool> DeleteCredential(std::string_view id) = 0;
  virtual Result<bool> DeleteEnvironment(std::string_view id) = 0;

  // Assigns the id.
  virtual Result<void> InsertAudit(const domain::AuditEvent& event) = 0;
  // Deletes rows with ts < `ts`; returns how many.
  virtual Result<int64_t> DeleteAuditBefore(int64_t ts) = 0;

  virtual Result<void> InsertSession(const domain::Session& session) = 0;
  // Writes every mutable field of `session` (status, run_id, error, output, turns, usage,
  // last_event_at, next_seq). kNotFound when the row is gone.
  virtual Result<void> UpdateSession(const domain::Session& session) = 0;
  // Deletes the session with its events, queue and idempotency rows; false when absent.
  virtual Result<bool> DeleteSession(std::string_view id) = 0;

  // Appends `event` to `session`'s log: assigns event.seq = session.next_seq, advances
  // session.next_seq and last_event_at, and persists both.
  virtual Result<void> AppendEvent(domain::Session& session, domain::Event& event) = 0;

  virtual Result<void> Enqueue(std::string_view session_id, const json::object& payload,
                               int64_t now) = 0;
  // Removes and returns the oldest queued message.
  virtual Result<std::optional<QueuedMessage>> PopQueue(std::string_view session_id) = 0;
  // Drops every queued message; returns how many.
  virtual Result<int64_t> ClearQueue(std::string_view session_id) = 0;

  virtual Result<void> PutIdempotentReply(std::string_view session_id, std::string_view key,
                                          int status, std::string_view body, int64_t now) = 0;
  virtual Result<int64_t> DeleteIdempotentRepliesBefore(int64_t ts) = 0;

  // Runs `fn` on the writer thread after this write's transaction has committed (never when
  // it rolls back). Callbacks run in commit order, which keeps live event fan-out in log order.
  virtual void OnCommit(UniqueFunction<void()> fn) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // A reader for the calling thread; return it by letting the handle go out of scope.
  class ReadHandle {
   public:
    ReadHandle(Reader* r, UniqueFunction<void(Reader*)> release)
        : reader_(r), release_(std::move(release)) {}
    ReadHandle(ReadHandle&& o) noexcept
        : reader_(std::exchange(o.reader_, nullptr)), release_(std::move(o.release_)) {}
    ReadHandle& operator=(ReadHandle&&) = delete;
    ~ReadHandle() {
      if (reader_ && release_) release_(reader_);
    }
    Reader* operator->() { return reader_; }
    Reader& operator*() { return *reader_; }

   private:
    Reader* reader_;
    UniqueFunction<void(Reader*)> release_;
  };
  virtual ReadHandle Read() = 0;

  // Runs `fn` on the writer inside a transaction as described above.
  virtual Task<Result<void>> Write(UniqueFunction<Result<void>(Writer&)> fn) = 0;

  // Runs `fn` on the writer and blocks the calling thread until it is durable (start-up,
  // housekeeping threads and tests; never on an I/O thread).
  Result<void> WriteSync(UniqueFunction<Result<void>(Writer&)> fn);
};

struct SqliteOptions {
  std::string path;               // database file; ":memory:" is not supported (use a temp file)
  bool synchronous_full = false;  // PRAGMA synchronous=FULL instead of NORMAL
  int max_batch = 256;            // writes grouped into one transaction at most
};

// Opens (creating if needed) and migrates the database. Errors name the file and the cause.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace pincer::store
