#pragma once

// Caller identity: bearer-token authentication, the rate-limit key and the audit actor.
//
// With a configured token, every request except the bypass list (/, /healthz, /metrics) must
// carry it as "Authorization: Bearer <token>" (scheme case-insensitive), "x-api-key: <token>"
// (the Anthropic SDKs' header) or "?token=<token>".
// The comparison takes constant time. Failures are kUnauthenticated with the seed's messages.

#include <string>

#include "common/result.h"
#include "http/message.h"

namespace pincer::api {

class Authenticator {
 public:
  explicit Authenticator(std::string token) : token_(std::move(token)) {}
  bool enabled() const { return !token_.empty(); }

  // Ok when auth is off, the path is bypassed, or the credentials match.
  Result<void> Check(const http::Request& req) const;

 private:
  std::string token_;
};

// The bearer token of the Authorization header, if it uses the Bearer scheme.
std::optional<std::string> BearerToken(const http::Request& req);

// The token the caller presents: the bearer token, else x-api-key.
std::optional<std::string> PresentedToken(const http::Request& req);

// The caller's address: first X-Forwarded-For entry (when trusted), else X-Real-IP (when
// trusted), else the socket peer.
std::string ClientIp(const http::Request& req, bool trust_forwarded);

// Rate-limit key: "t:<sha256(token)[0:16]>" when a token is presented, else "i:<ip>".
std::string RateLimitKey(const http::Request& req, bool trust_forwarded);

// Audit actor: "token:<sha256(token)[0:8]>", "ip:<addr>" or "anonymous".
std::string Actor(const http::Request& req, bool trust_forwarded);

}  // namespace pincer::api
