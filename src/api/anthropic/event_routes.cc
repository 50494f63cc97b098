// /anthropic/v1/sessions/:session_id/events: list, send, and the live stream.
//
// The stream delivers only what happens after it is opened (no replay: clients dedupe against
// the events list), as `event: <type>` frames, with `event: ping` heartbeats, and with
// `event_deltas[]=agent.message` the `event_start`/`event_delta` frames of the text being
// generated. It stays open until the client leaves, the session is deleted (after a
// session.deleted frame) or the server shuts down.

#include <set>

#include "api/anthropic/routes.h"

namespace pincer::api::anthropic {
namespace {

void AppendFrame(std::string& out, std::string_view event, std::string_view data) {
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
}

json::object Echo(const domain::Event& e, bool queued) {
  auto events = DialectEvents(e);
  json::object o =
      events.empty() ? json::object{{"id", e.id}, {"type", e.type}} : std::move(events.front());
  if (queued) o["processed_at"] = nullptr;
  return o;
}

Task<Result<json::object>> Send(const ApiDeps& deps, const engine::CallContext& ctx,
                                const std::string& id, SendEvent& ev) {
  if (ev.type == "user.message") {
    json::object payload{{"content", ev.text}, {"content_blocks", std::move(ev.blocks)}};
    CO_ASSIGN_OR_RETURN(auto posted, co_await deps.sessions.PostMessage(ctx, id, std::move(payload),
                                                                        std::nullopt, false));
    co_return Echo(posted.event, posted.queued);
  }
  if (ev.type == "user.interrupt") {
    CO_ASSIGN_OR_RETURN(auto e, co_await deps.sessions.Interrupt(ctx, id));
    co_return Echo(e, false);
  }
  if (ev.type == "user.tool_confirmation") {
    CO_ASSIGN_OR_RETURN(
        auto e, co_await deps.sessions.Confirm(id, ev.tool_use_id, ev.allow, ev.deny_message));
    co_return Echo(e, false);
  }
  CO_ASSIGN_OR_RETURN(auto e, co_await deps.sessions.CustomToolResult(
                                  id, ev.tool_use_id, ev.text, ev.is_error, std::move(ev.blocks)));
  co_return Echo(e, false);
}

// With `event_deltas[]=agent.message`: an agent.message's text as it is generated, announced
// by `event_start` and carried by `event_delta` frames naming the agent.message to come.
void AppendDelta(std::string& out, const engine::Frame& f, std::set<std::string>& started) {
  if (f.event != "agent.message.delta") return;
  auto d = ParseJson(f.data);
  if (!d || !d->is_object()) return;
  const auto* id = d->get_object().if_contains("event_id");
  const auto* text = d->get_object().if_contains("delta");
  if (!id || !id->is_string() || !text || !text->is_string()) return;
  std::string event_id(id->get_string());
  if (started.insert(event_id).second) {
    AppendFrame(
        out, "event_start",
        ToJson(json::object{{"type", "event_start"},
                            {"event", json::object{{"type", "agent.message"}, {"id", event_id}}}}));
  }
  json::object content{{"type", "text"}, {"text", *text}};
  AppendFrame(out, "event_delta",
              ToJson(json::object{{"type", "event_delta"},
                                  {"event_id", event_id},
                                  {"delta", json::object{{"type", "content_delta"},
                                                         {"content", std::move(content)}}}}));
}

http::Response Stream(const ApiDeps& deps, std::string session_id,
                      std::shared_ptr<engine::Subscription> sub) {
  http::Response resp;
  resp.headers.Set("content-type", "text/event-stream");
  resp.headers.Set("cache-control", "no-cache");
  resp.headers.Set("x-accel-buffering", "no");
  resp.stream = [&deps, session_id, sub](http::StreamWriter& w) -> Task<void> {
    engine::Subscription* raw = sub.get();
    w.OnClose([raw] { raw->signal().Notify(); });
    const int64_t heartbeat_ms = deps.config.sse_heartbeat_ms;
    int64_t last_write = deps.clock.NowMs();
    // Headers first, so the client knows the stream is open before it sends anything.
    if (!co_await w.Write(": stream open\n\n")) co_return;
    std::set<std::string> started;  // agent.message ids whose event_start was sent
    for (;;) {
      std::string out;
      bool ended = false;
      for (const auto& f : raw->Drain()) {
        if (f->seq == 0) {
          if (f->delta) AppendDelta(out, *f, started);
          if (f->status == "deleted") {
            AppendFrame(out, "session.deleted",
                        ToJson(json::object{{"id", session_id + "_deleted"},
                                            {"type", "session.deleted"},
                                            {"processed_at", Time(deps.clock.NowMs())}}));
            ended = true;
          }
          continue;  // transient frames (deltas, starting, container notices) have no dialect form
        }
        auto parsed = ParseJson(f->data);
        if (!parsed || !parsed->is_object()) continue;
        for (const auto& e : DialectEvents(EventFromNativeJson(parsed->get_object()))) {
          AppendFrame(out, e.at("type").as_string(), ToJson(e));
        }
      }
      if (raw->dropped()) {
        AppendFrame(
            out, "error",
            R"({"type":"error","error":{"type":"api_error","message":"the client fell too far behind the live stream; reconnect and read missed events from the events list"}})");
        ended = true;
      }
      int64_t now = deps.clock.NowMs();
      if (out.empty() && now - last_write >= heartbeat_ms)
        AppendFrame(out, "ping", R"({"type":"ping"})");
      if (!out.empty()) {
        if (!co_await w.Write(std::move(out))) co_return;
        last_write = now;
      }
      if (ended || w.Closed()) co_return;
      co_await raw->signal().Wait(
          std::chrono::milliseconds(std::max<int64_t>(1, heartbeat_ms - (now - last_write))));
    }
  };
  return resp;
}

}  // namespace

void AddEventRoutes(http::Router& router, const ApiDeps& deps) {
  std::string base(kPrefix);
  base += "/v1/sessions/:session_id/events";

  router.Add("GET", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto params = ParseListParams(req, 100, 1000, /*default_descending=*/false);
    if (!params) co_return ErrorResponse(params.error());
    auto events = deps.sessions.Events(req.Param("session_id"), 0, 0);
    if (!events) co_return ErrorResponse(events.error());
    // One native event can read as several dialect events, so a position is (seq, index).
    struct Row {
      int64_t seq;
      int64_t index;
      json::object event;
    };
    // Filters: `types[]` (dialect event types) and created_at[gt|gte|lt|lte] on processed_at.
    std::set<std::string> wanted;
    for (const auto& t : req.QueryAll("types[]")) wanted.insert(t);
    auto in_range = [&](int64_t t) {
      return (!params->created_gt || t > *params->created_gt) &&
             (!params->created_gte || t >= *params->created_gte) &&
             (!params->created_lt || t < *params->created_lt) &&
             (!params->created_lte || t <= *params->created_lte);
    };
    std::vector<Row> rows;
    for (const auto& e : *events) {
      if (!in_range(e.created_at)) continue;
      auto converted = DialectEvents(e);
      for (size_t i = 0; i < converted.size(); ++i) {
        const auto* type = converted[i].if_contains("type");
        if (!wanted.empty() &&
            (!type || !type->is_string() || !wanted.count(std::string(type->get_string()))))
          continue;
        rows.push_back({e.seq, static_cast<int64_t>(i), std::move(converted[i])});
      }
    }
    if (params->descending) std::reverse(rows.begin(), rows.end());
    size_t begin = 0;
    int64_t cursor_seq = 0;
    std::string cursor_index;
    if (!params->page.empty() && detail::DecodeCursor(params->page, cursor_seq, cursor_index) &&
        cursor_index.size() > 1 && cursor_index[0] == 'e') {
      std::pair<int64_t, int64_t> at{cursor_seq,
                                     std::strtoll(cursor_index.c_str() + 1, nullptr, 10)};
      while (begin < rows.size()) {
        std::pair<int64_t, int64_t> pos{rows[begin].seq, rows[begin].index};
        if (params->descending ? pos < at : pos > at) break;
        ++begin;
      }
    }
    size_t end = std::min(rows.size(), begin + static_cast<size_t>(params->limit));
    json::array data;
    for (size_t i = begin; i < end; ++i) data.emplace_back(std::move(rows[i].event));
    json::object out{{"data", std::move(data)}};
    out["next_page"] = end < rows.size() && end > begin
                           ? json::value(detail::EncodeCursor(
                                 rows[end - 1].seq, "e" + std::to_string(rows[end - 1].index)))
                           : json::value(nullptr);
    co_return JsonResponse(out);
  });

