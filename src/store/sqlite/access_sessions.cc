// Access: sessions, events, the queue and idempotency keys.

#include "common/ids.h"
#include "store/sqlite/access.h"
#include "store/sqlite/rows.h"

namespace pincer::store::sqlite {
namespace {

constexpr const char* kSessionColumns =
    "id, agent_id, agent_version, environment_id, status, run_id, error, output, turns,"
    " tokens_in, tokens_out, cache_read, cache_write, cost_usd, created_at, last_event_at,"
    " ephemeral, parent_session_id, vault_id, next_seq, title, metadata, vault_ids, updated_at,"
    " archived_at";

std::optional<std::string> OptText(const Query& q, int col) {
  return q.IsNull(col) ? std::nullopt : std::optional<std::string>(q.Text(col));
}

Result<domain::Session> SessionFromRow(const Query& q) {
  domain::Session s;
  s.id = q.Text(0);
  s.agent_id = q.Text(1);
  s.agent_version = q.Int(2);
  s.environment_id = OptText(q, 3);
  s.status = q.Text(4);
  s.run_id = q.Int(5);
  s.error = OptText(q, 6);
  s.output = OptText(q, 7);
  s.turns = q.Int(8);
  s.usage.input = q.Int(9);
  s.usage.output = q.Int(10);
  s.usage.cache_read = q.Int(11);
  s.usage.cache_write = q.Int(12);
  s.usage.cost_usd = q.Double(13);
  s.created_at = q.Int(14);
  s.last_event_at = q.OptInt(15);
  s.ephemeral = q.Int(16) != 0;
  s.parent_session_id = OptText(q, 17);
  s.vault_id = OptText(q, 18);
  s.next_seq = q.Int(19);
  s.title = OptText(q, 20);
  if (auto m = ParseJson(q.Text(21), 64); m && m->is_object())
    s.metadata = std::move(m->get_object());
  if (auto v = ParseJson(q.Text(22), 8); v && v->is_array()) {
    for (const auto& id : v->get_array()) {
      if (id.is_string()) s.vault_ids.emplace_back(id.get_string());
    }
  }
  s.updated_at = q.OptInt(23);
  s.archived_at = q.OptInt(24);
  return s;
}

Result<domain::Event> EventFromRow(const Query& q) {
  // Columns: session_id, seq, id, type, created_at, payload
  domain::Event e;
  e.session_id = q.Text(0);
  e.seq = q.Int(1);
  e.id = q.Text(2);
  e.type = q.Text(3);
  e.created_at = q.Int(4);
  auto payload = ParseJson(q.Text(5), 128);
  if (!payload || !payload->is_object()) return Internal("stored event payload is not an object");
  e.payload = std::move(payload->get_object());
  return e;
}

template <typename T>
Query& BindOpt(Query& q, int i, const std::optional<T>& v) {
  return v ? q.Bind(i, *v) : q.BindNull(i);
}

json::array VaultIds(const domain::Session& s) {
  json::array a;
  for (const auto& id : s.vault_ids) a.emplace_back(json::string(id));
  return a;
}

Result<std::vector<std::string>> Ids(Query& q) {
  std::vector<std::string> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(q.Text(0));
  }
}

}  // namespace

Result<std::optional<domain::Agent>> Access::GetAgentVersion(std::string_view id, int64_t version) {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "SELECT v.agent_id, v.version, v.spec, a.created_at, v.created_at, a.archived_at"
                  " FROM agent_versions v JOIN agents a ON a.id = v.agent_id"
                  " WHERE v.agent_id = ? AND v.version = ?"));
  q.Bind(1, id).Bind(2, version);
  return ReadOne<domain::Agent>(q, AgentFromRow);
}

Result<std::optional<domain::Session>> Access::GetSession(std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?";
  ASSIGN_OR_RETURN(auto q, conn_->Prepare(sql.c_str()));
  q.Bind(1, id);
  return ReadOne<domain::Session>(q, SessionFromRow);
}

