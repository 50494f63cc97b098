// Agents in the Anthropic dialect: {name, model (string or {id, speed…}), system, tools
// (agent_toolset_20260401 / mcp_toolset / custom), mcp_servers, skills, metadata, description}.
//
// Mapping onto the domain spec:
//   toolset enabled tools      → spec.tools (["none"] when no built-in tool is enabled)
//   per-tool always_ask        → permission_policy {always_ask, tools:[…]}
//   custom tools               → spec.custom_tools
//   model "claude-x"           → "anthropic/claude-x" (an id with '/' is taken as provider/model)
//   system                     → instructions
//   speed, skills, toolset defaults, mcp toolsets, "auto" policies → spec.dialect (echoed)

#include <algorithm>
#include <set>

#include "api/anthropic/dialect.h"
#include "domain/validation.h"

namespace pincer::api::anthropic {
namespace {

using domain::Checker;
using domain::FieldErrors;

const std::vector<std::string> kToolNames = {"bash", "edit", "read",      "write",
                                             "glob", "grep", "web_fetch", "web_search"};
const std::vector<std::string> kPolicies = {"always_allow", "always_ask", "auto"};
constexpr char kToolset[] = "agent_toolset_20260401";
constexpr size_t kMaxTools = 256;

bool IsToolName(std::string_view n) {
  if (n.empty() || n.size() > 128) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string Str(const json::object& o, std::string_view k, std::string def = "") {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : def;
}

// {enabled?, permission_policy?{type}} at `path`; fills the optional outputs.
void ParseToolConfig(const json::object& o, const std::string& path, FieldErrors& errors,
                     std::optional<bool>& enabled, std::optional<std::string>& policy) {
  Checker c(o, errors, path);
  if (auto e = c.Bool("enabled")) enabled = e;
  if (!c.IsNull("permission_policy")) {
    if (const json::object* p = c.Object("permission_policy")) {
      Checker pc(*p, errors, path + "permission_policy.");
      pc.Strict({"type"});
      if (auto t = pc.Enum("type", kPolicies, /*required=*/true)) policy = t;
    }
  }
}

struct ToolsOut {
  std::vector<std::string> enabled;
  std::vector<std::string> ask;
  std::vector<domain::CustomTool> custom;
  bool has_toolset = false;
  json::object toolset_default;  // resolved default_config
  json::object auto_tools;       // name -> true for tools whose policy is "auto"
  json::array mcp_toolsets;
};

void ParseToolset(const json::object& o, const std::string& path, FieldErrors& errors,
                  ToolsOut& out) {
  Checker c(o, errors, path);
  c.Strict({"type", "default_config", "configs"});
  bool def_enabled = true;
  std::string def_policy = "always_allow";
  if (const json::object* d = c.Object("default_config")) {
    Checker dc(*d, errors, path + "default_config.");
    dc.Strict({"enabled", "permission_policy"});
    std::optional<bool> e;
    std::optional<std::string> p;
    ParseToolConfig(*d, path + "default_config.", errors, e, p);
    def_enabled = e.value_or(true);
    def_policy = p.value_or("always_allow");
  }
  std::map<std::string, std::pair<bool, std::string>> per_tool;
  for (const auto& n : kToolNames) per_tool[n] = {def_enabled, def_policy};
  if (const auto* cfgs = o.if_contains("configs"); cfgs && !cfgs->is_null()) {
    if (!cfgs->is_array()) {
      errors.Add(path + "configs", "expected array");
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < cfgs->get_array().size(); ++i) {
        std::string at = path + "configs." + std::to_string(i) + ".";
        const auto& item = cfgs->get_array()[i];
        if (!item.is_object()) {
          errors.Add(at.substr(0, at.size() - 1), "expected object");
          continue;
        }
        Checker ic(item.get_object(), errors, at);
        ic.Strict({"name", "type", "enabled", "permission_policy", "allowed_domains",
                   "blocked_domains", "max_content_tokens", "url_sources", "user_location"});
        auto name = ic.Enum("name", kToolNames, /*required=*/true);
        if (!name) continue;
        if (!seen.insert(*name).second) ic.Fail("name", "duplicate tool " + *name);
        std::optional<bool> e;
        std::optional<std::string> p;
        ParseToolConfig(item.get_object(), at, errors, e, p);
        if (e) per_tool[*name].first = *e;
        if (p) per_tool[*name].second = *p;
      }
    }
  }
  out.has_toolset = true;
  out.toolset_default = json::object{{"enabled", def_enabled},
                                     {"permission_policy", json::object{{"type", def_policy}}}};
  for (const auto& n : kToolNames) {
    auto [enabled, policy] = per_tool[n];
    if (!enabled) continue;
    out.enabled.push_back(n);
    if (policy == "always_ask") out.ask.push_back(n);
    if (policy == "auto") out.auto_tools[n] = true;
  }
}

void ParseCustomTool(const json::object& o, const std::string& path, FieldErrors& errors,
                     ToolsOut& out) {
  Checker c(o, errors, path);
  c.Strict({"type", "name", "description", "input_schema"});
  auto name = c.String("name", 1, 128, /*required=*/true);
  if (name && !IsToolName(*name)) c.Fail("name", "letters, digits, '_' and '-' only");
  if (name && std::find(kToolNames.begin(), kToolNames.end(), *name) != kToolNames.end()) {
    c.Fail("name", "\"" + *name + "\" is a built-in tool name");
  }
  auto description = c.String("description", 1, 1024, /*required=*/true);
  const json::object* schema = c.Object("input_schema", /*required=*/true);
  if (schema) {
    if (const auto* t = schema->if_contains("type");
        t && (!t->is_string() || t->get_string() != "object")) {
      c.Fail("input_schema", "type must be \"object\"");
    }
  }
  for (const auto& t : out.custom) {
    if (name && t.name == *name) c.Fail("name", "duplicate custom tool " + *name);
  }
  if (name && description && schema) {
    json::object s = *schema;
    if (!s.contains("type")) s["type"] = "object";
    out.custom.push_back({*name, *description, std::move(s)});
  }
}

void ParseMcpToolset(const json::object& o, const std::string& path,
                     const std::set<std::string>& servers, FieldErrors& errors, ToolsOut& out) {
  Checker c(o, errors, path);
  c.Strict({"type", "mcp_server_name", "default_config", "configs"});
  auto server = c.String("mcp_server_name", 1, 255, /*required=*/true);
  if (server && !servers.count(*server))
    c.Fail("mcp_server_name", "no MCP server named \"" + *server + "\" in mcp_servers");
  json::object echoed{{"type", "mcp_toolset"}, {"mcp_server_name", server.value_or("")}};
  std::optional<bool> e;
  std::optional<std::string> p;
  if (const json::object* d = c.Object("default_config"))
    ParseToolConfig(*d, path + "default_config.", errors, e, p);
  echoed["default_config"] =
      json::object{{"enabled", e.value_or(true)},
                   {"permission_policy", json::object{{"type", p.value_or("always_ask")}}}};
  json::array configs;
  if (const auto* cfgs = o.if_contains("configs"); cfgs && cfgs->is_array()) {
    for (size_t i = 0; i < cfgs->get_array().size(); ++i) {
      const auto& item = cfgs->get_array()[i];
      std::string at = path + "configs." + std::to_string(i) + ".";
      if (!item.is_object()) {
        errors.Add(at.substr(0, at.size() - 1), "expected object");
        continue;
      }
      Checker ic(item.get_object(), errors, at);
      ic.Strict({"name", "enabled", "permission_policy"});
      auto name = ic.String("name", 1, 256, true);
      std::optional<bool> ie;
      std::optional<std::string> ip;
      ParseToolConfig(item.get_object(), at, errors, ie, ip);
      configs.emplace_back(json::object{
          {"name", name.value_or("")},
          {"enabled", ie.value_or(e.value_or(true))},
          {"permission_policy", json::object{{"type", ip.value_or(p.value_or("always_ask"))}}}});
    }
  } else if (cfgs && !cfgs->is_null()) {
    errors.Add(path + "configs", "expected array");
  }
  echoed["configs"] = std::move(configs);
  out.mcp_toolsets.emplace_back(std::move(echoed));
}

// Parses `tools` into `spec` (full replacement).
void ApplyTools(const json::value& tools, const std::set<std::string>& servers,
                domain::AgentSpec& spec, FieldErrors& errors) {
  ToolsOut out;
  if (!tools.is_null()) {
    if (!tools.is_array()) {
      errors.Add("tools", std::string("expected array, got ") + domain::JsonKindName(tools));
      return;
    }
    if (tools.get_array().size() > kMaxTools)
      errors.Add("tools", "at most " + std::to_string(kMaxTools) + " tools");
    for (size_t i = 0; i < tools.get_array().size(); ++i) {
      const auto& t = tools.get_array()[i];
      std::string path = "tools." + std::to_string(i) + ".";
      if (!t.is_object()) {
        errors.Add(path.substr(0, path.size() - 1), "expected object");
        continue;
      }
      std::string type = Str(t.get_object(), "type");
      if (type == kToolset) {
        if (out.has_toolset)
          errors.Add(path + "type", "only one agent_toolset_20260401 entry is allowed");
        ParseToolset(t.get_object(), path, errors, out);
      } else if (type == "mcp_toolset") {
        ParseMcpToolset(t.get_object(), path, servers, errors, out);
      } else if (type == "custom") {
        ParseCustomTool(t.get_object(), path, errors, out);
      } else {
        errors.Add(path + "type", "must be one of agent_toolset_20260401, mcp_toolset, custom");
      }
    }
  }
  spec.tools =
      out.enabled.empty() ? std::vector<std::string>{domain::kNoBuiltinTools} : out.enabled;
  spec.permission_policy = domain::PermissionPolicy{};
  if (!out.ask.empty()) {
    spec.permission_policy.type = "always_ask";
    spec.permission_policy.tools = out.ask;
  }
  spec.custom_tools = std::move(out.custom);
  spec.dialect.erase("toolset_default");
  spec.dialect.erase("auto_tools");
  spec.dialect.erase("mcp_toolsets");
  if (out.has_toolset) spec.dialect["toolset_default"] = std::move(out.toolset_default);
  if (!out.auto_tools.empty()) spec.dialect["auto_tools"] = std::move(out.auto_tools);
  if (!out.mcp_toolsets.empty()) spec.dialect["mcp_toolsets"] = std::move(out.mcp_toolsets);
}

// mcp_servers [{type:"url", name, url}] → spec.mcp_servers {name: {type, url}}. Returns names.
std::set<std::string> ApplyMcpServers(const json::value& v, domain::AgentSpec& spec,
                                      FieldErrors& errors) {
  std::set<std::string> names;
  spec.mcp_servers.clear();
  if (v.is_null()) return names;
  if (!v.is_array()) {
    errors.Add("mcp_servers", std::string("expected array, got ") + domain::JsonKindName(v));
    return names;
  }
  if (v.get_array().size() > 20) errors.Add("mcp_servers", "at most 20 servers");
  for (size_t i = 0; i < v.get_array().size(); ++i) {
    const auto& s = v.get_array()[i];
    std::string path = "mcp_servers." + std::to_string(i) + ".";
    if (!s.is_object()) {
      errors.Add(path.substr(0, path.size() - 1), "expected object");
      continue;
    }
    Checker c(s.get_object(), errors, path);
    c.Strict({"type", "name", "url"});
    c.Enum("type", {"url"}, /*required=*/true);
    auto name = c.String("name", 1, 255, true);
    auto url = c.String("url", 1, 4096, true);
    if (url && url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0)
      c.Fail("url", "must be an http(s) URL");
    if (name && !names.insert(*name).second) c.Fail("name", "duplicate MCP server name " + *name);
    if (name && url) spec.mcp_servers[*name] = json::object{{"type", "url"}, {"url", *url}};
  }
  return names;
}

std::set<std::string> McpNames(const domain::AgentSpec& spec) {
  std::set<std::string> names;
  for (const auto& kv : spec.mcp_servers) names.insert(std::string(kv.key()));
  return names;
}

void ApplyModel(const json::value& v, domain::AgentSpec& spec, FieldErrors& errors) {
  std::string id;
  json::object extra;
  if (v.is_string()) {
    id = v.get_string();
  } else if (v.is_object()) {
    Checker c(v.get_object(), errors, "model.");
    c.Strict({"id", "speed", "effort", "inference_geo"});
    id = c.String("id", 1, 256, true).value_or("");
    if (auto speed = c.Enum("speed", {"standard", "fast"})) extra["speed"] = *speed;
    if (const json::object* effort = c.Object("effort")) {
      Checker ec(*effort, errors, "model.effort.");
      if (auto t = ec.Enum("type", {"low", "medium", "high", "xhigh", "max"}, true)) {
        extra["effort"] = json::object{{"type", *t}};
        // The closest native knob: the thinking level.
        spec.thinking_level = *t == "max" ? "xhigh" : *t;
      }
    }
    if (auto geo = c.String("inference_geo", 1, 64)) extra["inference_geo"] = *geo;
  } else {
    errors.Add("model", std::string("expected string or object, got ") + domain::JsonKindName(v));
    return;
  }
  if (id.empty() || id.size() > 256) {
    if (v.is_string()) errors.Add("model", "must be 1..256 characters");
    return;
  }
  spec.model = id.find('/') == std::string::npos ? "anthropic/" + id : id;
  spec.dialect["model"] = std::move(extra);
}

void ApplySkills(const json::value& v, domain::AgentSpec& spec, FieldErrors& errors) {
  spec.dialect.erase("skills");
  if (v.is_null()) return;
  if (!v.is_array()) {
    errors.Add("skills", "expected array");
    return;
  }
  if (v.get_array().size() > 20) errors.Add("skills", "at most 20 skills");
  json::array skills;
  for (size_t i = 0; i < v.get_array().size(); ++i) {
    const auto& s = v.get_array()[i];
    std::string path = "skills." + std::to_string(i) + ".";
    if (!s.is_object()) {
      errors.Add(path.substr(0, path.size() - 1), "expected object");
      continue;
    }
    Checker c(s.get_object(), errors, path);
    c.Strict({"type", "skill_id", "version"});
    auto type = c.Enum("type", {"anthropic", "custom"}, true);
    auto id = c.String("skill_id", 1, 256, true);
    auto version = c.String("version", 1, 64);
    if (type && id) {
      skills.emplace_back(json::object{
          {"type", *type}, {"skill_id", *id}, {"version", version.value_or("latest")}});
    }
  }
  if (!skills.empty()) spec.dialect["skills"] = std::move(skills);
}

// Fields shared by create and update. `create` requires name and model.
void ApplyFields(const json::object& body, bool create, domain::AgentSpec& spec,
                 FieldErrors& errors) {
  Checker c(body, errors);
  std::vector<std::string> known = {
      "name",        "model",  "description", "system",     "tools",
      "mcp_servers", "skills", "metadata",    "multiagent", "execution_identity"};
  if (!create) known.push_back("version");
  c.Strict(known);
  if (create || c.Has("name")) {
    if (c.IsNull("name")) {
      c.Fail("name", "cannot be cleared");
    } else if (auto name = c.String("name", 1, 256, /*required=*/true)) {
      spec.name = *name;
    }
  }
  if (create && !c.Has("model")) c.Fail("model", "required");
  if (const auto* m = body.if_contains("model")) {
    if (m->is_null()) {
      c.Fail("model", "cannot be cleared");
    } else {
      ApplyModel(*m, spec, errors);
    }
  }
  if (c.Has("description")) {
    auto d =
        c.IsNull("description") ? std::optional<std::string>("") : c.String("description", 0, 2048);
    if (d) spec.description = d->empty() ? std::nullopt : std::optional<std::string>(*d);
  }
  if (c.Has("system")) {
    auto s = c.IsNull("system") ? std::optional<std::string>("") : c.String("system", 0, 100'000);
    if (s) spec.instructions = *s;
  }
  std::set<std::string> servers = McpNames(spec);
  if (const auto* m = body.if_contains("mcp_servers")) servers = ApplyMcpServers(*m, spec, errors);
  if (const auto* t = body.if_contains("tools")) {
    ApplyTools(*t, servers, spec, errors);
  } else if (create) {
    ApplyTools(json::array{}, servers, spec, errors);
  }
  if (const auto* s = body.if_contains("skills")) ApplySkills(*s, spec, errors);
  if (const auto* m = body.if_contains("metadata")) {
    if (create) {
      if (!m->is_null()) {
        if (auto md = domain::CheckMetadata(*m, "metadata", errors)) spec.metadata = *md;
      }
    } else {
      domain::PatchMetadata(spec.metadata, *m, "metadata", errors);
    }
  }
}

json::object PolicyJson(const std::string& type) { return json::object{{"type", type}}; }

// The agent's tools in dialect form, derived from the spec (so native edits show up too).
json::array ToolsJson(const domain::AgentSpec& spec) {
  json::array tools;
  bool none = spec.tools.size() == 1 && spec.tools[0] == domain::kNoBuiltinTools;
  const json::value* def = spec.dialect.if_contains("toolset_default");
  if (!none || def != nullptr) {
    const auto* autos = spec.dialect.if_contains("auto_tools");
    auto enabled = [&](const std::string& n) {
      if (none) return false;
      bool listed = spec.tools.empty() ||
                    std::find(spec.tools.begin(), spec.tools.end(), n) != spec.tools.end();
      const auto& p = spec.permission_policy;
      bool denied = p.type == "deny" && p.tools &&
                    std::find(p.tools->begin(), p.tools->end(), n) != p.tools->end();
      return listed && !denied;
    };
    auto policy = [&](const std::string& n) -> std::string {
      const auto& p = spec.permission_policy;
      if (p.type == "always_ask" &&
          (!p.tools || std::find(p.tools->begin(), p.tools->end(), n) != p.tools->end())) {
        return "always_ask";
      }
      if (autos && autos->is_object() && autos->get_object().contains(n)) return "auto";
      return "always_allow";
    };
    json::array configs;
    for (const auto& n : kToolNames) {
      configs.emplace_back(json::object{{"name", n},
                                        {"type", n},
                                        {"enabled", enabled(n)},
                                        {"permission_policy", PolicyJson(policy(n))}});
    }
    json::object default_config;
    if (def != nullptr && def->is_object()) {
      default_config = def->get_object();
    } else {
      bool all_ask = spec.permission_policy.type == "always_ask" && !spec.permission_policy.tools;
      default_config =
          json::object{{"enabled", !none},
                       {"permission_policy", PolicyJson(all_ask ? "always_ask" : "always_allow")}};
    }
    tools.emplace_back(json::object{{"type", kToolset},
                                    {"default_config", std::move(default_config)},
                                    {"configs", std::move(configs)}});
  }
  if (const auto* mcp = spec.dialect.if_contains("mcp_toolsets"); mcp && mcp->is_array()) {
    for (const auto& t : mcp->get_array()) tools.push_back(t);
  }
  for (const auto& t : spec.custom_tools) {
    tools.emplace_back(json::object{{"type", "custom"},
                                    {"name", t.name},
                                    {"description", t.description},
                                    {"input_schema", t.input_schema}});
  }
  return tools;
}

json::object ModelJson(const domain::AgentSpec& spec) {
  std::string id = spec.model;
  if (id.rfind("anthropic/", 0) == 0) id = id.substr(10);
  json::object m{{"id", id}, {"speed", "standard"}};
  if (const auto* extra = spec.dialect.if_contains("model"); extra && extra->is_object()) {
    for (const auto& kv : extra->get_object()) m[kv.key()] = kv.value();
  }
  return m;
}

json::array McpServersJson(const domain::AgentSpec& spec) {
  json::array out;
  for (const auto& kv : spec.mcp_servers) {
    if (!kv.value().is_object()) continue;
    const auto* url = kv.value().get_object().if_contains("url");
    if (url == nullptr || !url->is_string()) continue;  // native stdio servers have no dialect form
    out.emplace_back(json::object{{"type", "url"}, {"name", kv.key()}, {"url", *url}});
  }
  return out;
}

void AppendSnapshot(const domain::Agent& a, json::object& o) {
  o["id"] = a.id;
  o["type"] = "agent";
  o["name"] = a.spec.name.value_or(a.id);
  o["description"] = a.spec.description ? json::value(*a.spec.description) : json::value(nullptr);
  o["system"] =
      a.spec.instructions.empty() ? json::value(nullptr) : json::value(a.spec.instructions);
  o["model"] = ModelJson(a.spec);
  o["tools"] = ToolsJson(a.spec);
  o["mcp_servers"] = McpServersJson(a.spec);
  const auto* skills = a.spec.dialect.if_contains("skills");
  o["skills"] = skills && skills->is_array() ? *skills : json::value(json::array{});
  o["version"] = a.version;
  o["multiagent"] = nullptr;
}

}  // namespace

Result<domain::AgentSpec> ParseAgentCreate(const json::value& body) {
  FieldErrors errors;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + domain::JsonKindName(body));
    return errors.ToError();
  }
  domain::AgentSpec spec;
  spec.channels = json::object{{"telegram", json::object{{"enabled", false}}}};
  ApplyFields(body.get_object(), /*create=*/true, spec, errors);
  if (!errors.empty()) return errors.ToError();
  return spec;
}

Result<void> ApplyAgentUpdate(const json::object& body, domain::AgentSpec& spec) {
  FieldErrors errors;
  ApplyFields(body, /*create=*/false, spec, errors);
  if (!errors.empty()) return errors.ToError();
  return Ok();
}

json::object AgentJson(const domain::Agent& a) {
  json::object o;
  AppendSnapshot(a, o);
  o["metadata"] = a.spec.metadata;
  o["created_at"] = Time(a.created_at);
  o["updated_at"] = Time(a.updated_at);
  o["archived_at"] = Time(a.archived_at);
  o["execution_identity"] = nullptr;
  return o;
}

json::object SessionAgentJson(const domain::Agent& agent) {
  json::object o;
  AppendSnapshot(agent, o);
  return o;
}

}  // namespace pincer::api::anthropic
