#pragma once

// Route registration for the Anthropic Managed Agents dialect (under /anthropic/v1). The
// middleware (api.cc) turns error responses of these routes into the dialect's envelope.

#include "api/anthropic/dialect.h"
#include "api/api.h"
#include "api/error_mapping.h"
#include "api/respond.h"
#include "http/router.h"

namespace pincer::api::anthropic {

void AddAgentRoutes(http::Router& router, const ApiDeps& deps);
void AddEnvironmentRoutes(http::Router& router, const ApiDeps& deps);
void AddSessionRoutes(http::Router& router, const ApiDeps& deps);
void AddEventRoutes(http::Router& router, const ApiDeps& deps);
void AddVaultRoutes(http::Router& router, const ApiDeps& deps);

inline void AddRoutes(http::Router& router, const ApiDeps& deps) {
  AddAgentRoutes(router, deps);
  AddEnvironmentRoutes(router, deps);
  AddSessionRoutes(router, deps);
  AddEventRoutes(router, deps);
  AddVaultRoutes(router, deps);
}

// A JSON reply from a Result: the rendered value, or the error.
template <typename T, typename RenderFn>
http::Response Reply(const Result<T>& r, RenderFn render) {
  if (!r) return ErrorResponse(r.error());
  return JsonResponse(render(*r));
}

// The JSON body as an object (kInvalidArgument otherwise), audited like native bodies.
Task<Result<json::object>> ObjectBody(const ApiDeps& deps, const http::Request& req,
                                      std::string action, std::string target);

// The dialect view of a session: its status and pinned agent version resolved.
json::object RenderSession(const ApiDeps& deps, const domain::Session& s);

}  // namespace pincer::api::anthropic
