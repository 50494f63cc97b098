// GET /, GET /healthz, GET /metrics.

#include "api/native/routes.h"
#include "api/respond.h"
#include "common/metrics.h"

namespace pincer::api::native {
namespace {

// The endpoint map served at GET /. Every value is a "METHOD /path" that the router serves
// (checked by the functional tests).
json::object EndpointMap() {
  return json::object{
      {"agents", json::object{{"create", "POST /v1/agents"},
                              {"list", "GET /v1/agents"},
                              {"get", "GET /v1/agents/:agentId"},
                              {"update", "PATCH /v1/agents/:agentId"},
                              {"delete", "DELETE /v1/agents/:agentId"},
                              {"list_versions", "GET /v1/agents/:agentId/versions"},
                              {"archive", "POST /v1/agents/:agentId/archive"},
                              {"run", "POST /v1/agents/:agentId/run"},
                              {"warm", "POST /v1/agents/:agentId/warm"},
                              {"list_files", "GET /v1/agents/:agentId/files"},
                              {"get_file", "GET /v1/agents/:agentId/files/:path"},
                              {"put_file", "PUT /v1/agents/:agentId/files/:path"},
                              {"delete_file", "DELETE /v1/agents/:agentId/files/:path"}}},
      {"sessions", json::object{{"create", "POST /v1/sessions"},
                                {"list", "GET /v1/sessions"},
                                {"get", "GET /v1/sessions/:sessionId"},
                                {"delete", "DELETE /v1/sessions/:sessionId"},
                                {"post_event", "POST /v1/sessions/:sessionId/events"},
                                {"list_events", "GET /v1/sessions/:sessionId/events"},
                                {"stream_events", "GET /v1/sessions/:sessionId/events?stream=true"},
                                {"cancel", "POST /v1/sessions/:sessionId/cancel"},
                                {"compact", "POST /v1/sessions/:sessionId/compact"},
                                {"logs", "GET /v1/sessions/:sessionId/logs"}}},
      {"environments", json::object{{"create", "POST /v1/environments"},
                                    {"list", "GET /v1/environments"},
                                    {"get", "GET /v1/environments/:environmentId"},
                                    {"delete", "DELETE /v1/environments/:environmentId"}}},
      {"audit", json::object{{"list", "GET /v1/audit"}}},
      {"health", json::object{{"liveness", "GET /healthz"}, {"metrics", "GET /metrics"}}},
  };
}

}  // namespace

void AddSystemRoutes(http::Router& router, const ApiDeps& deps) {
  router.Add("GET", "/", [&deps](http::Request&) -> Task<http::Response> {
    const Config& c = deps.config;
    json::object body{
        {"name", "Pincer"},
        {"description",
         "Self-hosted managed agents: create agents, open sessions in sandboxed "
         "environments, send events and stream them back."},
        {"version", deps.version},
        {"docs", "README.md and openapi/openapi.yaml in the Pincer source tree"},
        {"auth", c.api_token.empty() ? "disabled (set PINCER_API_TOKEN to require a token)"
                                     : "Authorization: Bearer <token> or ?token=<token>"},
        {"rate_limit", c.rate_limit_rpm > 0
                           ? std::to_string(c.rate_limit_rpm) + " requests/min per caller"
                           : std::string("disabled")},
        {"endpoints", EndpointMap()},
    };
    co_return JsonResponse(body);
  });

  router.Add("GET", "/healthz", [&deps](http::Request&) -> Task<http::Response> {
    int64_t now = deps.clock.NowMs();
    co_return JsonResponse(json::object{{"ok", true},
                                        {"version", deps.version},
                                        {"commit", deps.commit},
                                        {"start_ts", deps.start_ms},
                                        {"uptime_ms", now - deps.start_ms},
                                        {"max_warm", deps.config.max_warm},
                                        {"max_active", deps.config.max_active}});
  });

  router.Add("GET", "/metrics", [&deps](http::Request&) -> Task<http::Response> {
    std::string text = deps.metrics.Render();
    metrics::AppendProcessMetrics(text, deps.start_ms);
    co_return http::Response::Text(200, std::move(text),
                                   "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace pincer::api::native
