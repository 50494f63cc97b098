#pragma once

// URL pieces: percent-decoding and query strings.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace pincer::http {

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Fails (kInvalidArgument,
// "invalid_path") on a malformed escape or a decoded NUL byte.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space = false);

// Percent-encodes everything but unreserved characters (RFC 3986), for query values.
std::string PercentEncode(std::string_view s);

// The first value of `name` in a raw query string ("a=1&b=x%20y"), decoded; nullopt when
// absent or undecodable. A key without '=' has the empty value.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);
// Every decodable value of `name`, in order (for repeated keys such as "types[]").
std::vector<std::string> QueryParamAll(std::string_view query, std::string_view name);

}  // namespace pincer::http
