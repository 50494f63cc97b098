// GET /v1/sessions/:id/events?stream=true — Server-Sent Events.
//
// Frames: `event: <type>` / `data: <json>` / `id: <seq>` (persisted events only). On connect
// the current status (session.status_<status>, no id), then catch-up from the store after the
// resume point, then the live tail from the event bus (subscribed before catch-up; duplicates
// skipped by seq). `heartbeat` frames every PINCER_SSE_HEARTBEAT_MS; the stream closes once the
// session has been idle for PINCER_SSE_IDLE_CLOSE_MS, when the session is deleted (after a
// session.status_deleted frame), when the client leaves, or — with an
// `event: error` frame — when the client reads too slowly to keep up. A pending tool
// confirmation request (or custom tool call) is re-sent after the catch-up even when the resume
// point is past it.

#include "api/native/routes.h"
#include "api/respond.h"
#include "common/log.h"

namespace pincer::api::native {
namespace {

void AppendFrame(std::string& out, std::string_view event, std::string_view data, int64_t seq) {
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data;
  out += '\n';
  if (seq > 0) {
    out += "id: ";
    out += std::to_string(seq);
    out += '\n';
  }
  out += '\n';
}

bool IsActive(std::string_view status) { return status == "starting" || status == "running"; }

// The session's last event when it is a request the turn waits on (a tool confirmation or a
// custom tool call).
std::optional<domain::Event> PendingRequest(const ApiDeps& deps, const std::string& session_id) {
  auto s = deps.sessions.Get(session_id);
  if (!s || !deps.sessions.AwaitingClient(*s)) return std::nullopt;
  auto last = deps.sessions.Events(session_id, s->next_seq - 2, 1);
  if (!last || last->empty()) return std::nullopt;
  return std::move(last->front());
}

}  // namespace

http::Response SessionStream(const ApiDeps& deps, std::string session_id, int64_t after_seq,
                             bool deltas) {
  http::Response resp;
  resp.status = 200;
  resp.headers.Set("content-type", "text/event-stream");
  resp.headers.Set("cache-control", "no-cache");
  resp.headers.Set("x-accel-buffering", "no");
  resp.stream = [&deps, session_id, after_seq, deltas](http::StreamWriter& w) -> Task<void> {
    using Ms = std::chrono::milliseconds;
    const int64_t heartbeat_ms = deps.config.sse_heartbeat_ms;
    const int64_t idle_close_ms = deps.config.sse_idle_close_ms;
    auto sub = deps.bus.Subscribe(session_id, deltas);
    engine::Subscription* raw = sub.get();
    w.OnClose([raw] { raw->signal().Notify(); });

    auto session = deps.sessions.Get(session_id);
    if (!session) co_return;
    Clock& clock = deps.clock;
    std::string out;
    int64_t now = clock.NowMs();
    AppendFrame(out, "session.status_" + session->status,
                ToJson(json::object{{"session_id", session_id},
                                    {"type", "session.status_" + session->status},
                                    {"status", session->status},
                                    {"created_at", now},
                                    {"ts", now}}),
                0);
    bool active = IsActive(session->status);
    int64_t last = after_seq;
    for (;;) {  // catch-up from the store
      auto events = deps.sessions.Events(session_id, last, 500);
      if (!events) co_return;
      for (const auto& e : *events) {
        AppendFrame(out, e.type, ToJson(domain::EventToJson(e)), e.seq);
        last = e.seq;
        if (e.type.rfind("session.status_", 0) == 0) active = IsActive(e.type.substr(15));
      }
      if (!co_await w.Write(std::move(out))) co_return;
      out.clear();
      if (events->size() < 500) break;
    }
    // A turn parked on the client: re-send its request even when the resume point is past it,
    // so a reconnecting client (a reloaded UI) learns what the session waits for.
    if (active && after_seq > 0) {
      if (auto pending = PendingRequest(deps, session_id); pending && pending->seq <= after_seq) {
        AppendFrame(out, pending->type, ToJson(domain::EventToJson(*pending)), pending->seq);
        if (!co_await w.Write(std::move(out))) co_return;
        out.clear();
      }
    }

    int64_t last_write = clock.NowMs();
    int64_t last_activity = last_write;
    for (;;) {
      for (const auto& f : raw->Drain()) {
        if (f->seq > 0 && f->seq <= last) continue;  // already sent by the catch-up
        AppendFrame(out, f->event, f->data, f->seq);
        if (f->seq > 0) last = f->seq;
        if (!f->status.empty()) active = IsActive(f->status);
        last_activity = clock.NowMs();
        if (f->status == "deleted") {
          co_await w.Write(std::move(out));
          co_return;
        }
      }
      if (raw->dropped()) {
        AppendFrame(
            out, "error",
            R"({"error":"slow_consumer","message":"the client fell too far behind the live stream; reconnect with Last-Event-ID to resume"})",
            0);
        co_await w.Write(std::move(out));
        co_return;
      }
      now = clock.NowMs();
      if (out.empty() && now - last_write >= heartbeat_ms) {
        AppendFrame(out, "heartbeat", "{\"ts\":" + std::to_string(now) + "}", 0);
      }
      if (!out.empty()) {
        if (!co_await w.Write(std::move(out))) co_return;
        out.clear();
        last_write = now;
      }
      if (w.Closed()) co_return;
      if (!active && now - last_activity >= idle_close_ms) co_return;
      int64_t wait = heartbeat_ms - (now - last_write);
      if (!active) wait = std::min(wait, idle_close_ms - (now - last_activity));
      co_await raw->signal().Wait(Ms(std::max<int64_t>(wait, 1)));
    }
  };
  return resp;
}

}  // namespace pincer::api::native
