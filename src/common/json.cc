#include "common/json.h"

#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <cmath>

#include "common/log.h"

namespace pincer {

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < len) return false;
    for (size_t i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += len;
  }
  return true;
}

Result<json::value> ParseJson(std::string_view text, size_t max_depth) {
  if (!IsValidUtf8(text)) return InvalidArgument("body is not valid UTF-8");
  json::parse_options opt;
  opt.max_depth = max_depth;
  json::stream_parser parser(json::storage_ptr(), opt);
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    if (ec == json::error::too_deep) {
      return InvalidArgument("JSON nesting is deeper than " + std::to_string(max_depth) +
                             " levels");
    }
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return InvalidArgument("body is empty; expected a JSON object");
    }
    return InvalidArgument("malformed JSON at byte " + std::to_string(consumed) + ": " +
                           ec.message());
  }
  json::value v = parser.release();
  // Boost parses 1e999 as infinity; such a number cannot be written back as JSON.
  std::vector<const json::value*> stack{&v};
  while (!stack.empty()) {
    const json::value* cur = stack.back();
    stack.pop_back();
    if (cur->is_double() && !std::isfinite(cur->get_double())) {
      return InvalidArgument("number out of range (larger than a double can hold)");
    }
    if (cur->is_array()) {
      for (const auto& e : cur->get_array()) stack.push_back(&e);
    } else if (cur->is_object()) {
      for (const auto& kv : cur->get_object()) stack.push_back(&kv.value());
    }
  }
  return v;
}

namespace {

// Shortest round-trip form ("2", "0.1", "1e-07"), unlike Boost's "2E0" / "1E-1".
void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";  // JSON has no NaN/Inf
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  out.append(buf, ec == std::errc() ? end : buf);
}

void Append(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case json::kind::double_:
      AppendDouble(out, v.get_double());
      break;
    case json::kind::string:
      log::AppendJsonString(out, v.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        Append(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        log::AppendJsonString(out, kv.key());
        out += ':';
        Append(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string ToJson(const json::value& v) {
  std::string out;
  out.reserve(256);
  Append(out, v);
  return out;
}

const json::value* FindField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

}  // namespace pincer
