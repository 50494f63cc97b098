#include "api/error_mapping.h"

#include "common/json.h"
#include "common/log.h"

namespace pincer::api {

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kCancelled:
      return 499;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kDeadlineExceeded:
      return 504;
  }
  return 500;
}

http::Response ErrorResponse(const Error& error) {
  int status = HttpStatus(error.code);
  std::string body = "{\"error\":";
  log::AppendJsonString(body,
                        error.wire_code.empty() ? ErrorCodeName(error.code) : error.wire_code);
  if (status >= 500 && error.code == ErrorCode::kInternal &&
      (error.wire_code.empty() || error.wire_code == "internal")) {
    // Internal details (SQL, paths) stay in the log, not in the response. Errors with their
    // own wire code (no_active_container, …) carry messages written for clients.
    log::Error("api", "internal error").Field("error", error.ToString());
    body += ",\"message\":\"internal server error\"";
  } else if (!error.message.empty()) {
    body += ",\"message\":";
    log::AppendJsonString(body, error.message);
  }
  if (!error.details_json.empty()) {
    body += ",\"details\":";
    body += error.details_json;
  }
  body += '}';
  return http::Response::Json(status, std::move(body));
}

http::Response ErrorResponse(int status, const std::string& code, const std::string& message) {
  std::string body = "{\"error\":";
  log::AppendJsonString(body, code);
  body += ",\"message\":";
  log::AppendJsonString(body, message);
  body += '}';
  return http::Response::Json(status, std::move(body));
}

}  // namespace pincer::api