Result<Page<domain::Session>> Access::ListSessions(const PageRequest& page) {
  int64_t after_seq = 0;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after_seq, CursorSeq("SELECT seq FROM sessions WHERE id = ?", page.after));
  }
  static const std::string sql = std::string("SELECT ") + kSessionColumns +
                                 " FROM sessions WHERE seq > ? ORDER BY seq LIMIT ?";
  ASSIGN_OR_RETURN(auto q, conn_->Prepare(sql.c_str()));
  q.Bind(1, after_seq).Bind(2, page.limit > 0 ? page.limit + 1 : int64_t{-1});
  return ReadPage<domain::Session>(q, page.limit, SessionFromRow,
                                   [](const domain::Session& s) { return s.id; });
}

Result<std::vector<std::string>> Access::ListActiveSessions() {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "SELECT id FROM sessions WHERE status IN ('starting', 'running') ORDER BY seq"));
  return Ids(q);
}

Result<std::vector<std::string>> Access::ListStalledQueues() {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "SELECT DISTINCT s.id FROM sessions s JOIN queued_events q ON q.session_id = s.id"
                  " WHERE s.status IN ('idle', 'failed')"));
  return Ids(q);
}

Result<int64_t> Access::CountSessionsUsingEnvironment(std::string_view environment_id) {
  ASSIGN_OR_RETURN(auto q,
                   conn_->Prepare("SELECT COUNT(*) FROM sessions WHERE environment_id = ?"));
  q.Bind(1, environment_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

Result<std::vector<domain::Event>> Access::ListEvents(std::string_view session_id,
                                                      int64_t after_seq, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare("SELECT session_id, seq, id, type, created_at, payload FROM events"
                             " WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, session_id).Bind(2, after_seq).Bind(3, limit > 0 ? limit : int64_t{-1});
  std::vector<domain::Event> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto e, EventFromRow(q));
    out.push_back(std::move(e));
  }
}

Result<std::optional<int64_t>> Access::FindEventSeq(std::string_view session_id,
                                                    std::string_view event_id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT session_id, seq FROM events WHERE id = ?"));
  q.Bind(1, event_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.Text(0) != session_id) return std::optional<int64_t>();
  return std::optional<int64_t>(q.Int(1));
}

Result<int64_t> Access::QueueSize(std::string_view session_id) {
  ASSIGN_OR_RETURN(auto q,
                   conn_->Prepare("SELECT COUNT(*) FROM queued_events WHERE session_id = ?"));
  q.Bind(1, session_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

Result<std::optional<std::pair<int, std::string>>> Access::GetIdempotentReply(
    std::string_view session_id, std::string_view key) {
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare("SELECT status, body FROM idempotency_keys WHERE session_id = ? AND key = ?"));
  q.Bind(1, session_id).Bind(2, key);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::pair<int, std::string>>();
  return std::optional<std::pair<int, std::string>>(
      std::make_pair(static_cast<int>(q.Int(0)), q.Text(1)));
}

Result<void> Access::InsertSession(const domain::Session& s) {
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare(
          "INSERT INTO sessions(id, agent_id, agent_version, environment_id, status, run_id, error,"
          " output, turns, created_at, last_event_at, ephemeral, parent_session_id, vault_id, "
          "next_seq,"
          " title, metadata, vault_ids, updated_at, archived_at)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, s.id).Bind(2, s.agent_id).Bind(3, s.agent_version);
  BindOpt(q, 4, s.environment_id).Bind(5, s.status).Bind(6, s.run_id);
  BindOpt(q, 7, s.error);
  BindOpt(q, 8, s.output).Bind(9, s.turns).Bind(10, s.created_at);
  BindOpt(q, 11, s.last_event_at).Bind(12, int64_t{s.ephemeral ? 1 : 0});
  BindOpt(q, 13, s.parent_session_id);
  BindOpt(q, 14, s.vault_id).Bind(15, s.next_seq);
  BindOpt(q, 16, s.title).Bind(17, ToJson(s.metadata)).Bind(18, ToJson(VaultIds(s)));
  BindOpt(q, 19, s.updated_at);
  BindOpt(q, 20, s.archived_at);
  return q.Run();
}

Result<void> Access::UpdateSession(const domain::Session& s) {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "UPDATE sessions SET status = ?, run_id = ?, error = ?, output = ?, turns = ?,"
                  " tokens_in = ?, tokens_out = ?, cache_read = ?, cache_write = ?, cost_usd = ?,"
                  " last_event_at = ?, next_seq = ?, title = ?, metadata = ?, updated_at = ?, "
                  "archived_at = ?"
                  " WHERE id = ?"));
  q.Bind(1, s.status).Bind(2, s.run_id);
  BindOpt(q, 3, s.error);
  BindOpt(q, 4, s.output)
      .Bind(5, s.turns)
      .Bind(6, s.usage.input)
      .Bind(7, s.usage.output)
      .Bind(8, s.usage.cache_read)
      .Bind(9, s.usage.cache_write)
      .Bind(10, s.usage.cost_usd);
  BindOpt(q, 11, s.last_event_at).Bind(12, s.next_seq);
  BindOpt(q, 13, s.title).Bind(14, ToJson(s.metadata));
  BindOpt(q, 15, s.updated_at);
  BindOpt(q, 16, s.archived_at).Bind(17, s.id);
  RETURN_IF_ERROR(q.Run());
  if (conn_->Changes() != 1) return NotFound("session_not_found", "session not found");
  return Ok();
}

Result<bool> Access::DeleteSession(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM sessions WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, id).Run());
  return conn_->Changes() > 0;
}

