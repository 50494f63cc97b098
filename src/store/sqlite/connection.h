#pragma once

// Thin RAII wrapper over one sqlite3 connection with a prepared-statement cache.
// A Connection is used by one thread at a time.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace pincer::store::sqlite {

class Connection;

// A cached prepared statement, reset and unbound when the Query goes out of scope.
class Query {
 public:
  Query(sqlite3_stmt* stmt, Connection* conn) : stmt_(stmt), conn_(conn) {}
  Query(Query&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)), conn_(o.conn_) {}
  Query& operator=(Query&&) = delete;
  ~Query();

  // Binds parameters by 1-based index.
  Query& Bind(int i, std::string_view v);
  Query& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, int64_t v);
  Query& Bind(int i, int v) { return Bind(i, int64_t{v}); }
  Query& Bind(int i, double v);
  Query& BindNull(int i);
  template <typename T>
  Query& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Runs to completion (for statements without rows).
  Result<void> Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }

 private:
  sqlite3_stmt* stmt_;
  Connection* conn_;
};

class Connection {
 public:
  // Opens `path` with WAL, foreign keys and a busy timeout. `read_only` opens it read-only.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only,
                                                  bool synchronous_full);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Executes one or more statements without results.
  Result<void> Exec(std::string_view sql);
  // A cached prepared statement for `sql` (which must be a string literal or otherwise outlive
  // the connection: the cache is keyed by its address).
  Result<Query> Prepare(const char* sql);

  // Changes made by the last statement.
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  // An error carrying sqlite's message for the last failure of `what`.
  Error LastError(std::string_view what) const;
  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace pincer::store::sqlite
