#include "http/router.h"

#include "http/url.h"

namespace pincer::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Literal segments score higher so "/v1/agents/archived" beats "/v1/agents/:id".
int MatchScore(const std::vector<std::string>& pattern, const std::vector<std::string>& decoded,
               std::vector<std::pair<std::string, std::string>>* params) {
  int score = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (!p.empty() && p[0] == '*') {
      if (i >= decoded.size()) return -1;
      std::string rest;
      for (size_t j = i; j < decoded.size(); ++j) {
        if (j > i) rest += '/';
        rest += decoded[j];
      }
      if (params) params->emplace_back(p.substr(1), std::move(rest));
      return score;
    }
    if (i >= decoded.size()) return -1;
    if (!p.empty() && p[0] == ':') {
      const std::string& v = decoded[i];
      if (v.empty() || v == "." || v == ".." || v.find('/') != std::string::npos) return -1;
      if (params) params->emplace_back(p.substr(1), v);
    } else {
      if (p != decoded[i]) return -1;
      score += 2;
    }
  }
  return pattern.size() == decoded.size() ? score + 1 : -1;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  for (auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.handler = std::move(handler);
      return;
    }
  }
  Route r{std::move(method), pattern, {}, std::move(handler)};
  for (auto s : Split(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::string> decoded;
  for (auto seg : Split(path)) {
    auto d = PercentDecode(seg);
    if (!d) {
      m.outcome = Outcome::kBadPath;
      return m;
    }
    decoded.push_back(std::move(*d));
  }
  int best = -1;
  const Route* best_route = nullptr;
  int best_any = -1;
  const Route* any_route = nullptr;
  for (const auto& r : routes_) {
    int score = MatchScore(r.segments, decoded, nullptr);
    if (score < 0) continue;
    if (score > best_any) {
      best_any = score;
      any_route = &r;
    }
    if (r.method == method && score > best) {
      best = score;
      best_route = &r;
    }
  }
  if (best_route != nullptr && best >= best_any) {
    m.outcome = Outcome::kFound;
    m.handler = &best_route->handler;
    m.pattern = best_route->pattern;
    MatchScore(best_route->segments, decoded, &m.params);
    return m;
  }
  if (any_route != nullptr) {
    // The most specific pattern exists but not for this method.
    m.outcome = Outcome::kMethodNotAllowed;
    m.pattern = any_route->pattern;
    for (const auto& r : routes_) {
      if (r.pattern == any_route->pattern) {
        m.allow += (m.allow.empty() ? "" : ", ") + r.method;
      }
    }
    return m;
  }
  return m;
}

std::vector<Router::RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back({r.method, r.pattern});
  return out;
}

}  // namespace pincer::http
