#include "domain/environment.h"

#include "domain/validation.h"

namespace pincer::domain {
namespace {

const std::vector<std::string> kManagers = {"apt", "pip", "npm", "cargo", "gem", "go"};

std::optional<std::vector<std::string>>* ManagerList(Packages& p, std::string_view name) {
  if (name == "apt") return &p.apt;
  if (name == "pip") return &p.pip;
  if (name == "npm") return &p.npm;
  if (name == "cargo") return &p.cargo;
  if (name == "gem") return &p.gem;
  if (name == "go") return &p.go;
  return nullptr;
}

bool IsValidPackageSpec(std::string_view s) {
  // Names with optional version pins (pkg==1.2, pkg@^1, crate@1.0, module@v1); no whitespace,
  // shell metacharacters or leading '-' (which a package manager would read as a flag).
  if (s.empty() || s.front() == '-') return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) ||
          std::string_view("._-+=@/:<>~^*[],!").find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

std::optional<Packages> ParsePackages(const json::object& o, FieldErrors& errors) {
  Checker c(o, errors, "packages.");
  c.Strict(kManagers);
  Packages p;
  for (const auto& m : kManagers) {
    auto list = c.StringArray(m, 512, 1, 256);
    if (!list) continue;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!IsValidPackageSpec((*list)[i])) {
        errors.Add("packages." + m + "." + std::to_string(i),
                   "not a package name (no spaces, shell characters or leading '-')");
      }
    }
    *ManagerList(p, m) = std::move(list);
  }
  return p;
}

std::optional<Networking> ParseNetworking(const json::object& o, FieldErrors& errors) {
  Checker c(o, errors, "networking.");
  auto type = c.Enum("type", {"unrestricted", "limited", "none"}, /*required=*/true);
  if (!type) return std::nullopt;
  Networking n;
  n.type = *type;
  if (n.type != "limited") return n;
  const json::value* hosts = o.if_contains("allowedHosts");
  if (hosts == nullptr) {
    c.Fail("allowedHosts", "required when type is limited");
    return std::nullopt;
  }
  auto list = c.StringArray("allowedHosts", 256, 1, 253);
  if (!list) return std::nullopt;
  if (list->empty()) {
    c.Fail("allowedHosts", "must have at least 1 host");
    return std::nullopt;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    if (!IsValidAllowedHost((*list)[i])) {
      errors.Add("networking.allowedHosts." + std::to_string(i),
                 "must be a host name or *.wildcard (no scheme, port, path, IP or CIDR)");
    }
  }
  n.allowed_hosts = std::move(*list);
  n.allow_mcp_servers = c.Bool("allowMcpServers").value_or(false);
  n.allow_package_managers = c.Bool("allowPackageManagers").value_or(false);
  return n;
}

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(json::string(s));
  return a;
}

json::value PackagesToJson(const std::optional<Packages>& p) {
  if (!p) return nullptr;
  json::object o;
  Packages copy = *p;
  for (const auto& m : kManagers) {
    if (auto* list = ManagerList(copy, m); list && *list) o[m] = ToArray(**list);
  }
  return o;
}

json::object NetworkingToJson(const Networking& n) {
  json::object o{{"type", n.type}};
  if (n.type == "limited") {
    o["allowedHosts"] = ToArray(n.allowed_hosts);
    o["allowMcpServers"] = n.allow_mcp_servers;
    o["allowPackageManagers"] = n.allow_package_managers;
  }
  return o;
}

}  // namespace

bool IsValidAllowedHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  auto ok_edge = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  char first = host.front();
  if (!ok_edge(first) && first != '*') return false;
  if (host.size() > 1 && !ok_edge(host.back())) return false;
  bool all_digits_dots = true;
  for (char c : host) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '.' || c == '-' || c == '*')) return false;
    if (!(std::isdigit(u) || c == '.')) all_digits_dots = false;
  }
  // "1.2.3.4" and similar look like IPv4 addresses: rejected.
  return !all_digits_dots;
}

Result<Environment> ParseEnvironmentCreate(const json::value& body) {
  FieldErrors errors;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + JsonKindName(body));
    return errors.ToError();
  }
  const json::object& o = body.get_object();
  Checker c(o, errors);
  Environment env;
  if (auto name = c.String("name", 1, 256, /*required=*/true)) env.name = *name;
  if (auto d = c.String("description", 0, 500)) env.description = *d;
  if (!c.IsNull("packages")) {
    if (const json::object* p = c.Object("packages")) env.packages = ParsePackages(*p, errors);
  }
  if (!c.IsNull("networking")) {
    if (const json::object* n = c.Object("networking")) {
      if (auto net = ParseNetworking(*n, errors)) env.networking = std::move(*net);
    }
  }
  if (!errors.empty()) return errors.ToError();
  return env;
}

std::string EnvironmentSpecToStorage(const Environment& env) {
  json::object o{{"description", env.description},
                 {"packages", PackagesToJson(env.packages)},
                 {"networking", NetworkingToJson(env.networking)}};
  if (!env.metadata.empty()) o["metadata"] = env.metadata;
  return ToJson(o);
}

Result<void> EnvironmentSpecFromStorage(std::string_view text, Environment& env) {
  auto parsed = ParseJson(text, 64);
  if (!parsed || !parsed->is_object()) return Internal("stored environment spec is not an object");
  const json::object& o = parsed->get_object();
  if (auto* d = o.if_contains("description"); d && d->is_string())
    env.description = d->get_string();
  if (auto* m = o.if_contains("metadata"); m && m->is_object()) env.metadata = m->get_object();
  if (auto* p = o.if_contains("packages"); p && p->is_object()) {
    Packages pk;
    for (const auto& m : kManagers) {
      if (auto* list = p->get_object().if_contains(m); list && list->is_array()) {
        std::vector<std::string> v;
        for (const auto& e : list->get_array()) {
          if (e.is_string()) v.emplace_back(e.get_string());
        }
        *ManagerList(pk, m) = std::move(v);
      }
    }
    env.packages = std::move(pk);
  }
  if (auto* n = o.if_contains("networking"); n && n->is_object()) {
    const auto& no = n->get_object();
    if (auto* t = no.if_contains("type"); t && t->is_string())
      env.networking.type = t->get_string();
    if (auto* h = no.if_contains("allowedHosts"); h && h->is_array()) {
      for (const auto& e : h->get_array()) {
        if (e.is_string()) env.networking.allowed_hosts.emplace_back(e.get_string());
      }
    }
    if (auto* b = no.if_contains("allowMcpServers"); b && b->is_bool())
      env.networking.allow_mcp_servers = b->get_bool();
    if (auto* b = no.if_contains("allowPackageManagers"); b && b->is_bool())
      env.networking.allow_package_managers = b->get_bool();
  }
  return Ok();
}

json::object EnvironmentToJson(const Environment& env) {
  json::object o;
  o["environment_id"] = env.id;
  o["name"] = env.name;
  o["description"] = env.description;
  o["packages"] = PackagesToJson(env.packages);
  o["networking"] = NetworkingToJson(env.networking);
  o["created_at"] = env.created_at;
  if (!env.metadata.empty()) o["metadata"] = env.metadata;
  if (env.archived_at) o["archived_at"] = *env.archived_at;
  return o;
}

}  // namespace pincer::domain
