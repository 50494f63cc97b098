#pragma once

// Result<T>: the value-or-error type used at every module boundary.
//
// Error carries a canonical ErrorCode (protocol-neutral; api/error_mapping.cc maps it to an
// HTTP status), a wire code (the stable machine-readable string clients see, e.g.
// "agent_not_found"), a human message, and optional JSON details. Result mirrors the surface
// of std::expected (has_value, value, error, operator*, operator->) so it can be swapped later.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pincer {

// Canonical error codes (after absl::StatusCode), protocol-neutral.
// When adding a code, also add it to api/error_mapping.cc and its test.
enum class ErrorCode {
  kInvalidArgument,    // the caller sent something malformed or out of range
  kNotFound,           // the named resource does not exist
  kAlreadyExists,      // a create collided with an existing resource
  kConflict,           // the resource's state forbids the operation (archived, busy, version)
  kUnauthenticated,    // no or bad credentials
  kPermissionDenied,   // credentials are fine but the action is not allowed
  kResourceExhausted,  // rate limit or quota
  kPayloadTooLarge,    // a body or field is larger than allowed
  kUnavailable,        // a dependency is down or the server is shutting down; retry later
  kDeadlineExceeded,   // the operation timed out
  kCancelled,          // the operation was cancelled by its caller
  kInternal,           // a bug or an unexpected environment failure
};

const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string wire_code;  // e.g. "agent_not_found"; defaults from code when empty
  std::string message;
  std::string details_json;  // optional JSON value (already serialized); empty = none

  Error() = default;
  Error(ErrorCode c, std::string wire, std::string msg = {}, std::string details = {})
      : code(c),
        wire_code(std::move(wire)),
        message(std::move(msg)),
        details_json(std::move(details)) {}

  // "agent_not_found: no such agent" — for logs.
  std::string ToString() const;
};

// Shorthands for common errors.
Error InvalidArgument(std::string message, std::string wire_code = "invalid_request");
Error NotFound(std::string wire_code, std::string message = {});
Error Conflict(std::string wire_code, std::string message);
Error Internal(std::string message);
// A failed system call: "open(/x): No such file or directory".
Error SysError(const std::string& call, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT implicit

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }
  const Error& error() const& {
    assert(!has_value());
    return *error_;
  }
  Error&& error() && {
    assert(!has_value());
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

inline Result<void> Ok() { return {}; }

}  // namespace pincer

#define PINCER_CONCAT_INNER(a, b) a##b
#define PINCER_CONCAT(a, b) PINCER_CONCAT_INNER(a, b)

// Returns the error of a failed Result<...> expression from the enclosing function.
#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    auto pincer_result_ = (expr);                                              \
    if (!pincer_result_.has_value()) return std::move(pincer_result_).error(); \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Compute()); binds the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(PINCER_CONCAT(pincer_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)          \
  auto tmp = (expr);                                   \
  if (!tmp.has_value()) return std::move(tmp).error(); \
  lhs = std::move(tmp).value()

// Coroutine flavours of the two macros above.
#define CO_RETURN_IF_ERROR(expr)                                                  \
  do {                                                                            \
    auto pincer_result_ = (expr);                                                 \
    if (!pincer_result_.has_value()) co_return std::move(pincer_result_).error(); \
  } while (0)
#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  CO_ASSIGN_OR_RETURN_IMPL(PINCER_CONCAT(pincer_result_, __LINE__), lhs, expr)
#define CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)          \
  auto tmp = (expr);                                      \
  if (!tmp.has_value()) co_return std::move(tmp).error(); \
  lhs = std::move(tmp).value()
