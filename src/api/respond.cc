#include "api/respond.h"

#include <charconv>

namespace pincer::api {

http::Response JsonResponse(const json::value& body, int status) {
  return http::Response::Json(status, ToJson(body));
}

Result<json::value> JsonBody(const http::Request& req) { return ParseJson(req.body); }

Task<Result<json::value>> AuditedJsonBody(engine::AuditLog& audit, const http::Request& req,
                                          std::string action, std::string target) {
  auto body = JsonBody(req);
  if (body) co_return body;
  co_return co_await audit.Reject(Context(req), std::move(action), std::move(target),
                                  std::move(body).error());
}

Result<store::PageRequest> PageParams(const http::Request& req) {
  store::PageRequest page;
  if (auto limit = req.Query("limit")) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
    if (ec != std::errc() || p != limit->data() + limit->size() || v < 1 || v > 1000) {
      return InvalidArgument("limit: must be an integer in 1..1000");
    }
    page.limit = v;
  }
  if (auto after = req.Query("after")) {
    if (after->empty() || after->size() > 64) return InvalidArgument("after: not a valid cursor");
    page.after = std::move(*after);
  }
  return page;
}

}  // namespace pincer::api
