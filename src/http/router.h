#pragma once

// Router: maps (method, path) to a handler by route pattern.
//
// Patterns are '/'-separated segments: literals, ":name" parameters (one segment), and an
// optional trailing "*name" that captures the rest of the path (may contain '/').
// Literal segments win over parameters. Matching percent-decodes each segment; a malformed
// escape or a decoded NUL makes the path invalid (400), and a parameter value containing
// '/' after decoding (e.g. "%2F") or equal to "." / ".." never matches (404).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/task.h"
#include "http/message.h"

namespace pincer::http {

using Handler = std::function<Task<Response>(Request&)>;

class Router {
 public:
  // Registers a route. Adding the same (method, pattern) twice replaces the handler.
  void Add(std::string method, std::string pattern, Handler handler);

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed, kBadPath };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Handler* handler = nullptr;  // when kFound; owned by the router
    std::string pattern;               // when kFound or kMethodNotAllowed
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;  // when kMethodNotAllowed: "GET, POST"
  };
  // Thread-safe once routes are added (routes are added before serving starts).
  Match Find(std::string_view method, std::string_view path) const;

  struct RouteInfo {
    std::string method;
    std::string pattern;
  };
  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace pincer::http
