// /v1/agents/:agentId/files — the session workspace: list, download, upload, delete.

#include "api/error_mapping.h"
#include "api/native/routes.h"
#include "api/respond.h"

namespace pincer::api::native {

void AddFileRoutes(http::Router& router, const ApiDeps& deps) {
  engine::Files& files = deps.files;

  router.Add(
      "GET", "/v1/agents/:agentId/files", [&files](http::Request& req) -> Task<http::Response> {
        const std::string& agent = req.Param("agentId");
        std::string path = req.Query("path").value_or(".");
        auto entries = files.List(agent, req.Query("session_id").value_or(""), path);
        if (!entries) co_return ErrorResponse(entries.error());
        json::array items;
        for (const auto& e : *entries) {
          items.emplace_back(json::object{{"name", e.name},
                                          {"path", e.path},
                                          {"type", e.type == "dir" ? "dir" : "file"},
                                          {"size", e.size},
                                          {"mtime", e.mtime_ms}});
        }
        co_return JsonResponse(
            json::object{{"agent_id", agent}, {"path", path}, {"entries", std::move(items)}});
      });

  router.Add("GET", "/v1/agents/:agentId/files/*path",
             [&files](http::Request& req) -> Task<http::Response> {
               auto content = files.Read(req.Param("agentId"), req.Query("session_id").value_or(""),
                                         req.Param("path"));
               if (!content) co_return ErrorResponse(content.error());
               http::Response r =
                   http::Response::Text(200, std::move(content->bytes), "application/octet-stream");
               if (content->truncated) r.headers.Set("x-pincer-truncated", "true");
               co_return r;
             });

  router.Add(
      "PUT", "/v1/agents/:agentId/files/*path",
      [&files](http::Request& req) -> Task<http::Response> {
        const std::string& agent = req.Param("agentId");
        std::string path = req.Param("path");
        auto size = co_await files.Write(Context(req), agent, req.Query("session_id").value_or(""),
                                         path, std::move(req.body));
        if (!size) co_return ErrorResponse(size.error());
        co_return JsonResponse(json::object{{"agent_id", agent}, {"size", *size}, {"path", path}});
      });

  router.Add("DELETE", "/v1/agents/:agentId/files/*path",
             [&files](http::Request& req) -> Task<http::Response> {
               const std::string& agent = req.Param("agentId");
               std::string path = req.Param("path");
               auto r = co_await files.Delete(Context(req), agent,
                                              req.Query("session_id").value_or(""), path);
               if (!r) co_return ErrorResponse(r.error());
               co_return JsonResponse(
                   json::object{{"agent_id", agent}, {"path", path}, {"deleted", true}});
             });
}

}  // namespace pincer::api::native
