#include "http/message.h"

#include <algorithm>
#include <cctype>

#include "http/url.h"

namespace pincer::http {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (IEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Headers::Add(std::string_view name, std::string value) {
  items_.emplace_back(Lower(name), std::move(value));
}

void Headers::Set(std::string_view name, std::string value) {
  std::erase_if(items_, [&](const auto& kv) { return IEquals(kv.first, name); });
  Add(name, std::move(value));
}

const std::string& Request::Param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return kEmpty;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  return QueryParam(query, name);
}

std::vector<std::string> Request::QueryAll(std::string_view name) const {
  return QueryParamAll(query, name);
}

Response Response::Json(int status, std::string body) {
  return Text(status, std::move(body), "application/json");
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.Set("content-type", std::move(content_type));
  return r;
}

}  // namespace pincer::http
