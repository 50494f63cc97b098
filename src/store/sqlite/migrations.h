#pragma once

// Schema migrations: numbered SQL files in migrations/ (NNN_name.sql), embedded into the
// binary at build time (migrations_generated.cc). Each pending migration runs once, in order,
// in its own transaction, and is recorded in schema_migrations.

#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/sqlite/connection.h"

namespace pincer::store::sqlite {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// All migrations, ascending by version (generated).
const std::vector<Migration>& AllMigrations();

// Applies pending migrations. Fails if the database is newer than this binary.
Result<void> Migrate(Connection& conn, int64_t now_ms);

}  // namespace pincer::store::sqlite
