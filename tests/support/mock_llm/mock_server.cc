#include "mock_server.h"

#include <chrono>
#include <memory>

#include "common/async.h"
#include "sse_stream.h"
#include "step.h"
#include "wire_util.h"

namespace pincer::mock {
namespace {

// Request headers kept in the request log.
constexpr std::string_view kRecordedHeaders[] = {"authorization", "x-api-key", "anthropic-version",
                                                 "content-type"};

std::string HeadersJson(const http::Headers& headers) {
  JsonWriter w;
  w.BeginObject();
  for (auto name : kRecordedHeaders) {
    if (auto v = headers.Get(name)) w.String(name, IsValidUtf8(*v) ? *v : "<invalid UTF-8>");
  }
  w.EndObject();
  return w.Take();
}

void AddHeaders(http::Response& resp, const WireFormat& format, const Reply* reply) {
  resp.headers.Set(std::string(format.request_id_header()), RandomId("req_"));
  if (reply != nullptr) {
    for (const auto& [k, v] : reply->headers) resp.headers.Set(k, v);
  }
}

http::Response ErrorResponse(const WireFormat& format, const ApiError& e,
                             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  http::Response resp = http::Response::Json(e.status, format.ErrorBody(e));
  resp.headers.Set(std::string(format.request_id_header()), RandomId("req_"));
  for (const auto& [k, v] : headers) resp.headers.Set(k, v);
  return resp;
}

// Wraps a synchronous handler as a router Handler.
template <typename F>
http::Handler Sync(F f) {
  return [f = std::move(f)](http::Request& req) -> Task<http::Response> { co_return f(req); };
}

http::Response ControlJson(int status, std::string body) {
  return http::Response::Json(status, std::move(body));
}

}  // namespace

MockServer::MockServer(ScriptStore& store, MockOptions options) : store_(store), options_(options) {
  auto openai = [this](http::Request& r) { return Llm(r, OpenAiFormat()); };
  auto anthropic = [this](http::Request& r) { return Llm(r, AnthropicFormat()); };
  router_.Add("POST", "/v1/chat/completions", openai);
  router_.Add("POST", "/chat/completions", openai);
  router_.Add("POST", "/v1/messages", anthropic);
  router_.Add("POST", "/messages", anthropic);
  router_.Add("POST", "/v1/messages/count_tokens",
              Sync([this](http::Request& r) { return CountTokens(r); }));
  auto models = Sync([this](http::Request& r) { return Models(r); });
  router_.Add("GET", "/v1/models", models);
  router_.Add("GET", "/models", models);

  router_.Add("POST", "/_mock/scripts/:key",
              Sync([this](http::Request& r) { return PostScript(r); }));
  router_.Add(
      "DELETE", "/_mock/scripts/:key", Sync([this](http::Request& r) {
        const std::string& key = r.Param("key");
        size_t n = store_.Clear(key);
        JsonWriter w;
        w.BeginObject().String("key", key).Int("cleared", static_cast<int64_t>(n)).EndObject();
        return ControlJson(200, w.Take());
      }));
  router_.Add("GET", "/_mock/scripts/:key", Sync([this](http::Request& r) {
                const std::string& key = r.Param("key");
                JsonWriter w;
                w.BeginObject()
                    .String("key", key)
                    .Int("pending", static_cast<int64_t>(store_.Pending(key)))
                    .EndObject();
                return ControlJson(200, w.Take());
              }));
  router_.Add("GET", "/_mock/requests", Sync([this](http::Request& r) {
                return ControlJson(200,
                                   store_.RequestsJson(r.Query("key"), r.Query("bodies") != "0"));
              }));
  router_.Add("DELETE", "/_mock/requests", Sync([this](http::Request&) {
                store_.ClearRequests();
                return ControlJson(200, "{\"cleared\":true}");
              }));
  router_.Add("GET", "/_mock/stats", Sync([this](http::Request&) {
                return ControlJson(200, store_.StatsJson(in_flight_.load()));
              }));
  router_.Add("POST", "/_mock/config", Sync([this](http::Request& r) { return Config(r); }));
  router_.Add("GET", "/_mock/config", Sync([this](http::Request&) {
                return ControlJson(200, AutoConfigJson(store_.GetAuto()));
              }));
  router_.Add("POST", "/_mock/reset", Sync([this](http::Request&) {
                store_.Reset();
                return ControlJson(200, "{\"reset\":true}");
              }));
  router_.Add("GET", "/_mock/health",
              Sync([](http::Request&) { return ControlJson(200, "{\"ok\":true}"); }));
}

Task<http::Response> MockServer::Handle(http::Request& req) {
  http::Router::Match m = router_.Find(req.method, req.path);
  switch (m.outcome) {
    case http::Router::Outcome::kFound:
      req.route = std::move(m.pattern);
      req.params = std::move(m.params);
      co_return co_await (*m.handler)(req);
    case http::Router::Outcome::kMethodNotAllowed: {
      http::Response r =
          TransportError(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
      r.headers.Set("allow", m.allow);
      co_return r;
    }
    case http::Router::Outcome::kBadPath:
      co_return TransportError(400, "invalid_path", "malformed path");
    case http::Router::Outcome::kNotFound:
      break;
  }
  co_return TransportError(404, "not_found", "mock: no route for " + req.method + " " + req.path);
}

Task<void> MockServer::Sleep(int64_t ms) {
  constexpr int64_t kSlice = 250;
  while (ms > 0 && !stopping()) {
    int64_t step = ms > kSlice * 2 ? kSlice : ms;
    co_await SleepFor(std::chrono::milliseconds(step));
    ms -= step;
  }
}

Task<http::Response> MockServer::Llm(http::Request& req, const WireFormat& format) {
  InFlight in_flight(in_flight_);

  // Parse and summarize, then record (the record takes the body).
  auto body = ParseJson(req.body, /*max_depth=*/512);
  ParsedRequest parsed;
  if (body) {
    parsed = format.Parse(*body, req.body, req.headers, options_.strict);
  } else {
    parsed.error = ApiError{
        400, "invalid_request_error",
        "We could not parse the JSON body of your request: " + body.error().message, "", ""};
    std::string_view key = FindMarker(req.body);
    if (!key.empty()) parsed.summary.key = std::string(key);
  }
  ChatSummary& summary = parsed.summary;
  // A body that is not JSON is recorded as a JSON string, which must be valid UTF-8.
  if (!body && !IsValidUtf8(req.body)) req.body = "<invalid UTF-8>";
  auto done_at_us = std::make_shared<std::atomic<int64_t>>(0);
  store_.Record(RecordedRequest{summary.key, req.path, HeadersJson(req.headers),
                                std::move(req.body), body.has_value(), NowMs(), NowUs(),
                                done_at_us});
  body = json::value();  // free the DOM before any wait

  ScriptStore::Taken taken = store_.Take(summary.key, summary.model, /*pop=*/!parsed.error);
  if (parsed.error) co_return ErrorResponse(format, *parsed.error);

  Reply reply;
  int64_t delay_ms = 0;
  if (taken.step) {
    Step& step = *taken.step;
    if (step.expect_model && *step.expect_model != summary.model) {
      co_return ErrorResponse(
          format,
          ApiError{400, "invalid_request_error",
                   "mock: step for key \"" + summary.key + "\" expected model \"" +
                       *step.expect_model + "\" but the request has \"" + summary.model + "\"",
                   "model_mismatch", "model"});
    }
    if (step.delay_ms > 0) co_await Sleep(step.delay_ms);
    if (step.hang) {
      if (summary.stream) {
        http::Response resp;
        resp.headers.Set("content-type", "text/event-stream; charset=utf-8");
        resp.headers.Set("cache-control", "no-cache");
        AddHeaders(resp, format, nullptr);
        auto guard = std::make_shared<std::optional<InFlight>>(std::move(in_flight));
        resp.stream = [stopping = &stopping_, guard](http::StreamWriter& w) {
          return HoldStream(stopping, std::move(*guard), w);
        };
        co_return resp;
      }
      // The handler cannot see the client leave before a response starts: hold until the
      // server stops (or an hour passes).
      co_await Sleep(3'600'000);
      co_return ErrorResponse(format, ApiError{503, "", "mock: server shutting down", "", ""});
    }
    if (step.status >= 400) {
      ApiError e = step.error;
      e.status = step.status;
      if (e.message.empty()) e.message = "mock: scripted error " + std::to_string(step.status);
      co_return ErrorResponse(format, e, step.headers);
    }
    reply = ReplyFromStep(step, summary);
  } else if (taken.auto_config) {
    reply = ReplyFromAuto(*taken.auto_config, summary);
    delay_ms = taken.auto_config->delay_ms;
  } else {
    reply = EchoReply(summary);
  }
  if (delay_ms > 0) co_await Sleep(delay_ms);

  if (!summary.stream) {
    http::Response resp = http::Response::Json(200, format.Body(reply, summary));
    AddHeaders(resp, format, &reply);
    done_at_us->store(NowUs());  // approximate: the body is written after the handler returns
    co_return resp;
  }
  auto plan = std::make_shared<StreamPlan>();
  plan->events = format.Events(reply, summary);
  plan->chunk_delay_ms = reply.chunk_delay_ms;
  plan->fail_after = reply.fail_after_chunks;
  plan->fail_mode = reply.fail_mode;
  if (reply.fail_after_chunks && reply.fail_mode == FailMode::kErrorEvent) {
    ApiError e = reply.stream_error;
    if (e.status == 400 && e.type.empty()) e.status = 500;
    if (e.message.empty()) e.message = "mock: injected stream failure";
    if (e.type.empty() && format.name() == "anthropic") e.type = "overloaded_error";
    plan->error_event = format.ErrorEvent(e);
  }
  plan->in_flight.emplace(std::move(in_flight));
  plan->done_at_us = std::move(done_at_us);
  http::Response resp;
  resp.headers.Set("content-type", "text/event-stream; charset=utf-8");
  resp.headers.Set("cache-control", "no-cache");
  AddHeaders(resp, format, &reply);
  resp.stream = [plan](http::StreamWriter& w) { return WriteEvents(plan, w); };
  co_return resp;
}

}  // namespace pincer::mock
