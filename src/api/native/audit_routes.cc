// GET /v1/audit?since&until&action&target&limit[&after]

#include <charconv>

#include "api/error_mapping.h"
#include "api/native/routes.h"
#include "api/respond.h"

namespace pincer::api::native {
namespace {

bool ParseInt(const std::string& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Result<store::AuditQuery> ParseQuery(const http::Request& req, bool& paged) {
  store::AuditQuery q;
  int64_t v = 0;
  const Error bad = InvalidArgument("since, until, and limit must be integers");
  if (auto s = req.Query("since")) {
    if (!ParseInt(*s, v)) return bad;
    q.since = v;
  }
  if (auto s = req.Query("until")) {
    if (!ParseInt(*s, v)) return bad;
    q.until = v;
  }
  if (auto s = req.Query("limit")) {
    if (!ParseInt(*s, v)) return bad;
    q.limit = std::clamp<int64_t>(v, 1, 1000);
    paged = true;
  }
  if (auto s = req.Query("after")) {
    if (!ParseInt(*s, v) || v < 1) return InvalidArgument("after: not a valid cursor");
    q.before_id = v;
    paged = true;
  }
  if (auto s = req.Query("action")) q.action = s->substr(0, 256);
  if (auto s = req.Query("target")) q.target = s->substr(0, 256);
  return q;
}

}  // namespace

void AddAuditRoutes(http::Router& router, const ApiDeps& deps) {
  engine::AuditLog& audit = deps.audit;
  router.Add("GET", "/v1/audit", [&audit](http::Request& req) -> Task<http::Response> {
    bool paged = false;
    auto query = ParseQuery(req, paged);
    if (!query) co_return ErrorResponse(query.error());
    auto page = audit.List(*query);
    if (!page) co_return ErrorResponse(page.error());
    // The seed's envelope is {events, count}; a page cursor is added when asked for.
    store::PageRequest shape{paged ? query->limit : 0, ""};
    co_return JsonResponse(ListEnvelope("events", *page, shape, domain::AuditEventToJson));
  });
}

}  // namespace pincer::api::native