Result<void> Access::AppendEvent(domain::Session& session, domain::Event& event) {
  if (event.id.empty()) event.id = NewId(domain::kEventIdPrefix);
  event.session_id = session.id;
  event.seq = session.next_seq;
  {
    ASSIGN_OR_RETURN(auto q, conn_->Prepare("INSERT INTO events(session_id, seq, id, type, "
                                            "created_at, payload) VALUES (?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(q.Bind(1, event.session_id)
                        .Bind(2, event.seq)
                        .Bind(3, event.id)
                        .Bind(4, event.type)
                        .Bind(5, event.created_at)
                        .Bind(6, ToJson(event.payload))
                        .Run());
  }
  session.next_seq += 1;
  session.last_event_at = event.created_at;
  ASSIGN_OR_RETURN(
      auto u, conn_->Prepare("UPDATE sessions SET next_seq = ?, last_event_at = ? WHERE id = ?"));
  return u.Bind(1, session.next_seq).Bind(2, event.created_at).Bind(3, session.id).Run();
}

Result<void> Access::Enqueue(std::string_view session_id, const json::object& payload,
                             int64_t now) {
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "INSERT INTO queued_events(session_id, payload, enqueued_at) VALUES (?, ?, ?)"));
  return q.Bind(1, session_id).Bind(2, ToJson(payload)).Bind(3, now).Run();
}

Result<std::optional<QueuedMessage>> Access::PopQueue(std::string_view session_id) {
  QueuedMessage m;
  {
    ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT id, payload, enqueued_at FROM queued_events "
                                            "WHERE session_id = ? ORDER BY id LIMIT 1"));
    q.Bind(1, session_id);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<QueuedMessage>();
    m.id = q.Int(0);
    auto payload = ParseJson(q.Text(1), 64);
    if (payload && payload->is_object()) m.payload = std::move(payload->get_object());
    m.enqueued_at = q.Int(2);
  }
  ASSIGN_OR_RETURN(auto d, conn_->Prepare("DELETE FROM queued_events WHERE id = ?"));
  RETURN_IF_ERROR(d.Bind(1, m.id).Run());
  return std::optional<QueuedMessage>(std::move(m));
}

Result<int64_t> Access::ClearQueue(std::string_view session_id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM queued_events WHERE session_id = ?"));
  RETURN_IF_ERROR(q.Bind(1, session_id).Run());
  return conn_->Changes();
}

Result<void> Access::PutIdempotentReply(std::string_view session_id, std::string_view key,
                                        int status, std::string_view body, int64_t now) {
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare(
          "INSERT OR REPLACE INTO idempotency_keys(session_id, key, status, body, created_at)"
          " VALUES (?, ?, ?, ?, ?)"));
  return q.Bind(1, session_id)
      .Bind(2, key)
      .Bind(3, int64_t{status})
      .Bind(4, body)
      .Bind(5, now)
      .Run();
}

Result<int64_t> Access::DeleteIdempotentRepliesBefore(int64_t ts) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM idempotency_keys WHERE created_at < ?"));
  RETURN_IF_ERROR(q.Bind(1, ts).Run());
  return conn_->Changes();
}

}  // namespace pincer::store::sqlite
