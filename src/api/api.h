#pragma once

// Api: the application's HTTP entry point. Builds the route table and runs every request
// through the middleware chain, in the seed's order:
//
//   request id → route match → rate limit → auth → handler
//
// then adds x-request-id and X-RateLimit-* headers, records http_requests_total /
// http_request_duration_seconds under the *matched route pattern*, and writes one access log
// line (request_id, method, route, status, ms).

#include <memory>

#include "api/auth.h"
#include "api/rate_limiter.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/metrics.h"
#include "engine/agents.h"
#include "engine/audit_log.h"
#include "engine/chat.h"
#include "engine/environments.h"
#include "engine/event_bus.h"
#include "engine/files.h"
#include "engine/llm/pricing.h"
#include "engine/llm/registry.h"
#include "engine/sessions.h"
#include "engine/vaults.h"
#include "http/router.h"

namespace pincer::api {

struct ApiDeps {
  const Config& config;
  engine::Agents& agents;
  engine::Environments& environments;
  engine::AuditLog& audit;
  engine::Sessions& sessions;
  engine::Files& files;
  engine::Vaults& vaults;
  engine::ChatCompletions& chat;
  llm::Registry& models;
  const llm::PriceTable& prices;
  engine::EventBus& bus;
  metrics::Registry& metrics;
  Clock& clock;
  int64_t start_ms;
  std::string version;
  std::string commit;
};

class Api {
 public:
  explicit Api(ApiDeps deps);

  // The request handler for http::Server.
  Task<http::Response> Handle(http::Request& req);

  const http::Router& router() const { return router_; }
  RateLimiter& rate_limiter() { return limiter_; }

 private:
  Task<http::Response> Dispatch(http::Request& req, const http::Router::Match& match);
  void Finish(http::Request& req, http::Response& resp, int64_t start_ns);

  ApiDeps deps_;
  http::Router router_;
  Authenticator auth_;
  RateLimiter limiter_;
  metrics::Family<metrics::Counter>& requests_total_;
  metrics::Family<metrics::Histogram>& request_seconds_;
  metrics::Family<metrics::Counter>& rate_limited_total_;
};

}  // namespace pincer::api
