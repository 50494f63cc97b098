// POST /v1/chat/completions (non-streaming and streaming) and GET /v1/models.

#include "api/error_mapping.h"
#include "api/openai/routes.h"
#include "api/respond.h"
#include "common/log.h"

namespace pincer::api::openai {
namespace {

constexpr auto kTurnTimeout = std::chrono::minutes(10);

std::string Header(const http::Request& req, const char* a, const char* b) {
  if (auto v = req.headers.Get(a)) return std::string(*v);
  if (auto v = req.headers.Get(b)) return std::string(*v);
  return "";
}

json::object Usage(const engine::ChatResult& r) {
  return json::object{{"prompt_tokens", r.prompt_tokens},
                      {"completion_tokens", r.completion_tokens},
                      {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

std::string ChunkJson(const std::string& id, int64_t created, const std::string& model,
                      json::object delta, json::value finish_reason) {
  return ToJson(json::object{
      {"id", id},
      {"object", "chat.completion.chunk"},
      {"created", created},
      {"model", model},
      {"choices", json::array{json::object{{"index", 0},
                                           {"delta", std::move(delta)},
                                           {"finish_reason", std::move(finish_reason)}}}}});
}

http::Response Stream(const ApiDeps& deps, engine::CallContext ctx,
                      std::shared_ptr<engine::ChatTurn> turn, bool include_usage) {
  http::Response resp;
  resp.headers.Set("content-type", "text/event-stream");
  resp.headers.Set("cache-control", "no-cache");
  resp.headers.Set("x-pincer-session-id", turn->session_id);
  resp.stream = [&deps, ctx, turn, include_usage](http::StreamWriter& w) -> Task<void> {
    engine::Subscription* sub = turn->subscription.get();
    w.OnClose([sub] { sub->signal().Notify(); });
    std::string id = "chatcmpl-" + turn->session_id + "-" + std::to_string(turn->after_seq);
    int64_t created = deps.clock.NowMs() / 1000;
    json::object first{{"role", "assistant"}, {"content", ""}};
    bool ok = co_await w.Write(
        "data: " + ChunkJson(id, created, turn->model, std::move(first), nullptr) + "\n\n");
    bool ended = false;
    engine::ChatTextStream text;
    auto chunk = [&](const std::string& t) {
      json::object delta{{"content", t}};
      return "data: " + ChunkJson(id, created, turn->model, std::move(delta), nullptr) + "\n\n";
    };
    while (ok && !ended) {
      std::string out;
      for (const auto& f : sub->Drain()) {
        if (std::string t = text.Feed(*f); !t.empty()) out += chunk(t);
        if (!f->status.empty() && f->seq > turn->after_seq &&
            (f->status == "idle" || f->status == "failed"))
          ended = true;
      }
      if (!out.empty()) ok = co_await w.Write(std::move(out));
      if (!ok || w.Closed()) break;
      if (!ended) {
        auto s = deps.sessions.Get(turn->session_id);
        if (!s || !s->in_flight()) {
          ended = true;
        } else {
          // A subscriber that fell behind gets no more frames: watch the session until the
          // turn ends, then send the rest of the text from the log.
          auto wait =
              sub->dropped() ? std::chrono::milliseconds(100) : std::chrono::milliseconds(15000);
          co_await sub->signal().Wait(wait);
        }
      }
    }
    if (!ended) {
      // The client went away mid-stream: the run is cancelled.
      co_await deps.chat.Abort(ctx, *turn);
      co_await deps.chat.Cleanup(ctx, *turn);
      co_return;
    }
    auto result = deps.chat.Collect(*turn);
    std::string tail;
    if (!result || result->error) {
      std::string message = result ? *result->error : result.error().message;
      std::string code = result ? result->error_code : result.error().wire_code;
      tail = "event: error\ndata: " +
             ToJson(json::object{
                 {"error",
                  json::object{{"message", message}, {"type", "run_failed"}, {"code", code}}}}) +
             "\n\n";
    } else {
      if (std::string rest = text.Rest(result->content); !rest.empty()) tail = chunk(rest);
      tail += "data: " + ChunkJson(id, created, turn->model, json::object{}, "stop") + "\n\n";
      if (include_usage) {
        tail += "data: " +
                ToJson(json::object{{"id", id},
                                    {"object", "chat.completion.chunk"},
                                    {"created", created},
                                    {"model", turn->model},
                                    {"choices", json::array{}},
                                    {"usage", Usage(*result)}}) +
                "\n\n";
      }
      tail += "data: [DONE]\n\n";
    }
    co_await w.Write(std::move(tail));
    co_await deps.chat.Cleanup(ctx, *turn);
  };
  return resp;
}

}  // namespace

http::Response OpenAiError(const Error& e) {
  int status = HttpStatus(e.code);
  std::string type = e.wire_code;
  if (status == 400) type = "invalid_request_error";
  if (status == 401) type = "authentication_error";
  if (status == 404) type = "not_found_error";
  if (status == 429) type = "rate_limit_error";
  std::string message = e.message.empty() ? e.wire_code : e.message;
  if (status >= 500 && e.code == ErrorCode::kInternal) {
    log::Error("api", "chat completion failed").Field("error", e.ToString());
  }
  return JsonResponse(
      json::object{
          {"error", json::object{{"message", message}, {"type", type}, {"code", e.wire_code}}}},
      status);
}

void AddChatRoutes(http::Router& router, const ApiDeps& deps) {
  router.Add("POST", "/v1/chat/completions", [&deps](http::Request& req) -> Task<http::Response> {
    auto body = JsonBody(req);
    if (!body)
      co_return OpenAiError(InvalidArgument(body.error().message, "invalid_request_error"));
    engine::ChatRequest request;
    request.agent_id = Header(req, "x-openclaw-agent-id", "x-pincer-agent-id");
    std::string key = Header(req, "x-openclaw-session-key", "x-pincer-session-key");
    if (!key.empty()) request.session_key = key;
    request.body = std::move(*body);
    bool stream = false, include_usage = false;
    if (request.body.is_object()) {
      const auto& o = request.body.get_object();
      if (const auto* s = o.if_contains("stream"); s && s->is_bool()) stream = s->get_bool();
      if (const auto* so = o.if_contains("stream_options"); so && so->is_object()) {
        const auto* iu = so->get_object().if_contains("include_usage");
        include_usage = iu && iu->is_bool() && iu->get_bool();
      }
    }
    engine::CallContext ctx = Context(req);
    auto started = co_await deps.chat.Start(ctx, std::move(request), /*deltas=*/stream);
    if (!started) co_return OpenAiError(started.error());
    auto turn = std::make_shared<engine::ChatTurn>(std::move(*started));
    if (stream) co_return Stream(deps, ctx, turn, include_usage);

    auto result = co_await deps.chat.Finish(*turn, kTurnTimeout);
    co_await deps.chat.Cleanup(ctx, *turn);
    if (!result) co_return OpenAiError(result.error());
    if (result->error) {
      // As the stream's error frame: type run_failed, code what stopped the turn.
      co_return JsonResponse(json::object{{"error", json::object{{"message", *result->error},
                                                                 {"type", "run_failed"},
                                                                 {"code", result->error_code}}}},
                             500);
    }
    std::string id = "chatcmpl-" + (result->event_id.empty() ? turn->session_id : result->event_id);
    http::Response r = JsonResponse(json::object{
        {"id", id},
        {"object", "chat.completion"},
        {"created", result->created_ms / 1000},
        {"model", turn->model},
        {"choices",
         json::array{json::object{
             {"index", 0},
             {"message", json::object{{"role", "assistant"}, {"content", result->content}}},
             {"finish_reason", "stop"}}}},
        {"usage", Usage(*result)}});
    r.headers.Set("x-pincer-session-id", turn->session_id);
    co_return r;
  });

  router.Add("GET", "/v1/models", [&deps](http::Request&) -> Task<http::Response> {
    json::array data, models;
    int64_t created = deps.start_ms / 1000;
    std::map<std::string, bool> configured;
    for (const auto& [id, price] : deps.prices.models()) {
      std::string provider = id.substr(0, id.find('/'));
      auto it = configured.find(provider);
      if (it == configured.end())
        it = configured.emplace(provider, deps.models.Configured(provider)).first;
      if (!it->second) continue;
      data.emplace_back(json::object{
          {"id", id}, {"object", "model"}, {"created", created}, {"owned_by", provider}});
      models.emplace_back(
          json::object{{"id", id}, {"provider", provider}, {"name", id.substr(id.find('/') + 1)}});
    }
    size_t count = models.size();
    co_return JsonResponse(json::object{{"object", "list"},
                                        {"data", std::move(data)},
                                        {"source", "price_table"},
                                        {"models", std::move(models)},
                                        {"count", count}});
  });
}

}  // namespace pincer::api::openai
