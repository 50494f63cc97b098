#include "api/auth.h"

#include <cctype>

#include "common/crypto.h"

namespace pincer::api {
namespace {

Error Unauthorized(std::string message) {
  return Error(ErrorCode::kUnauthenticated, "unauthorized", std::move(message));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsBypassed(std::string_view path) {
  return path == "/" || path == "/healthz" || path == "/metrics";
}

}  // namespace

std::optional<std::string> BearerToken(const http::Request& req) {
  auto header = req.headers.Get("authorization");
  if (!header) return std::nullopt;
  std::string_view h = Trim(*header);
  if (h.size() < 6) return std::nullopt;
  std::string scheme(h.substr(0, 6));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer") return std::nullopt;
  if (h.size() == 6) return std::string();  // "Bearer" followed only by spaces
  if (!std::isspace(static_cast<unsigned char>(h[6]))) return std::nullopt;
  return std::string(Trim(h.substr(7)));
}

Result<void> Authenticator::Check(const http::Request& req) const {
  if (!enabled() || IsBypassed(req.path)) return Ok();
  std::string presented;
  if (auto header = req.headers.Get("authorization")) {
    auto bearer = BearerToken(req);
    if (!bearer) return Unauthorized("Authorization header must use Bearer scheme");
    if (bearer->empty()) return Unauthorized("empty bearer token");
    presented = std::move(*bearer);
  } else if (auto key = req.headers.Get("x-api-key")) {
    // The Anthropic SDKs' header (0.x sends it instead of Authorization).
    presented = std::string(Trim(*key));
    if (presented.empty()) return Unauthorized("empty x-api-key");
  } else if (auto q = req.Query("token")) {
    presented = std::move(*q);
  } else {
    return Unauthorized("missing Authorization header (expected: Bearer <token>)");
  }
  if (!ConstantTimeEquals(presented, token_)) return Unauthorized("invalid token");
  return Ok();
}

std::string ClientIp(const http::Request& req, bool trust_forwarded) {
  if (trust_forwarded) {
    if (auto xff = req.headers.Get("x-forwarded-for")) {
      std::string_view first = Trim(xff->substr(0, xff->find(',')));
      if (!first.empty() && first.size() <= 64) return std::string(first);
    }
    if (auto real = req.headers.Get("x-real-ip")) {
      std::string_view ip = Trim(*real);
      if (!ip.empty() && ip.size() <= 64) return std::string(ip);
    }
  }
  return req.peer;
}

std::optional<std::string> PresentedToken(const http::Request& req) {
  if (auto bearer = BearerToken(req); bearer && !bearer->empty()) return bearer;
  if (auto key = req.headers.Get("x-api-key")) {
    std::string k(Trim(*key));
    if (!k.empty()) return k;
  }
  return std::nullopt;
}

std::string RateLimitKey(const http::Request& req, bool trust_forwarded) {
  if (auto token = PresentedToken(req)) return "t:" + Sha256Hex(*token).substr(0, 16);
  std::string ip = ClientIp(req, trust_forwarded);
  return ip.empty() ? std::string() : "i:" + ip;
}

std::string Actor(const http::Request& req, bool trust_forwarded) {
  if (auto token = PresentedToken(req)) {
    return "token:" + Sha256Hex(*token).substr(0, 8);
  }
  if (auto q = req.Query("token"); q && !q->empty()) return "token:" + Sha256Hex(*q).substr(0, 8);
  std::string ip = ClientIp(req, trust_forwarded);
  return ip.empty() ? "anonymous" : "ip:" + ip;
}

}  // namespace pincer::api
