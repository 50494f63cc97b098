#include "store/sqlite/connection.h"

#include "common/log.h"

namespace pincer::store::sqlite {

Query::~Query() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Query& Query::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Query& Query::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Query& Query::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Query& Query::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Query::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->LastError(sqlite3_sql(stmt_));
}

Result<void> Query::Run() {
  for (;;) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Ok();
  }
}

std::string Query::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (p == nullptr) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool read_only,
                                                     bool synchronous_full) {
  sqlite3* db = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error(ErrorCode::kUnavailable, "store_unavailable",
                 "cannot open database " + path + ": " + msg);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
  if (!read_only) {
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=";
    pragmas += synchronous_full ? "FULL;" : "NORMAL;";
  }
  RETURN_IF_ERROR(conn->Exec(pragmas));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<void> Connection::Exec(std::string_view sql) {
  std::string copy(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Internal("sqlite: " + msg);
  }
  return Ok();
}

Result<Query> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Query(it->second, this);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return LastError(sql);
  cache_.emplace(sql, stmt);
  return Query(stmt, this);
}

Error Connection::LastError(std::string_view what) const {
  int code = sqlite3_extended_errcode(db_);
  std::string detail = std::string("sqlite: ") + sqlite3_errmsg(db_) +
                       " (in: " + std::string(what.substr(0, 80)) + ")";
  // Retryable conditions reach clients as 503; their message must not carry SQL text.
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    log::Warn("store", "database busy").Field("detail", detail);
    return Error(ErrorCode::kUnavailable, "store_busy", "the database is busy; retry shortly");
  }
  if ((code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR) {
    log::Error("store", "database unavailable").Field("detail", detail);
    return Error(ErrorCode::kUnavailable, "store_unavailable",
                 "the database cannot be written (disk full or I/O error)");
  }
  return Internal(detail);
}

}  // namespace pincer::store::sqlite
