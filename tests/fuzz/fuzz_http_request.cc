// libFuzzer target: the HTTP request path up to the handler.
//
// Input layout: byte 0 picks how the rest arrives (0 = all at once, else in chunks of
// byte0 * 64 bytes, like reads off a socket); bytes 1.. are the raw connection stream. Up to
// eight pipelined requests are parsed with a Boost.Beast request_parser configured like
// src/http/server.cc (16 KiB header limit, 1 MiB body limit), each parsed request is turned
// into an http::Request the way the server does it, then routed with the real native route
// table and its query string taken apart with QueryParam / PercentDecode.
//
// Invariants (violations trap):
//  - Router::Find returns kBadPath exactly when the path does not percent-decode;
//  - kFound: a handler and the pattern are set, one decoded value per ':'/'*' segment, and
//    ':' values are non-empty, not "." / "..", and contain no '/';
//  - kMethodNotAllowed: the Allow list is non-empty and does not name the request's method;
//  - decoded strings never contain NUL and are never longer than their input.

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/router.h"
#include "http/url.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using pincer::http::Router;

constexpr uint32_t kMaxHeaderBytes = 16 << 10;  // ServerOptions::max_header_bytes default
constexpr uint64_t kMaxBodyBytes = 1 << 20;     // ServerOptions::max_body_bytes default
constexpr int kMaxPipelined = 8;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct RouteRow {
  const char* method;
  const char* pattern;
};

// The native API's routes (generated from src/api/native/*.cc), plus two synthetic patterns
// with a "*rest" capture behind a parameter under another prefix.
constexpr RouteRow kRoutes[] = {
#include "native_routes.inc"
    {"GET", "/fuzz/files/:id/*path"},
    {"PUT", "/fuzz/files/:id/*path"},
};

const Router& TheRouter() {
  static const Router* router = [] {
    auto* r = new Router;
    for (const auto& row : kRoutes) r->Add(row.method, row.pattern, pincer::http::Handler{});
    return r;
  }();
  return *router;
}

// Number of ':' and '*' segments in a pattern.
size_t ParamSegments(std::string_view pattern) {
  size_t n = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if ((pattern[i] == ':' || pattern[i] == '*') && i > 0 && pattern[i - 1] == '/') ++n;
  }
  return n;
}

void CheckDecoded(const std::string& out, std::string_view in) {
  Check(out.size() <= in.size());
  Check(out.find('\0') == std::string::npos);
}

void CheckRoute(std::string_view method, std::string_view path) {
  const Router& router = TheRouter();
  Router::Match m = router.Find(method, path);
  auto decoded_path = pincer::http::PercentDecode(path);
  Check((m.outcome == Router::Outcome::kBadPath) == !decoded_path.has_value());
  if (decoded_path) CheckDecoded(*decoded_path, path);

  switch (m.outcome) {
    case Router::Outcome::kFound: {
      Check(m.handler != nullptr);
      Check(!m.pattern.empty());
      Check(m.params.size() == ParamSegments(m.pattern));
      for (const auto& [name, value] : m.params) {
        Check(!name.empty());
        Check(value.find('\0') == std::string::npos);
        bool rest = m.pattern.find("/*" + name) != std::string::npos;
        if (!rest) {
          Check(!value.empty() && value != "." && value != "..");
          Check(value.find('/') == std::string::npos);
        }
      }
      break;
    }
    case Router::Outcome::kMethodNotAllowed: {
      Check(!m.pattern.empty());
      Check(!m.allow.empty());
      // The Allow list is "A, B, C"; the request's method must not be one of them.
      std::string_view allow = m.allow;
      while (!allow.empty()) {
        size_t comma = allow.find(", ");
        std::string_view token = allow.substr(0, comma);
        Check(token != method);
        allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 2);
      }
      break;
    }
    case Router::Outcome::kBadPath:
    case Router::Outcome::kNotFound:
      Check(m.handler == nullptr);
      break;
  }
}

void CheckQuery(const pincer::http::Request& req) {
  // The query parameters the API reads (respond.cc, auth.cc, audit_routes.cc).
  for (std::string_view name : {"limit", "after", "token", "since", "until", "action", "target"}) {
    if (auto v = req.Query(name)) CheckDecoded(*v, req.query);
  }
  if (auto q = pincer::http::PercentDecode(req.query, /*plus_is_space=*/true)) {
    CheckDecoded(*q, req.query);
  }
  // The first occurrence of each (decodable) key decides what QueryParam returns: its decoded
  // value, or nullopt when that value does not decode. (First 32 keys: QueryParam is linear.)
  std::set<std::string> seen;
  std::string_view rest = req.query;
  while (!rest.empty() && seen.size() < 32) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    std::string_view key = pair.substr(0, pair.find('='));
    auto k = pincer::http::PercentDecode(key, true);
    if (!k || !seen.insert(*k).second) continue;
    auto v = pincer::http::PercentDecode(
        pair.size() > key.size() ? pair.substr(key.size() + 1) : std::string_view(), true);
    auto got = pincer::http::QueryParam(req.query, *k);
    Check(got.has_value() == v.has_value());
    if (got) Check(*got == *v);
  }
}

// What the server does with a parsed message (server.cc ServeRequests), then routing.
void HandleMessage(bhttp::request<bhttp::string_body>& msg) {
  pincer::http::Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& f : msg) req.headers.Add(f.name_string(), std::string(f.value()));
  req.body = std::move(msg.body());
  Check(req.body.size() <= kMaxBodyBytes);
  (void)msg.keep_alive();
  (void)req.headers.Get("x-request-id");
  (void)req.headers.Get("authorization");
  (void)req.headers.Get("x-forwarded-for");

  CheckRoute(req.method, req.path);
  // The same path under the other methods the API serves (405 / Allow logic).
  for (std::string_view other : {"GET", "POST", "PATCH", "DELETE"}) {
    if (other != req.method) CheckRoute(other, req.path);
  }
  CheckQuery(req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = data[0] == 0 ? SIZE_MAX : size_t{data[0]} * 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string buffer;  // received, not yet consumed (the server's flat_buffer)
  size_t pos = 0;
  auto receive = [&]() {
    if (input.empty()) return false;
    size_t take = chunk < input.size() ? chunk : input.size();
    buffer.append(input.substr(0, take));
    input.remove_prefix(take);
    return true;
  };

  for (int i = 0; i < kMaxPipelined; ++i) {
    if (pos == buffer.size() && !receive()) break;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    parser.eager(true);
    beast::error_code ec;
    for (;;) {
      size_t n = parser.put(boost::asio::buffer(buffer.data() + pos, buffer.size() - pos), ec);
      Check(n <= buffer.size() - pos);
      pos += n;
      if (ec == bhttp::error::need_more || (!ec && !parser.is_done() && n == 0)) {
        ec = {};
        if (receive()) continue;
        // The peer closed the connection.
        if (parser.got_some()) {
          parser.put_eof(ec);
        } else {
          ec = bhttp::error::end_of_stream;
        }
        break;
      }
      if (ec || parser.is_done()) break;
    }
    if (ec || !parser.is_done()) break;
    auto msg = parser.release();
    HandleMessage(msg);
    buffer.erase(0, pos);
    pos = 0;
  }
  return 0;
}
