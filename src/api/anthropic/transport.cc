// The dialect's transport conventions: error envelope, request-id, retry hints, timestamps
// and list cursors.

#include "api/anthropic/dialect.h"
#include "common/clock.h"

namespace pincer::api::anthropic {
namespace {

const char* ErrorType(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 409:
      return "invalid_request_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

}  // namespace

bool IsDialectPath(std::string_view path) {
  return path.rfind("/anthropic/", 0) == 0 || path == "/anthropic";
}

void FinishResponse(http::Response& resp, const std::string& request_id) {
  resp.headers.Set("request-id", request_id);
  if (resp.status < 400 || resp.stream) return;
  // Native error body → envelope.
  std::string message = "request failed";
  std::string code;
  json::value details;
  if (auto parsed = ParseJson(resp.body); parsed && parsed->is_object()) {
    const auto& o = parsed->get_object();
    if (const auto* m = o.if_contains("message"); m && m->is_string()) message = m->get_string();
    if (const auto* e = o.if_contains("error"); e && e->is_string()) code = e->get_string();
    if (const auto* d = o.if_contains("details")) details = *d;
  }
  json::object detail_obj{{"error_code", code}};
  if (!details.is_null()) detail_obj["fields"] = std::move(details);
  json::object err{
      {"type", ErrorType(resp.status)}, {"message", message}, {"details", std::move(detail_obj)}};
  resp.body = ToJson(
      json::object{{"type", "error"}, {"error", std::move(err)}, {"request_id", request_id}});
  resp.headers.Set("content-type", "application/json");
  bool retry = resp.status == 408 || resp.status == 429 || resp.status >= 500;
  resp.headers.Set("x-should-retry", retry ? "true" : "false");
}

json::value Time(std::optional<int64_t> ms) {
  if (!ms) return nullptr;
  return json::value(FormatRfc3339(*ms));
}

Result<ListParams> ParseListParams(const http::Request& req, int64_t default_limit,
                                   int64_t max_limit, bool default_descending) {
  ListParams p;
  p.limit = default_limit;
  p.descending = default_descending;
  if (auto l = req.Query("limit")) {
    char* end = nullptr;
    long long v = std::strtoll(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || v < 1 || v > max_limit) {
      return InvalidArgument("limit: must be an integer in 1.." + std::to_string(max_limit));
    }
    p.limit = v;
  }
  if (auto page = req.Query("page"); page && !page->empty()) {
    int64_t ts = 0;
    std::string id;
    if (!detail::DecodeCursor(*page, ts, id))
      return InvalidArgument("page: not a cursor returned by this server");
    p.page = *page;
  }
  if (auto a = req.Query("include_archived")) {
    if (*a != "true" && *a != "false")
      return InvalidArgument("include_archived: must be true or false");
    p.include_archived = *a == "true";
  }
  if (auto o = req.Query("order")) {
    if (*o != "asc" && *o != "desc") return InvalidArgument("order: must be asc or desc");
    p.descending = *o == "desc";
  }
  struct Bound {
    const char* key;
    std::optional<int64_t>* out;
  };
  for (Bound b :
       {Bound{"created_at[gt]", &p.created_gt}, Bound{"created_at[gte]", &p.created_gte},
        Bound{"created_at[lt]", &p.created_lt}, Bound{"created_at[lte]", &p.created_lte}}) {
    if (auto v = req.Query(b.key)) {
      auto ms = ParseRfc3339(*v);
      if (!ms) return InvalidArgument(std::string(b.key) + ": must be an RFC 3339 timestamp");
      *b.out = ms;
    }
  }
  return p;
}

namespace detail {

std::string EncodeCursor(int64_t created_at, const std::string& id) {
  return "p" + std::to_string(created_at) + "_" + id;
}

bool DecodeCursor(const std::string& cursor, int64_t& created_at, std::string& id) {
  if (cursor.size() < 4 || cursor[0] != 'p') return false;
  size_t us = cursor.find('_');
  if (us == std::string::npos || us == 1 || us + 1 >= cursor.size()) return false;
  int64_t v = 0;
  for (size_t i = 1; i < us; ++i) {
    if (cursor[i] < '0' || cursor[i] > '9' || v > INT64_MAX / 10) return false;
    v = v * 10 + (cursor[i] - '0');
  }
  created_at = v;
  id = cursor.substr(us + 1);
  return true;
}

}  // namespace detail
}  // namespace pincer::api::anthropic
