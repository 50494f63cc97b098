#include "common/result.h"

#include <cstring>

namespace pincer {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Error::ToString() const {
  std::string out = wire_code.empty() ? ErrorCodeName(code) : wire_code;
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

Error InvalidArgument(std::string message, std::string wire_code) {
  return Error(ErrorCode::kInvalidArgument, std::move(wire_code), std::move(message));
}
Error NotFound(std::string wire_code, std::string message) {
  return Error(ErrorCode::kNotFound, std::move(wire_code), std::move(message));
}
Error Conflict(std::string wire_code, std::string message) {
  return Error(ErrorCode::kConflict, std::move(wire_code), std::move(message));
}
Error Internal(std::string message) {
  return Error(ErrorCode::kInternal, "internal", std::move(message));
}
Error SysError(const std::string& call, int err) {
  return Error(ErrorCode::kInternal, "internal", call + ": " + std::strerror(err));
}

}  // namespace pincer
