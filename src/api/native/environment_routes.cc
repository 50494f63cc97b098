// /v1/environments: create, list, get, delete.

#include "api/error_mapping.h"
#include "api/native/routes.h"
#include "api/respond.h"

namespace pincer::api::native {

void AddEnvironmentRoutes(http::Router& router, const ApiDeps& deps) {
  engine::Environments& envs = deps.environments;
  engine::AuditLog& audit = deps.audit;

  router.Add("POST", "/v1/environments",
             [&envs, &audit](http::Request& req) -> Task<http::Response> {
               auto body = co_await AuditedJsonBody(audit, req, "environment.create", "");
               if (!body) co_return ErrorResponse(body.error());
               auto env = co_await envs.Create(Context(req), *body);
               if (!env) co_return ErrorResponse(env.error());
               co_return JsonResponse(domain::EnvironmentToJson(*env));
             });

  router.Add("GET", "/v1/environments", [&envs](http::Request& req) -> Task<http::Response> {
    auto page_req = PageParams(req);
    if (!page_req) co_return ErrorResponse(page_req.error());
    auto page = envs.List(*page_req);
    if (!page) co_return ErrorResponse(page.error());
    co_return JsonResponse(
        ListEnvelope("environments", *page, *page_req, domain::EnvironmentToJson));
  });

  router.Add("GET", "/v1/environments/:environmentId",
             [&envs](http::Request& req) -> Task<http::Response> {
               auto env = envs.Get(req.Param("environmentId"));
               if (!env) co_return ErrorResponse(env.error());
               co_return JsonResponse(domain::EnvironmentToJson(*env));
             });

  router.Add("DELETE", "/v1/environments/:environmentId",
             [&envs](http::Request& req) -> Task<http::Response> {
               auto deleted = co_await envs.Delete(Context(req), req.Param("environmentId"));
               if (!deleted) co_return ErrorResponse(deleted.error());
               co_return JsonResponse(json::object{{"deleted", true}});
             });
}

}  // namespace pincer::api::native
