#pragma once

// JSON helpers over Boost.JSON, the one JSON library of the project.

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace pincer {

namespace json = boost::json;

// Deepest nesting accepted in any request body.
inline constexpr size_t kMaxJsonDepth = 64;

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Parses a request body. Errors (kInvalidArgument, wire code "invalid_request") name the
// problem: invalid UTF-8, nesting deeper than `max_depth`, or the byte offset of a syntax error.
Result<json::value> ParseJson(std::string_view text, size_t max_depth = kMaxJsonDepth);

// Compact serialization.
std::string ToJson(const json::value& v);

// Field lookups that treat a missing key and JSON null alike as "absent".
const json::value* FindField(const json::object& o, std::string_view key);

}  // namespace pincer
