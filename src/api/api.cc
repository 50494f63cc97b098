#include "api/api.h"

#include "api/anthropic/routes.h"
#include "api/error_mapping.h"
#include "api/native/routes.h"
#include "api/openai/routes.h"
#include "common/ids.h"
#include "common/log.h"
#include "http/url.h"

namespace pincer::api {
namespace {

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// Bounded label values: client-chosen method tokens must not grow the metric set.
std::string MethodLabel(const std::string& m) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (m == known) return m;
  }
  return "OTHER";
}

}  // namespace

Api::Api(ApiDeps deps)
    : deps_(std::move(deps)),
      auth_(deps_.config.api_token),
      limiter_(deps_.config.rate_limit_rpm, deps_.clock),
      requests_total_(deps_.metrics.AddCounter("http_requests_total", "HTTP requests served.",
                                               {"method", "route", "status"})),
      request_seconds_(deps_.metrics.AddHistogram(
          "http_request_duration_seconds", "HTTP request latency.", {"method", "route"},
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})),
      rate_limited_total_(deps_.metrics.AddCounter(
          "rate_limit_rejections_total", "Requests rejected by the rate limiter.", {"kind"})) {
  native::AddSystemRoutes(router_, deps_);
  native::AddAgentRoutes(router_, deps_);
  native::AddEnvironmentRoutes(router_, deps_);
  native::AddAuditRoutes(router_, deps_);
  native::AddSessionRoutes(router_, deps_);
  native::AddFileRoutes(router_, deps_);
  openai::AddChatRoutes(router_, deps_);
  anthropic::AddRoutes(router_, deps_);
}

Task<http::Response> Api::Handle(http::Request& req) {
  int64_t start_ns = deps_.clock.MonotonicNs();
  auto incoming = req.headers.Get("x-request-id");
  req.request_id = incoming && IsSaneRequestId(*incoming) ? std::string(*incoming) : NewRequestId();

  http::Router::Match match = router_.Find(req.method, req.path);
  req.route = match.pattern;

  bool counted = req.path != "/healthz" && req.path != "/metrics";
  RateLimiter::Decision limit;
  if (counted && limiter_.rpm() > 0) {
    std::string key = RateLimitKey(req, deps_.config.trust_forwarded_for);
    if (!key.empty()) {
      limit = limiter_.Take(key);
      if (!limit.allowed) {
        rate_limited_total_.With({key[0] == 't' ? "token" : "ip"}).Inc();
        http::Response resp =
            ErrorResponse(429, "rate_limited",
                          "rate limit exceeded (" + std::to_string(limiter_.rpm()) +
                              " req/min). retry in " + std::to_string(limit.retry_after_s) + "s");
        resp.headers.Set("retry-after", std::to_string(limit.retry_after_s));
        resp.headers.Set("x-ratelimit-limit", std::to_string(limiter_.rpm()));
        resp.headers.Set("x-ratelimit-remaining", "0");
        Finish(req, resp, start_ns);
        co_return resp;
      }
    }
  }

  http::Response resp;
  if (auto authed = auth_.Check(req); !authed) {
    resp = ErrorResponse(authed.error());
  } else {
    req.actor = Actor(req, deps_.config.trust_forwarded_for);
    resp = co_await Dispatch(req, match);
  }
  if (counted && limiter_.rpm() > 0) {
    resp.headers.Set("x-ratelimit-limit", std::to_string(limiter_.rpm()));
    resp.headers.Set("x-ratelimit-remaining", std::to_string(limit.remaining));
  }
  Finish(req, resp, start_ns);
  co_return resp;
}

Task<http::Response> Api::Dispatch(http::Request& req, const http::Router::Match& match) {
  switch (match.outcome) {
    case http::Router::Outcome::kFound:
      // Request::Query reports an undecodable value as absent, which would silently drop it
      // (a filter, or the files API's `path=sub%00` listing the workspace root instead).
      if (!http::PercentDecode(req.query, /*plus_is_space=*/true)) {
        co_return ErrorResponse(400, "invalid_path",
                                "malformed percent-escape or NUL in the query string");
      }
      req.params = match.params;
      co_return co_await (*match.handler)(req);
    case http::Router::Outcome::kBadPath:
      co_return ErrorResponse(400, "invalid_path",
                              "malformed percent-escape or NUL in the URL path");
    case http::Router::Outcome::kMethodNotAllowed: {
      http::Response r = ErrorResponse(405, "method_not_allowed",
                                       req.method + " is not allowed on " + match.pattern);
      r.headers.Set("allow", match.allow);
      co_return r;
    }
    case http::Router::Outcome::kNotFound:
      break;
  }
  co_return ErrorResponse(404, "not_found", "no route for " + req.method + " " + req.path);
}

void Api::Finish(http::Request& req, http::Response& resp, int64_t start_ns) {
  resp.headers.Set("x-request-id", req.request_id);
  if (anthropic::IsDialectPath(req.path)) anthropic::FinishResponse(resp, req.request_id);
  const std::string& route = req.route.empty() ? std::string("unmatched") : req.route;
  double seconds = static_cast<double>(deps_.clock.MonotonicNs() - start_ns) / 1e9;
  std::string method = MethodLabel(req.method);
  requests_total_.With({method, route, std::to_string(resp.status)}).Inc();
  request_seconds_.With({method, route}).Observe(seconds);
  log::Info("http", "request")
      .Field("request_id", req.request_id)
      .Field("method", req.method)
      .Field("route", route)
      .Field("path", req.path)
      .Field("status", resp.status)
      .Field("ms", seconds * 1000.0);
}

}  // namespace pincer::api