  router.Add("POST", base, [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("session_id");
    auto body = JsonBody(req);
    if (!body) co_return ErrorResponse(body.error());
    auto events = ParseSendEvents(*body);
    if (!events) co_return ErrorResponse(events.error());
    engine::CallContext ctx = Context(req);
    json::array echoed;
    for (auto& ev : *events) {
      auto one = co_await Send(deps, ctx, id, ev);
      if (!one) co_return ErrorResponse(one.error());
      echoed.emplace_back(std::move(*one));
    }
    co_return JsonResponse(json::object{{"data", std::move(echoed)}});
  });

  router.Add("GET", base + "/stream", [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("session_id");
    bool deltas = false;
    for (const auto& d : req.QueryAll("event_deltas[]")) {
      if (d != "agent.message" && d != "agent.thinking") {
        co_return ErrorResponse(
            InvalidArgument("event_deltas[]: must be agent.message or agent.thinking"));
      }
      deltas =
          deltas ||
          d == "agent.message";  // thinking is not streamed (agent.thinking carries no text here)
    }
    // Subscribe before answering so nothing that happens after the client sees the headers
    // is missed.
    std::shared_ptr<engine::Subscription> sub = deps.bus.Subscribe(id, deltas);
    auto s = deps.sessions.Get(id);
    if (!s) co_return ErrorResponse(s.error());
    co_return Stream(deps, id, std::move(sub));
  });
}

}  // namespace pincer::api::anthropic
