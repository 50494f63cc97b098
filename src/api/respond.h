#pragma once

// Helpers shared by the route handlers: JSON responses, body parsing and list parameters.

#include <string>

#include "common/json.h"
#include "common/result.h"
#include "engine/audit_log.h"
#include "engine/call_context.h"
#include "http/message.h"
#include "store/store.h"

namespace pincer::api {

// 200 (or `status`) with a JSON body.
http::Response JsonResponse(const json::value& body, int status = 200);

// The request body as JSON. An empty or malformed body is kInvalidArgument naming the problem.
Result<json::value> JsonBody(const http::Request& req);

// JsonBody for mutating routes: a body that is not JSON is recorded in the audit log as a
// rejected `action` on `target` before the error is returned.
Task<Result<json::value>> AuditedJsonBody(engine::AuditLog& audit, const http::Request& req,
                                          std::string action, std::string target);

// `?limit=&after=` for cursor pagination. `limit` must be an integer in 1..1000 when given.
Result<store::PageRequest> PageParams(const http::Request& req);

// Wraps a page into the list envelope {<plural>: [...], count[, has_more, next_after]}.
// The pagination fields appear only when the request asked for a page (`limit` given).
template <typename T, typename ToJsonFn>
json::object ListEnvelope(const char* plural, const store::Page<T>& page,
                          const store::PageRequest& req, ToJsonFn to_json) {
  json::array items;
  items.reserve(page.items.size());
  for (const auto& item : page.items) items.emplace_back(to_json(item));
  json::object out;
  size_t count = items.size();
  out[plural] = std::move(items);
  out["count"] = count;
  if (req.limit > 0) {
    out["has_more"] = page.has_more;
    out["next_after"] = page.has_more ? json::value(page.next_after) : json::value(nullptr);
  }
  return out;
}

// Who is calling, for the audit log.
inline engine::CallContext Context(const http::Request& req) {
  return engine::CallContext{req.request_id, req.actor};
}

}  // namespace pincer::api
