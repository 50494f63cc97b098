#pragma once

// Template bodies for dialect.h (included from it; do not include directly).

#include <algorithm>

namespace pincer::api::anthropic {

namespace detail {
// Cursor form: "p<created_at>_<id>" (events: "p<seq>_e<index>").
std::string EncodeCursor(int64_t created_at, const std::string& id);
bool DecodeCursor(const std::string& cursor, int64_t& created_at, std::string& id);
}  // namespace detail

template <typename T, typename KeyFn, typename RenderFn>
json::object PageOf(const std::vector<T>& items, const ListParams& p, KeyFn key, RenderFn render,
                    bool with_prev) {
  std::vector<std::pair<Keyed, const T*>> rows;
  rows.reserve(items.size());
  for (const auto& item : items) {
    Keyed k = key(item);
    if (k.archived && !p.include_archived) continue;
    if (p.created_gt && !(k.created_at > *p.created_gt)) continue;
    if (p.created_gte && !(k.created_at >= *p.created_gte)) continue;
    if (p.created_lt && !(k.created_at < *p.created_lt)) continue;
    if (p.created_lte && !(k.created_at <= *p.created_lte)) continue;
    rows.emplace_back(std::move(k), &item);
  }
  auto before = [&](const Keyed& a, int64_t ts, const std::string& id) {
    return p.descending ? (a.created_at > ts || (a.created_at == ts && a.id > id))
                        : (a.created_at < ts || (a.created_at == ts && a.id < id));
  };
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    return before(a.first, b.first.created_at, b.first.id);
  });
  size_t start = 0;
  int64_t cts = 0;
  std::string cid;
  if (!p.page.empty() && detail::DecodeCursor(p.page, cts, cid)) {
    while (start < rows.size() &&
           (before(rows[start].first, cts, cid) ||
            (rows[start].first.created_at == cts && rows[start].first.id == cid))) {
      ++start;
    }
  }
  json::array data;
  size_t end = std::min(rows.size(), start + static_cast<size_t>(p.limit));
  for (size_t i = start; i < end; ++i) data.emplace_back(render(*rows[i].second));
  json::object out;
  out["data"] = std::move(data);
  out["next_page"] = end < rows.size() && end > start
                         ? json::value(detail::EncodeCursor(rows[end - 1].first.created_at,
                                                            rows[end - 1].first.id))
                         : json::value(nullptr);
  if (with_prev) out["prev_page"] = nullptr;  // the SDK pages forward only
  return out;
}

}  // namespace pincer::api::anthropic
