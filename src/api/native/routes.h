#pragma once

// Route registration for the native (seed-compatible) API. Each function adds one resource's
// routes; handlers stay thin: parse → one service call → map the Result to a response.

#include "api/api.h"
#include "http/router.h"

namespace pincer::api::native {

void AddSystemRoutes(http::Router& router, const ApiDeps& deps);
void AddAgentRoutes(http::Router& router, const ApiDeps& deps);
void AddEnvironmentRoutes(http::Router& router, const ApiDeps& deps);
void AddAuditRoutes(http::Router& router, const ApiDeps& deps);
void AddSessionRoutes(http::Router& router, const ApiDeps& deps);
void AddFileRoutes(http::Router& router, const ApiDeps& deps);

// The SSE response for GET /v1/sessions/:id/events?stream=true (session_stream.cc).
http::Response SessionStream(const ApiDeps& deps, std::string session_id, int64_t after_seq,
                             bool deltas);

}  // namespace pincer::api::native
