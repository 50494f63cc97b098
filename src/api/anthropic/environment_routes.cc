// /anthropic/v1/environments: create (unique names), list, retrieve, update (POST), delete,
// archive.

#include "api/anthropic/routes.h"

namespace pincer::api::anthropic {

void AddEnvironmentRoutes(http::Router& router, const ApiDeps& deps) {
  const std::string base = std::string(kPrefix) + "/v1/environments";

  router.Add("POST", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto body = co_await AuditedJsonBody(deps.audit, req, "environment.create", "");
    if (!body) co_return ErrorResponse(body.error());
    engine::CallContext ctx = Context(req);
    auto env = ParseEnvironmentCreate(*body);
    if (!env) {
      Error rejected = co_await deps.audit.Reject(ctx, "environment.create", "", env.error());
      co_return ErrorResponse(rejected);
    }
    auto created =
        co_await deps.environments.CreateParsed(ctx, std::move(*env), /*unique_name=*/true);
    co_return Reply(created, EnvironmentJson);
  });

  router.Add("GET", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto params = ParseListParams(req, 20, 100, /*default_descending=*/true);
    if (!params) co_return ErrorResponse(params.error());
    auto all = deps.environments.List({});
    if (!all) co_return ErrorResponse(all.error());
    auto key = [](const domain::Environment& e) {
      return Keyed{e.created_at, e.id, e.archived_at.has_value()};
    };
    co_return JsonResponse(PageOf(all->items, *params, key, EnvironmentJson));
  });

  router.Add("GET", base + "/:environment_id", [&deps](http::Request& req) -> Task<http::Response> {
    co_return Reply(deps.environments.Get(req.Param("environment_id")), EnvironmentJson);
  });

  router.Add(
      "POST", base + "/:environment_id", [&deps](http::Request& req) -> Task<http::Response> {
        std::string id = req.Param("environment_id");
        auto body = co_await ObjectBody(deps, req, "environment.update", id);
        if (!body) co_return ErrorResponse(body.error());
        engine::CallContext ctx = Context(req);
        const json::object& patch = *body;
        std::function<Result<void>(domain::Environment&)> apply =
            [&patch](domain::Environment& env) { return ApplyEnvironmentUpdate(patch, env); };
        auto env = co_await deps.environments.Modify(ctx, id, std::move(apply));
        co_return Reply(env, EnvironmentJson);
      });

  router.Add("DELETE", base + "/:environment_id",
             [&deps](http::Request& req) -> Task<http::Response> {
               std::string id = req.Param("environment_id");
               engine::CallContext ctx = Context(req);
               auto deleted = co_await deps.environments.Delete(ctx, id);
               if (!deleted) co_return ErrorResponse(deleted.error());
               co_return JsonResponse(json::object{{"id", id}, {"type", "environment_deleted"}});
             });

  router.Add("POST", base + "/:environment_id/archive",
             [&deps](http::Request& req) -> Task<http::Response> {
               engine::CallContext ctx = Context(req);
               auto env = co_await deps.environments.Archive(ctx, req.Param("environment_id"));
               co_return Reply(env, EnvironmentJson);
             });
}

}  // namespace pincer::api::anthropic
