#include "engine/llm/provider_errors.h"

#include <charconv>

#include "common/json.h"
#include "engine/llm/types.h"

namespace pincer::llm {
namespace {

// The human message inside {"error":{"message":…}} or {"error":"…"} or {"message":…}.
std::string ExtractMessage(std::string_view body) {
  auto v = ParseJson(body);
  if (v && v->is_object()) {
    const auto& o = v->get_object();
    if (const auto* e = o.if_contains("error")) {
      if (e->is_string()) return std::string(e->get_string());
      if (e->is_object()) {
        if (const auto* m = e->get_object().if_contains("message"); m && m->is_string()) {
          return std::string(m->get_string());
        }
      }
    }
    if (const auto* m = o.if_contains("message"); m && m->is_string())
      return std::string(m->get_string());
  }
  std::string s(body.substr(0, 300));
  return s.empty() ? "(empty body)" : s;
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string RetryAfterDetails(const http::Headers& headers) {
  auto ra = headers.Get("retry-after");
  if (!ra) return {};
  double seconds = 0;
  auto [p, ec] = std::from_chars(ra->data(), ra->data() + ra->size(), seconds);
  if (ec != std::errc() || seconds < 0) return {};
  return "{\"retry_after_ms\":" + std::to_string(static_cast<int64_t>(seconds * 1000)) + "}";
}

}  // namespace

bool IsRetryable(const Error& e) {
  return e.code == ErrorCode::kResourceExhausted || e.code == ErrorCode::kUnavailable ||
         (e.code == ErrorCode::kDeadlineExceeded && e.wire_code == "provider_stalled");
}

Error ProviderHttpError(std::string_view provider, int status, std::string_view body,
                        const http::Headers& headers, std::string_view key_env) {
  std::string msg = ExtractMessage(body);
  std::string p(provider);
  if (status == 401 || status == 403) {
    return Error(ErrorCode::kUnauthenticated, "provider_auth",
                 p + " rejected the credentials (HTTP " + std::to_string(status) + "; check " +
                     std::string(key_env) + "): " + msg);
  }
  if (status == 429) {
    return Error(ErrorCode::kResourceExhausted, "provider_rate_limited",
                 p + " rate limit exceeded: " + msg, RetryAfterDetails(headers));
  }
  if (status == 529 || status >= 500) {
    return Error(ErrorCode::kUnavailable, "provider_unavailable",
                 p + " returned HTTP " + std::to_string(status) + ": " + msg,
                 RetryAfterDetails(headers));
  }
  if (Contains(msg, "context_length") || Contains(msg, "context length") ||
      Contains(msg, "prompt is too long") || Contains(msg, "maximum context") ||
      Contains(body, "context_length_exceeded")) {
    return Error(ErrorCode::kInvalidArgument, "context_overflow",
                 "the conversation no longer fits the model's context window (" + p + "): " + msg);
  }
  if (status == 404) {
    return Error(ErrorCode::kInvalidArgument, "provider_bad_request",
                 p + " does not know this model or endpoint (HTTP 404): " + msg);
  }
  return Error(ErrorCode::kInvalidArgument, "provider_bad_request",
               p + " rejected the request (HTTP " + std::to_string(status) + "): " + msg);
}

Error ProviderTransportError(std::string_view provider, const Error& e) {
  std::string p(provider);
  if (e.code == ErrorCode::kCancelled) return Error(ErrorCode::kCancelled, "cancelled", e.message);
  if (e.code == ErrorCode::kDeadlineExceeded) {
    // A stalled stream (idle timeout) is retryable; the overall deadline is not.
    bool stalled = e.message.find("idle") != std::string::npos ||
                   e.message.find("stalled") != std::string::npos;
    return Error(ErrorCode::kDeadlineExceeded, stalled ? "provider_stalled" : "provider_timeout",
                 p + " did not answer in time: " + e.message);
  }
  if (e.code == ErrorCode::kInvalidArgument) {
    return Error(ErrorCode::kInvalidArgument, "provider_bad_request", p + ": " + e.message);
  }
  return Error(ErrorCode::kUnavailable, "provider_unavailable", p + " unreachable: " + e.message);
}

Error ProviderStreamError(std::string_view provider, std::string_view type,
                          std::string_view message) {
  std::string p(provider);
  std::string m = p + " stream error (" + std::string(type) + "): " + std::string(message);
  if (type == "rate_limit_error")
    return Error(ErrorCode::kResourceExhausted, "provider_rate_limited", m);
  if (type == "invalid_request_error")
    return Error(ErrorCode::kInvalidArgument, "provider_bad_request", m);
  if (type == "authentication_error" || type == "permission_error") {
    return Error(ErrorCode::kUnauthenticated, "provider_auth", m);
  }
  return Error(ErrorCode::kUnavailable, "provider_unavailable", m);
}

}  // namespace pincer::llm
