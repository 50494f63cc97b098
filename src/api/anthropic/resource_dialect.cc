// Environments, sessions, vaults and credentials in the Anthropic dialect.

#include "api/anthropic/dialect.h"
#include "domain/validation.h"

namespace pincer::api::anthropic {
namespace {

using domain::Checker;
using domain::FieldErrors;

Error Invalid(const FieldErrors& errors) { return errors.ToError(); }

json::array Strings(const std::optional<std::vector<std::string>>& v) {
  json::array a;
  if (v) {
    for (const auto& s : *v) a.emplace_back(json::string(s));
  }
  return a;
}

void ApplyNetworking(const json::object& o, domain::Environment& env, FieldErrors& errors) {
  Checker c(o, errors, "config.networking.");
  auto type = c.Enum("type", {"unrestricted", "limited"}, /*required=*/true);
  if (!type) return;
  domain::Networking n;
  n.type = *type;
  if (*type == "unrestricted") {
    c.Strict({"type"});
  } else {
    c.Strict({"type", "allowed_hosts", "allow_mcp_servers", "allow_package_managers"});
    if (auto hosts = c.StringArray("allowed_hosts", 256, 1, 253)) {
      for (size_t i = 0; i < hosts->size(); ++i) {
        if (!domain::IsValidAllowedHost((*hosts)[i])) {
          errors.Add("config.networking.allowed_hosts." + std::to_string(i),
                     "must be a host name or a *. wildcard (no scheme, port, path or IP address)");
        }
      }
      n.allowed_hosts = std::move(*hosts);
    }
    n.allow_mcp_servers = c.Bool("allow_mcp_servers").value_or(false);
    n.allow_package_managers = c.Bool("allow_package_managers").value_or(false);
  }
  env.networking = std::move(n);
}

void ApplyPackages(const json::object& o, domain::Environment& env, FieldErrors& errors) {
  Checker c(o, errors, "config.packages.");
  c.Strict({"type", "apt", "cargo", "gem", "go", "npm", "pip"});
  c.Enum("type", {"packages"});
  domain::Packages p;
  p.apt = c.StringArray("apt", 256, 1, 256);
  p.cargo = c.StringArray("cargo", 256, 1, 256);
  p.gem = c.StringArray("gem", 256, 1, 256);
  p.go = c.StringArray("go", 256, 1, 256);
  p.npm = c.StringArray("npm", 256, 1, 256);
  p.pip = c.StringArray("pip", 256, 1, 256);
  env.packages = std::move(p);
}

void ApplyConfig(const json::value& v, domain::Environment& env, FieldErrors& errors) {
  if (v.is_null()) return;
  if (!v.is_object()) {
    errors.Add("config", std::string("expected object, got ") + domain::JsonKindName(v));
    return;
  }
  Checker c(v.get_object(), errors, "config.");
  c.Strict({"type", "networking", "packages"});
  auto type = c.Enum("type", {"cloud", "self_hosted"});
  if (type && *type == "self_hosted") {
    c.Fail(
        "type",
        "self_hosted environments are not supported; sandboxes run on this server (use \"cloud\")");
    return;
  }
  if (const json::object* n = c.Object("networking")) ApplyNetworking(*n, env, errors);
  if (const json::object* p = c.Object("packages")) ApplyPackages(*p, env, errors);
  bool has_packages =
      env.packages && (env.packages->apt || env.packages->cargo || env.packages->gem ||
                       env.packages->go || env.packages->npm || env.packages->pip);
  if (env.networking.type == "limited" && has_packages && !env.networking.allow_package_managers) {
    errors.Add("config.networking.allow_package_managers", "must be true when packages are listed");
  }
}

void ApplyEnvironmentFields(const json::object& body, bool create, domain::Environment& env,
                            FieldErrors& errors) {
  Checker c(body, errors);
  c.Strict({"name", "description", "metadata", "config", "scope"});
  if (create || c.Has("name")) {
    if (auto name = c.String("name", 1, 256, /*required=*/true)) env.name = *name;
  }
  if (c.Has("description")) {
    auto d =
        c.IsNull("description") ? std::optional<std::string>("") : c.String("description", 0, 2048);
    if (d) env.description = *d;
  }
  c.Enum("scope", {"organization", "account"});
  if (const auto* m = body.if_contains("metadata")) {
    if (create) {
      if (!m->is_null()) {
        if (auto md = domain::CheckMetadata(*m, "metadata", errors)) env.metadata = *md;
      }
    } else {
      domain::PatchMetadata(env.metadata, *m, "metadata", errors);
    }
  }
  if (const auto* cfg = body.if_contains("config")) ApplyConfig(*cfg, env, errors);
}

bool RequireObject(const json::value& body, FieldErrors& errors) {
  if (body.is_object()) return true;
  errors.Add("", std::string("expected a JSON object, got ") + domain::JsonKindName(body));
  return false;
}

}  // namespace

Result<domain::Environment> ParseEnvironmentCreate(const json::value& body) {
  FieldErrors errors;
  domain::Environment env;
  if (RequireObject(body, errors)) ApplyEnvironmentFields(body.get_object(), true, env, errors);
  if (!errors.empty()) return Invalid(errors);
  return env;
}

Result<void> ApplyEnvironmentUpdate(const json::object& body, domain::Environment& env) {
  FieldErrors errors;
  ApplyEnvironmentFields(body, false, env, errors);
  if (!errors.empty()) return Invalid(errors);
  return Ok();
}

json::object EnvironmentJson(const domain::Environment& env) {
  json::object networking;
  if (env.networking.type == "unrestricted") {
    networking = json::object{{"type", "unrestricted"}};
  } else {
    json::array hosts;
    for (const auto& h : env.networking.allowed_hosts) hosts.emplace_back(json::string(h));
    networking = json::object{{"type", "limited"},
                              {"allowed_hosts", std::move(hosts)},
                              {"allow_mcp_servers", env.networking.allow_mcp_servers},
                              {"allow_package_managers", env.networking.allow_package_managers}};
  }
  domain::Packages none;
  const domain::Packages& p = env.packages ? *env.packages : none;
  json::object packages{{"type", "packages"},        {"apt", Strings(p.apt)},
                        {"cargo", Strings(p.cargo)}, {"gem", Strings(p.gem)},
                        {"go", Strings(p.go)},       {"npm", Strings(p.npm)},
                        {"pip", Strings(p.pip)}};
  return json::object{
      {"id", env.id},
      {"type", "environment"},
      {"name", env.name},
      {"description",
       env.description.empty() ? json::value(nullptr) : json::value(env.description)},
      {"metadata", env.metadata},
      {"config", json::object{{"type", "cloud"},
                              {"networking", std::move(networking)},
                              {"packages", std::move(packages)}}},
      {"scope", "organization"},
      {"created_at", Time(env.created_at)},
      {"updated_at", Time(env.updated_at.value_or(env.created_at))},
      {"archived_at", Time(env.archived_at)},
  };
}

Result<engine::SessionRequest> ParseSessionCreate(const json::value& body) {
  FieldErrors errors;
  engine::SessionRequest r;
  if (!RequireObject(body, errors)) return Invalid(errors);
  const json::object& o = body.get_object();
  Checker c(o, errors);
  c.Strict({"agent", "environment_id", "title", "metadata", "vault_ids", "resources",
            "initial_events", "budget"});
  const json::value* agent = o.if_contains("agent");
  if (agent == nullptr || agent->is_null()) {
    c.Fail("agent", "required");
  } else if (agent->is_string()) {
    r.agent_id = agent->get_string();
    if (r.agent_id.empty()) c.Fail("agent", "must not be empty");
  } else if (agent->is_object()) {
    Checker ac(agent->get_object(), errors, "agent.");
    ac.Strict({"type", "id", "version"});
    ac.Enum("type", {"agent"}, /*required=*/true);
    r.agent_id = ac.String("id", 1, 64, true).value_or("");
    r.agent_version = ac.Int("version", 1, INT64_MAX / 2);
  } else {
    c.Fail("agent", std::string("expected string or object, got ") + domain::JsonKindName(*agent));
  }
  r.environment_id = c.String("environment_id", 1, 64, /*required=*/true);
  if (!c.IsNull("title")) r.title = c.String("title", 0, 1024);
  if (const auto* m = o.if_contains("metadata"); m && !m->is_null()) {
    if (auto md = domain::CheckMetadata(*m, "metadata", errors)) r.metadata = *md;
  }
  if (auto vaults = c.StringArray("vault_ids", 64, 1, 64)) r.vault_ids = std::move(*vaults);
  if (const auto* res = o.if_contains("resources");
      res && !res->is_null() && !(res->is_array() && res->get_array().empty())) {
    c.Fail("resources",
           "session resources (files, repositories, memory stores) are not supported yet; "
           "upload files through /v1/agents/{agent_id}/files");
  }
  if (const auto* init = o.if_contains("initial_events");
      init && !init->is_null() && !(init->is_array() && init->get_array().empty())) {
    c.Fail("initial_events", "not supported yet; send the events after creating the session");
  }
  if (c.Has("budget") && !c.IsNull("budget")) c.Fail("budget", "not supported yet");
  if (!errors.empty()) return Invalid(errors);
  return r;
}

Result<void> ApplySessionUpdate(const json::object& body, domain::Session& s) {
  FieldErrors errors;
  Checker c(body, errors);
  c.Strict({"title", "metadata", "vault_ids", "agent", "budget"});
  if (c.Has("title")) {
    if (c.IsNull("title")) {
      s.title.reset();
    } else if (auto t = c.String("title", 0, 1024)) {
      s.title = *t;
    }
  }
  if (const auto* m = body.if_contains("metadata"))
    domain::PatchMetadata(s.metadata, *m, "metadata", errors);
  if (c.Has("vault_ids")) c.Fail("vault_ids", "can only be set when the session is created");
  if (c.Has("agent")) c.Fail("agent", "per-session agent overrides are not supported yet");
  if (c.Has("budget")) c.Fail("budget", "not supported yet");
  if (!errors.empty()) return Invalid(errors);
  return Ok();
}

std::string SessionStatus(const domain::Session& s, bool awaiting_client) {
  if (s.in_flight()) return awaiting_client ? "idle" : "running";
  return "idle";  // idle, and failed (the failure is a session.error event)
}

json::object SessionJson(const domain::Session& s, const domain::Agent* agent,
                         const std::string& status, int64_t now_ms) {
  json::array vaults;
  for (const auto& v : s.vault_ids) vaults.emplace_back(json::string(v));
  if (s.vault_id) vaults.emplace_back(json::string(*s.vault_id));
  json::object agent_json;
  if (agent != nullptr) {
    agent_json = SessionAgentJson(*agent);
  } else {
    agent_json = json::object{{"id", s.agent_id}, {"type", "agent"}, {"version", s.agent_version}};
  }
  int64_t end = s.archived_at.value_or(now_ms);
  return json::object{
      {"id", s.id},
      {"type", "session"},
      {"status", status},
      {"agent", std::move(agent_json)},
      {"environment_id", s.environment_id ? json::value(*s.environment_id) : json::value(nullptr)},
      {"title", s.title ? json::value(*s.title) : json::value(nullptr)},
      {"metadata", s.metadata},
      {"resources", json::array{}},
      {"vault_ids", std::move(vaults)},
      {"stats",
       json::object{{"duration_seconds",
                     static_cast<double>(std::max<int64_t>(0, end - s.created_at)) / 1000.0}}},
      {"usage", json::object{{"input_tokens", s.usage.input},
                             {"output_tokens", s.usage.output},
                             {"cache_read_input_tokens", s.usage.cache_read},
                             {"cache_creation",
                              json::object{{"ephemeral_5m_input_tokens", s.usage.cache_write},
                                           {"ephemeral_1h_input_tokens", 0}}}}},
      {"created_at", Time(s.created_at)},
      {"updated_at", Time(s.updated_at.value_or(s.last_event_at.value_or(s.created_at)))},
      {"archived_at", Time(s.archived_at)},
  };
}

Result<domain::Vault> ParseVaultCreate(const json::value& body) {
  FieldErrors errors;
  domain::Vault v;
  if (RequireObject(body, errors)) {
    Checker c(body.get_object(), errors);
    c.Strict({"display_name", "metadata"});
    v.display_name = c.String("display_name", 1, 255, /*required=*/true).value_or("");
    if (const auto* m = body.get_object().if_contains("metadata"); m && !m->is_null()) {
      if (auto md = domain::CheckMetadata(*m, "metadata", errors)) v.metadata = *md;
    }
  }
  if (!errors.empty()) return Invalid(errors);
  return v;
}

Result<void> ApplyVaultUpdate(const json::object& body, domain::Vault& v) {
  FieldErrors errors;
  Checker c(body, errors);
  c.Strict({"display_name", "metadata"});
  if (c.Has("display_name")) {
    if (auto n = c.String("display_name", 1, 255, true)) v.display_name = *n;
  }
  if (const auto* m = body.if_contains("metadata"))
    domain::PatchMetadata(v.metadata, *m, "metadata", errors);
  if (!errors.empty()) return Invalid(errors);
  return Ok();
}

json::object VaultJson(const domain::Vault& v) {
  return json::object{{"id", v.id},
                      {"type", "vault"},
                      {"display_name", v.display_name},
                      {"metadata", v.metadata},
                      {"created_at", Time(v.created_at)},
                      {"updated_at", Time(v.updated_at)},
                      {"archived_at", Time(v.archived_at)}};
}

Result<void> ApplyCredentialFields(const json::object& body, domain::Credential& cred,
                                   bool create) {
  FieldErrors errors;
  Checker c(body, errors);
  c.Strict({"display_name", "metadata", "auth"});
  if (create && !body.contains("auth")) c.Fail("auth", "required");
  if (c.Has("display_name")) {
    if (c.IsNull("display_name")) {
      cred.display_name.reset();
    } else if (auto n = c.String("display_name", 0, 255)) {
      cred.display_name = *n;
    }
  }
  if (const auto* m = body.if_contains("metadata")) {
    if (create) {
      if (!m->is_null()) {
        if (auto md = domain::CheckMetadata(*m, "metadata", errors)) cred.metadata = *md;
      }
    } else {
      domain::PatchMetadata(cred.metadata, *m, "metadata", errors);
    }
  }
  if (!errors.empty()) return Invalid(errors);
  return Ok();
}

json::object CredentialJson(const domain::Credential& c) {
  return json::object{
      {"id", c.id},
      {"type", "vault_credential"},
      {"vault_id", c.vault_id},
      {"display_name", c.display_name ? json::value(*c.display_name) : json::value(nullptr)},
      {"metadata", c.metadata},
      {"auth", c.auth},
      {"created_at", Time(c.created_at)},
      {"updated_at", Time(c.updated_at)},
      {"archived_at", Time(c.archived_at)}};
}

}  // namespace pincer::api::anthropic
