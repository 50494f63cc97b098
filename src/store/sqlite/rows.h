#pragma once

// Row readers shared by the Access files: one row, or a page of rows, through a FromRow
// function (Result<T>(const Query&)).

#include <optional>

#include "store/sqlite/connection.h"
#include "store/store.h"

namespace pincer::store::sqlite {

// The query's first row through `from_row`; nullopt when it has none.
template <typename T, typename FromRow>
Result<std::optional<T>> ReadOne(Query& q, FromRow from_row) {
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<T>();
  ASSIGN_OR_RETURN(auto item, from_row(q));
  return std::optional<T>(std::move(item));
}

// Up to limit+1 rows through `from_row`, trimmed to a page of `limit` (0 = all); `next_after`
// is the id (`id_of`) of the page's last item when more follow.
template <typename T, typename FromRow, typename IdOf>
Result<Page<T>> ReadPage(Query& q, int64_t limit, FromRow from_row, IdOf id_of) {
  Page<T> page;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (limit > 0 && static_cast<int64_t>(page.items.size()) == limit) {
      page.has_more = true;
      page.next_after = id_of(page.items.back());
      break;
    }
    ASSIGN_OR_RETURN(auto item, from_row(q));
    page.items.push_back(std::move(item));
  }
  return page;
}

// An agent from columns id, version, spec, created_at, updated_at, archived_at (the agents
// table, or a version joined with its agent).
Result<domain::Agent> AgentFromRow(const Query& q);

}  // namespace pincer::store::sqlite
