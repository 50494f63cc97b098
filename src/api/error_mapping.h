#pragma once

// The one place where canonical error codes become HTTP statuses and native error bodies.
// Native body (flat, seed-compatible): {"error":"<wire code>","message":"…"[, "details":…]}.

#include <string>

#include "common/result.h"
#include "http/message.h"

namespace pincer::api {

// HTTP status for a canonical code. Every ErrorCode has an entry (see the test).
int HttpStatus(ErrorCode code);

// A native error response for `error`.
http::Response ErrorResponse(const Error& error);
// A native error response from parts (for transport-level errors).
http::Response ErrorResponse(int status, const std::string& code, const std::string& message);

}  // namespace pincer::api
