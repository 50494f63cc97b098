// /v1/sessions: create, list, get, delete, events (post, list, stream), cancel, compact; and the
// agent-level /run and /warm adapters.

#include <charconv>

#include "api/error_mapping.h"
#include "api/native/routes.h"
#include "api/respond.h"
#include "domain/validation.h"

namespace pincer::api::native {
namespace {

std::optional<int64_t> ParseSeq(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// The resume point: Last-Event-ID wins over ?after=. A seq, or an event id of this session;
// anything unknown replays from the start.
int64_t ResumeSeq(const ApiDeps& deps, const http::Request& req, const std::string& sid) {
  std::string mark;
  if (auto h = req.headers.Get("last-event-id")) {
    mark = std::string(*h);
  } else if (auto a = req.Query("after")) {
    mark = std::move(*a);
  }
  if (mark.empty()) return 0;
  if (auto seq = ParseSeq(mark)) {
    // A seq the log has not reached is unknown: replay everything (as for unknown ids).
    auto s = deps.sessions.Get(sid);
    return s && *seq < s->next_seq ? *seq : 0;
  }
  auto events = deps.sessions.Events(sid, 0, 0);
  if (!events) return 0;
  for (const auto& e : *events) {
    if (e.id == mark) return e.seq;
  }
  return 0;
}

}  // namespace

void AddSessionRoutes(http::Router& router, const ApiDeps& deps) {
  engine::Sessions& sessions = deps.sessions;
  engine::AuditLog& audit = deps.audit;

  router.Add("POST", "/v1/sessions",
             [&sessions, &audit](http::Request& req) -> Task<http::Response> {
               auto body = co_await AuditedJsonBody(audit, req, "session.create", "");
               if (!body) co_return ErrorResponse(body.error());
               auto s = co_await sessions.Create(Context(req), *body);
               if (!s) co_return ErrorResponse(s.error());
               co_return JsonResponse(domain::SessionToJson(*s));
             });

  router.Add("GET", "/v1/sessions", [&sessions](http::Request& req) -> Task<http::Response> {
    auto page_req = PageParams(req);
    if (!page_req) co_return ErrorResponse(page_req.error());
    auto page = sessions.List(*page_req);
    if (!page) co_return ErrorResponse(page.error());
    co_return JsonResponse(ListEnvelope("sessions", *page, *page_req, domain::SessionToJson));
  });

  router.Add("GET", "/v1/sessions/:sessionId",
             [&sessions](http::Request& req) -> Task<http::Response> {
               auto s = sessions.Get(req.Param("sessionId"));
               if (!s) co_return ErrorResponse(s.error());
               co_return JsonResponse(domain::SessionToJson(*s));
             });

  router.Add("DELETE", "/v1/sessions/:sessionId",
             [&sessions](http::Request& req) -> Task<http::Response> {
               auto r = co_await sessions.Delete(Context(req), req.Param("sessionId"));
               if (!r) co_return ErrorResponse(r.error());
               co_return JsonResponse(json::object{{"deleted", true}});
             });

  router.Add("POST", "/v1/sessions/:sessionId/events",
             [&sessions](http::Request& req) -> Task<http::Response> {
               auto body = JsonBody(req);
               if (!body) co_return ErrorResponse(body.error());
               std::optional<std::string> key;
               if (auto k = req.headers.Get("idempotency-key")) key = std::string(*k);
               auto r = co_await sessions.PostEvent(Context(req), req.Param("sessionId"), *body,
                                                    std::move(key));
               if (!r) co_return ErrorResponse(r.error());
               co_return JsonResponse(*r);
             });

  router.Add(
      "GET", "/v1/sessions/:sessionId/events",
      [&deps, &sessions](http::Request& req) -> Task<http::Response> {
        const std::string& sid = req.Param("sessionId");
        auto stream = req.Query("stream");
        if (stream && (*stream == "true" || *stream == "1")) {
          auto s = sessions.Get(sid);
          if (!s) co_return ErrorResponse(s.error());
          auto deltas = req.Query("deltas");
          co_return SessionStream(deps, sid, ResumeSeq(deps, req, sid),
                                  deltas && (*deltas == "true" || *deltas == "1"));
        }
        int64_t limit = 0;
        if (auto l = req.Query("limit")) {
          auto v = ParseSeq(*l);
          if (!v || *v < 1 || *v > 1000)
            co_return ErrorResponse(InvalidArgument("limit: must be an integer in 1..1000"));
          limit = *v;
        }
        int64_t after = 0;
        if (auto a = req.Query("after")) {
          auto v = ParseSeq(*a);
          if (!v)
            co_return ErrorResponse(InvalidArgument("after: must be an event seq (integer >= 0)"));
          after = *v;
        }
        auto events = sessions.Events(sid, after, limit > 0 ? limit + 1 : 0);
        if (!events) co_return ErrorResponse(events.error());
        bool has_more = limit > 0 && static_cast<int64_t>(events->size()) > limit;
        if (has_more) events->resize(static_cast<size_t>(limit));
        json::array items;
        for (const auto& e : *events) items.emplace_back(domain::EventToJson(e));
        size_t count = items.size();
        json::object out{{"session_id", sid}, {"events", std::move(items)}, {"count", count}};
        if (limit > 0) {
          out["has_more"] = has_more;
          out["next_after"] = has_more ? json::value(events->back().seq) : json::value(nullptr);
        }
        co_return JsonResponse(out);
      });

  router.Add("POST", "/v1/sessions/:sessionId/cancel",
             [&sessions](http::Request& req) -> Task<http::Response> {
               auto r = co_await sessions.Cancel(Context(req), req.Param("sessionId"));
               if (!r) co_return ErrorResponse(r.error());
               co_return JsonResponse(*r);
             });

  router.Add("POST", "/v1/sessions/:sessionId/compact",
             [&sessions](http::Request& req) -> Task<http::Response> {
               auto r = co_await sessions.Compact(Context(req), req.Param("sessionId"));
               if (!r) co_return ErrorResponse(r.error());
               co_return JsonResponse(*r);
             });

  router.Add("POST", "/v1/agents/:agentId/run",
             [&sessions, &deps](http::Request& req) -> Task<http::Response> {
               auto body = JsonBody(req);
               if (!body) co_return ErrorResponse(body.error());
               domain::FieldErrors errors;
               std::optional<std::string> task, session_id;
               if (!body->is_object()) {
                 errors.Add("", "expected a JSON object");
               } else {
                 domain::Checker c(body->get_object(), errors);
                 task = c.String("task", 1, 1 << 20, /*required=*/true);
                 if (!c.IsNull("sessionId")) session_id = c.String("sessionId", 1, 128);
               }
               if (!errors.empty()) co_return ErrorResponse(errors.ToError());
               const std::string& agent_id = req.Param("agentId");
               std::string sid;
               if (session_id) {
                 auto s = sessions.Get(*session_id);
                 if (!s) co_return ErrorResponse(s.error());
                 if (s->agent_id != agent_id) {
                   co_return ErrorResponse(
                       400, "session_agent_mismatch",
                       "session " + *session_id + " belongs to agent " + s->agent_id);
                 }
                 sid = s->id;
               } else {
                 json::value create = json::object{{"agentId", agent_id}};
                 auto s = co_await sessions.Create(Context(req), create);
                 if (!s) co_return ErrorResponse(s.error());
                 sid = s->id;
               }
               json::value message = json::object{{"content", *task}};
               auto posted = co_await sessions.PostEvent(Context(req), sid, message, std::nullopt);
               if (!posted) co_return ErrorResponse(posted.error());
               co_return JsonResponse(json::object{{"session_id", sid},
                                                   {"agent_id", agent_id},
                                                   {"status", posted->at("session_status")},
                                                   {"started_at", deps.clock.NowMs()}});
             });

  router.Add("POST", "/v1/agents/:agentId/warm",
             [&deps](http::Request& req) -> Task<http::Response> {
               auto agent = deps.agents.Get(req.Param("agentId"));
               if (!agent) co_return ErrorResponse(agent.error());
               // Best effort, in the background: the reply does not wait for the sandbox to boot.
               Spawn([](engine::Sessions* sessions, std::string id) -> Task<void> {
                 (void)co_await sessions->Warm(std::move(id));
               }(&deps.sessions, agent->id));
               co_return JsonResponse(json::object{{"agent_id", agent->id}, {"queued", true}}, 202);
             });

  router.Add("GET", "/v1/sessions/:sessionId/logs",
             [&sessions](http::Request& req) -> Task<http::Response> {
               int tail = 200;
               if (auto t = req.Query("tail")) {
                 auto v = ParseSeq(*t);
                 if (!v) co_return ErrorResponse(InvalidArgument("tail: must be an integer"));
                 tail = static_cast<int>(std::clamp<int64_t>(*v, 1, 10000));
               }
               auto logs = co_await sessions.Logs(req.Param("sessionId"), tail);
               if (!logs) co_return ErrorResponse(logs.error());
               co_return http::Response::Text(200, std::move(*logs), "text/plain; charset=utf-8");
             });
}

}  // namespace pincer::api::native
