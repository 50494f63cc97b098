// The /_mock control endpoints that need more than a line, the model list and token counting.

#include "mock_server.h"
#include "step.h"
#include "wire_util.h"

namespace pincer::mock {
namespace {

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > 200) return false;
  for (char c : key) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

http::Response BadRequest(const std::string& message) {
  return MockServer::TransportError(400, "invalid_request", message);
}

}  // namespace

http::Response MockServer::TransportError(int status, const std::string& code,
                                          const std::string& message) {
  JsonWriter w;
  w.BeginObject()
      .BeginObject("error")
      .String("message", message)
      .String("type", status >= 500 ? "server_error" : "invalid_request_error")
      .String("code", code)
      .EndObject()
      .EndObject();
  return http::Response::Json(status, w.Take());
}

http::Response MockServer::PostScript(const http::Request& req) {
  const std::string& key = req.Param("key");
  if (!ValidKey(key)) return BadRequest("script key must match [A-Za-z0-9_.-]+");
  auto body = ParseJson(req.body, 512);
  if (!body) return BadRequest(body.error().message);
  auto steps = ParseSteps(*body);
  if (!steps) return BadRequest(steps.error().message);
  size_t added = steps->size();
  size_t pending = store_.Append(key, std::move(*steps));
  JsonWriter w;
  w.BeginObject()
      .String("key", key)
      .Int("added", static_cast<int64_t>(added))
      .Int("pending", static_cast<int64_t>(pending))
      .EndObject();
  return http::Response::Json(200, w.Take());
}

http::Response MockServer::Config(const http::Request& req) {
  auto body = ParseJson(req.body);
  if (!body) return BadRequest(body.error().message);
  if (!body->is_object()) return BadRequest("body must be an object like {\"auto\":{…}}");
  for (const auto& kv : body->as_object()) {
    if (kv.key() != "auto") return BadRequest("unknown field \"" + std::string(kv.key()) + "\"");
  }
  const json::value* a = body->as_object().if_contains("auto");
  auto config = ParseAutoConfig(a == nullptr ? json::value() : *a);
  if (!config) return BadRequest(config.error().message);
  store_.SetAuto(*config);
  return http::Response::Json(200, AutoConfigJson(*config));
}

http::Response MockServer::Models(const http::Request& req) const {
  std::vector<std::string> ids{"mock-model"};
  for (auto& m : store_.ModelsSeen()) {
    if (m != ids.front()) ids.push_back(std::move(m));
  }
  const WireFormat& format =
      req.headers.Get("anthropic-version") ? AnthropicFormat() : OpenAiFormat();
  return http::Response::Json(200, format.ModelsBody(ids));
}

http::Response MockServer::CountTokens(const http::Request& req) const {
  int64_t n = std::max<int64_t>(1, static_cast<int64_t>(req.body.size() / 4));
  return http::Response::Json(200, "{\"input_tokens\":" + std::to_string(n) + "}");
}

}  // namespace pincer::mock
