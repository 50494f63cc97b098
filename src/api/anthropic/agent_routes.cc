// /anthropic/v1/agents: create, list, retrieve (?version=), update (POST), archive, versions.

#include "api/anthropic/routes.h"

namespace pincer::api::anthropic {

Task<Result<json::object>> ObjectBody(const ApiDeps& deps, const http::Request& req,
                                      std::string action, std::string target) {
  CO_ASSIGN_OR_RETURN(json::value body, co_await AuditedJsonBody(deps.audit, req, std::move(action),
                                                                 std::move(target)));
  if (!body.is_object()) co_return InvalidArgument("body: expected a JSON object");
  co_return std::move(body.get_object());
}

namespace {

Keyed AgentKey(const domain::Agent& a) {
  return Keyed{a.created_at, a.id, a.archived_at.has_value()};
}

}  // namespace

void AddAgentRoutes(http::Router& router, const ApiDeps& deps) {
  const std::string base = std::string(kPrefix) + "/v1/agents";

  router.Add("POST", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto body = co_await AuditedJsonBody(deps.audit, req, "agent.create", "");
    if (!body) co_return ErrorResponse(body.error());
    engine::CallContext ctx = Context(req);
    auto spec = ParseAgentCreate(*body);
    if (!spec) {
      Error rejected = co_await deps.audit.Reject(ctx, "agent.create", "", spec.error());
      co_return ErrorResponse(rejected);
    }
    auto agent = co_await deps.agents.CreateSpec(ctx, std::move(*spec));
    co_return Reply(agent, AgentJson);
  });

  router.Add("GET", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto params = ParseListParams(req, 20, 100, /*default_descending=*/true);
    if (!params) co_return ErrorResponse(params.error());
    auto all = deps.agents.List({});
    if (!all) co_return ErrorResponse(all.error());
    co_return JsonResponse(PageOf(all->items, *params, AgentKey, AgentJson));
  });

  router.Add("GET", base + "/:agent_id", [&deps](http::Request& req) -> Task<http::Response> {
    const std::string& id = req.Param("agent_id");
    if (auto v = req.Query("version")) {
      char* end = nullptr;
      long long version = std::strtoll(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || version < 1)
        co_return ErrorResponse(InvalidArgument("version: must be a positive integer"));
      co_return Reply(deps.agents.GetVersion(id, version), AgentJson);
    }
    co_return Reply(deps.agents.Get(id), AgentJson);
  });

  router.Add("POST", base + "/:agent_id", [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("agent_id");
    auto body = co_await ObjectBody(deps, req, "agent.update", id);
    if (!body) co_return ErrorResponse(body.error());
    std::optional<int64_t> version;
    if (const auto* v = body->if_contains("version"); v && !v->is_null()) {
      if (!v->is_int64() || v->get_int64() < 1)
        co_return ErrorResponse(InvalidArgument("version: must be a positive integer"));
      version = v->get_int64();
    }
    engine::CallContext ctx = Context(req);
    const json::object& patch = *body;
    std::function<Result<void>(domain::AgentSpec&)> apply = [&patch](domain::AgentSpec& spec) {
      return ApplyAgentUpdate(patch, spec);
    };
    auto agent = co_await deps.agents.Modify(ctx, id, version, std::move(apply));
    co_return Reply(agent, AgentJson);
  });

  router.Add("POST", base + "/:agent_id/archive",
             [&deps](http::Request& req) -> Task<http::Response> {
               engine::CallContext ctx = Context(req);
               auto agent = co_await deps.agents.Archive(ctx, req.Param("agent_id"));
               co_return Reply(agent, AgentJson);
             });

  router.Add("GET", base + "/:agent_id/versions",
             [&deps](http::Request& req) -> Task<http::Response> {
               auto params = ParseListParams(req, 20, 100, /*default_descending=*/true);
               if (!params) co_return ErrorResponse(params.error());
               params->include_archived = true;
               auto versions = deps.agents.Versions(req.Param("agent_id"));
               if (!versions) co_return ErrorResponse(versions.error());
               auto key = [](const domain::Agent& a) { return Keyed{a.version, a.id, false}; };
               co_return JsonResponse(PageOf(*versions, *params, key, AgentJson));
             });
}

}  // namespace pincer::api::anthropic
