// /anthropic/v1/vaults and /anthropic/v1/vaults/:vault_id/credentials. Secrets are accepted,
// sealed, and never returned.

#include "api/anthropic/routes.h"

namespace pincer::api::anthropic {

void AddVaultRoutes(http::Router& router, const ApiDeps& deps) {
  const std::string base = std::string(kPrefix) + "/v1/vaults";
  const std::string creds = base + "/:vault_id/credentials";

  router.Add("POST", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto body = co_await AuditedJsonBody(deps.audit, req, "vault.create", "");
    if (!body) co_return ErrorResponse(body.error());
    auto vault = ParseVaultCreate(*body);
    if (!vault) co_return ErrorResponse(vault.error());
    engine::CallContext ctx = Context(req);
    auto created = co_await deps.vaults.Create(ctx, std::move(*vault));
    co_return Reply(created, VaultJson);
  });

  router.Add("GET", base, [&deps](http::Request& req) -> Task<http::Response> {
    auto params = ParseListParams(req, 20, 100, /*default_descending=*/true);
    if (!params) co_return ErrorResponse(params.error());
    auto all = deps.vaults.List({});
    if (!all) co_return ErrorResponse(all.error());
    auto key = [](const domain::Vault& v) {
      return Keyed{v.created_at, v.id, v.archived_at.has_value()};
    };
    co_return JsonResponse(PageOf(all->items, *params, key, VaultJson));
  });

  router.Add("GET", base + "/:vault_id", [&deps](http::Request& req) -> Task<http::Response> {
    co_return Reply(deps.vaults.Get(req.Param("vault_id")), VaultJson);
  });

  router.Add("POST", base + "/:vault_id", [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("vault_id");
    auto body = co_await ObjectBody(deps, req, "vault.update", id);
    if (!body) co_return ErrorResponse(body.error());
    engine::CallContext ctx = Context(req);
    const json::object& patch = *body;
    std::function<Result<void>(domain::Vault&)> apply = [&patch](domain::Vault& v) {
      return ApplyVaultUpdate(patch, v);
    };
    auto vault = co_await deps.vaults.Modify(ctx, id, std::move(apply));
    co_return Reply(vault, VaultJson);
  });

  router.Add("DELETE", base + "/:vault_id", [&deps](http::Request& req) -> Task<http::Response> {
    std::string id = req.Param("vault_id");
    engine::CallContext ctx = Context(req);
    auto deleted = co_await deps.vaults.Delete(ctx, id);
    if (!deleted) co_return ErrorResponse(deleted.error());
    co_return JsonResponse(json::object{{"id", id}, {"type", "vault_deleted"}});
  });

  router.Add("POST", base + "/:vault_id/archive",
             [&deps](http::Request& req) -> Task<http::Response> {
               engine::CallContext ctx = Context(req);
               auto vault = co_await deps.vaults.Archive(ctx, req.Param("vault_id"));
               co_return Reply(vault, VaultJson);
             });

  router.Add("POST", creds, [&deps](http::Request& req) -> Task<http::Response> {
    std::string vault_id = req.Param("vault_id");
    auto body = co_await ObjectBody(deps, req, "vault.credential.create", vault_id);
    if (!body) co_return ErrorResponse(body.error());
    domain::Credential c;
    if (auto fields = ApplyCredentialFields(*body, c, /*create=*/true); !fields)
      co_return ErrorResponse(fields.error());
    engine::CallContext ctx = Context(req);
    json::value auth = body->at("auth");
    auto created = co_await deps.vaults.AddCredential(ctx, vault_id, std::move(c), auth);
    co_return Reply(created, CredentialJson);
  });

  router.Add("GET", creds, [&deps](http::Request& req) -> Task<http::Response> {
    auto params = ParseListParams(req, 20, 100, /*default_descending=*/true);
    if (!params) co_return ErrorResponse(params.error());
    auto all = deps.vaults.ListCredentials(req.Param("vault_id"), {});
    if (!all) co_return ErrorResponse(all.error());
    auto key = [](const domain::Credential& c) {
      return Keyed{c.created_at, c.id, c.archived_at.has_value()};
    };
    co_return JsonResponse(PageOf(all->items, *params, key, CredentialJson));
  });

  router.Add("GET", creds + "/:credential_id", [&deps](http::Request& req) -> Task<http::Response> {
    co_return Reply(deps.vaults.GetCredential(req.Param("vault_id"), req.Param("credential_id")),
                    CredentialJson);
  });

  router.Add(
      "POST", creds + "/:credential_id", [&deps](http::Request& req) -> Task<http::Response> {
        std::string vault_id = req.Param("vault_id"), id = req.Param("credential_id");
        auto body = co_await ObjectBody(deps, req, "vault.credential.update", id);
        if (!body) co_return ErrorResponse(body.error());
        engine::CallContext ctx = Context(req);
        const json::object& patch = *body;
        std::function<Result<void>(domain::Credential&)> apply = [&patch](domain::Credential& c) {
          return ApplyCredentialFields(patch, c, /*create=*/false);
        };
        const json::value* auth = body->if_contains("auth");
        json::value auth_value = auth ? *auth : json::value(nullptr);
        auto updated = co_await deps.vaults.ModifyCredential(ctx, vault_id, id, std::move(apply),
                                                             std::move(auth_value));
        co_return Reply(updated, CredentialJson);
      });

  router.Add(
      "DELETE", creds + "/:credential_id", [&deps](http::Request& req) -> Task<http::Response> {
        std::string id = req.Param("credential_id");
        engine::CallContext ctx = Context(req);
        auto deleted = co_await deps.vaults.DeleteCredential(ctx, req.Param("vault_id"), id);
        if (!deleted) co_return ErrorResponse(deleted.error());
        co_return JsonResponse(json::object{{"id", id}, {"type", "vault_credential_deleted"}});
      });

  router.Add("POST", creds + "/:credential_id/archive",
             [&deps](http::Request& req) -> Task<http::Response> {
               engine::CallContext ctx = Context(req);
               auto c = co_await deps.vaults.ArchiveCredential(ctx, req.Param("vault_id"),
                                                               req.Param("credential_id"));
               co_return Reply(c, CredentialJson);
             });
}

}  // namespace pincer::api::anthropic
