// /anthropic/v1/sessions: create, list (filters), retrieve, update (POST), delete, archive.

#include <map>

#include "api/anthropic/routes.h"

namespace pincer::api::anthropic {

json::object RenderSession(const ApiDeps& deps, const domain::Session& s) {
  auto agent = deps.agents.GetVersion(s.agent_id, s.agent_version);
  bool awaiting = s.in_flight() && deps.sessions.AwaitingClient(s);
  return SessionJson(s, agent ? &*agent : nullptr, SessionStatus(s, awaiting), deps.clock.NowMs());
}

void AddSessionRoutes(http::Router& router, const ApiDeps& deps) {
  const std::string base = std::string(kPrefix) + "/v1/sessions";

  router.Add("POST", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto body = co_await AuditedJsonBody(deps.audit, req, "session.create", "");
    if (!body) co_return ErrorResponse(body.error());
    engine::CallContext ctx = Context(req);
    auto request = ParseSessionCreate(*body);
    if (!request) {
      Error rejected = co_await deps.audit.Reject(ctx, "session.create", "", request.error());
      co_return ErrorResponse(rejected);
    }
    auto s = co_await deps.sessions.CreateFrom(ctx, std::move(*request));
    if (!s) co_return ErrorResponse(s.error());
    co_return JsonResponse(RenderSession(deps, *s));
  });

  router.Add("GET", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto params = ParseListParams(req, 20, 100, /*default_descending=*/true);
    if (!params) co_return ErrorResponse(params.error());
    auto agent_id = req.Query("agent_id");
    std::optional<int64_t> agent_version;
    if (auto v = req.Query("agent_version")) {
      char* end = nullptr;
      long long n = std::strtoll(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n < 1)
        co_return ErrorResponse(InvalidArgument("agent_version: must be a positive integer"));
      agent_version = n;
    }
    std::vector<std::string> statuses = req.QueryAll("statuses[]");
    for (const auto& st : statuses) {
      if (st != "idle" && st != "running" && st != "rescheduling" && st != "terminated") {
        co_return ErrorResponse(
            InvalidArgument("statuses[]: must be idle, running, rescheduling or terminated"));
      }
    }
    auto all = deps.sessions.List({});
    if (!all) co_return ErrorResponse(all.error());
    // Render once per session that passes the cheap filters (status needs the dialect view).
    std::vector<json::object> rendered;
    std::vector<Keyed> keys;
    for (const auto& s : all->items) {
      if (s.ephemeral) continue;
      if (agent_id && s.agent_id != *agent_id) continue;
      if (agent_version && s.agent_version != *agent_version) continue;
      json::object o = RenderSession(deps, s);
      if (!statuses.empty() && std::find(statuses.begin(), statuses.end(),
                                         o.at("status").as_string()) == statuses.end()) {
        continue;
      }
      keys.push_back(Keyed{s.created_at, s.id, s.archived_at.has_value()});
      rendered.push_back(std::move(o));
    }
    std::vector<size_t> index(rendered.size());
    for (size_t i = 0; i < index.size(); ++i) index[i] = i;
    auto key = [&keys](size_t i) { return keys[i]; };
    auto render = [&rendered](size_t i) { return rendered[i]; };
    co_return JsonResponse(PageOf(index, *params, key, render, /*with_prev=*/true));
  });

  router.Add("GET", base + "/:session_id", [&deps](http::Request& req) -> Task<http::Response> {
    auto s = deps.sessions.Get(req.Param("session_id"));
    if (!s) co_return ErrorResponse(s.error());
    co_return JsonResponse(RenderSession(deps, *s));
  });

  router.Add("POST", base + "/:session_id", [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("session_id");
    auto body = co_await ObjectBody(deps, req, "session.update", id);
    if (!body) co_return ErrorResponse(body.error());
    engine::CallContext ctx = Context(req);
    const json::object& patch = *body;
    std::function<Result<void>(domain::Session&)> apply = [&patch](domain::Session& s) {
      return ApplySessionUpdate(patch, s);
    };
    auto s = co_await deps.sessions.Modify(ctx, id, std::move(apply));
    if (!s) co_return ErrorResponse(s.error());
    co_return JsonResponse(RenderSession(deps, *s));
  });

  router.Add("DELETE", base + "/:session_id", [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("session_id");
    engine::CallContext ctx = Context(req);
    auto deleted = co_await deps.sessions.Delete(ctx, id);
    if (!deleted) co_return ErrorResponse(deleted.error());
    co_return JsonResponse(json::object{{"id", id}, {"type", "session_deleted"}});
  });

  router.Add("POST", base + "/:session_id/archive",
             [&deps](http::Request& req) -> Task<http::Response> {
               engine::CallContext ctx = Context(req);
               auto s = co_await deps.sessions.Archive(ctx, req.Param("session_id"));
               if (!s) co_return ErrorResponse(s.error());
               co_return JsonResponse(RenderSession(deps, *s));
             });
}

}  // namespace pincer::api::anthropic
