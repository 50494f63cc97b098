// /v1/agents: create, list, get, update, delete, versions, archive.

#include "api/error_mapping.h"
#include "api/native/routes.h"
#include "api/respond.h"

namespace pincer::api::native {

void AddAgentRoutes(http::Router& router, const ApiDeps& deps) {
  engine::Agents& agents = deps.agents;
  engine::AuditLog& audit = deps.audit;
  auto created_total = &deps.metrics.AddCounter("agents_created_total", "Agents created.");

  router.Add("POST", "/v1/agents",
             [&agents, &audit, created_total](http::Request& req) -> Task<http::Response> {
               auto body = co_await AuditedJsonBody(audit, req, "agent.create", "");
               if (!body) co_return ErrorResponse(body.error());
               auto agent = co_await agents.Create(Context(req), *body);
               if (!agent) co_return ErrorResponse(agent.error());
               created_total->With({}).Inc();
               co_return JsonResponse(domain::AgentToJson(*agent));
             });

  router.Add("GET", "/v1/agents", [&agents](http::Request& req) -> Task<http::Response> {
    auto page_req = PageParams(req);
    if (!page_req) co_return ErrorResponse(page_req.error());
    auto page = agents.List(*page_req);
    if (!page) co_return ErrorResponse(page.error());
    co_return JsonResponse(ListEnvelope("agents", *page, *page_req, domain::AgentToJson));
  });

  router.Add("GET", "/v1/agents/:agentId", [&agents](http::Request& req) -> Task<http::Response> {
    auto agent = agents.Get(req.Param("agentId"));
    if (!agent) co_return ErrorResponse(agent.error());
    co_return JsonResponse(domain::AgentToJson(*agent));
  });

  router.Add("PATCH", "/v1/agents/:agentId",
             [&agents, &audit](http::Request& req) -> Task<http::Response> {
               auto body =
                   co_await AuditedJsonBody(audit, req, "agent.update", req.Param("agentId"));
               if (!body) co_return ErrorResponse(body.error());
               auto agent = co_await agents.Update(Context(req), req.Param("agentId"), *body);
               if (!agent) co_return ErrorResponse(agent.error());
               co_return JsonResponse(domain::AgentToJson(*agent));
             });

  router.Add("DELETE", "/v1/agents/:agentId",
             [&agents](http::Request& req) -> Task<http::Response> {
               auto deleted = co_await agents.Delete(Context(req), req.Param("agentId"));
               if (!deleted) co_return ErrorResponse(deleted.error());
               co_return JsonResponse(json::object{{"deleted", true}});
             });

  router.Add(
      "GET", "/v1/agents/:agentId/versions", [&agents](http::Request& req) -> Task<http::Response> {
        const std::string& id = req.Param("agentId");
        auto versions = agents.Versions(id);
        if (!versions) co_return ErrorResponse(versions.error());
        json::array items;
        for (const auto& v : *versions) items.emplace_back(domain::AgentToJson(v));
        size_t count = items.size();
        co_return JsonResponse(
            json::object{{"agent_id", id}, {"versions", std::move(items)}, {"count", count}});
      });

  router.Add("POST", "/v1/agents/:agentId/archive",
             [&agents](http::Request& req) -> Task<http::Response> {
               auto agent = co_await agents.Archive(Context(req), req.Param("agentId"));
               if (!agent) co_return ErrorResponse(agent.error());
               co_return JsonResponse(domain::AgentToJson(*agent));
             });
}

}  // namespace pincer::api::native
