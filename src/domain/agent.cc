#include "domain/agent.h"

#include "domain/validation.h"

namespace pincer::domain {
namespace {

const std::vector<std::string> kThinkingLevels = {"off", "low", "medium", "high", "xhigh"};
const std::vector<std::string> kPolicyTypes = {"always_allow", "deny", "always_ask"};
constexpr size_t kMaxName = 256;
constexpr size_t kMaxModel = 256;
constexpr size_t kMaxTools = 256;
constexpr size_t kMaxToolName = 128;
constexpr size_t kMaxMcpServers = 64;

bool LooksLikeUrl(std::string_view s) {
  auto scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  for (char c : s.substr(0, scheme_end)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  std::string_view rest = s.substr(scheme_end + 3);
  return !rest.empty() && rest.front() != '/' && rest.find_first_of(" \t\r\n") == rest.npos;
}

std::optional<PermissionPolicy> ParsePolicy(const json::object& o, FieldErrors& errors) {
  Checker c(o, errors, "permissionPolicy.");
  auto type = c.Enum("type", kPolicyTypes, /*required=*/true);
  auto tools = c.StringArray("tools", kMaxTools, 1, kMaxToolName);
  if (!type) return std::nullopt;
  PermissionPolicy p;
  p.type = *type;
  if (*type == "deny") {
    if (!tools || tools->empty()) {
      if (!c.Has("tools") || tools) c.Fail("tools", "deny needs at least one tool");
      return std::nullopt;
    }
    p.tools = std::move(tools);
  } else if (*type == "always_ask") {
    p.tools = std::move(tools);
  }
  return p;
}

std::optional<Quota> ParseQuota(const json::object& o, FieldErrors& errors) {
  Checker c(o, errors, "quota.");
  c.Strict({"maxCostUsdPerSession", "maxTokensPerSession", "maxWallDurationMs"});
  Quota q;
  q.max_cost_usd_per_session = c.Number("maxCostUsdPerSession", /*positive=*/true);
  q.max_tokens_per_session = c.Int("maxTokensPerSession", 1, INT64_MAX / 2);
  q.max_wall_duration_ms = c.Int("maxWallDurationMs", 1, INT64_MAX / 2);
  return q;
}

void CheckMcpServers(const json::object& servers, FieldErrors& errors) {
  if (servers.size() > kMaxMcpServers) {
    errors.Add("mcpServers", "must have at most " + std::to_string(kMaxMcpServers) + " servers");
    return;
  }
  for (const auto& kv : servers) {
    std::string name(kv.key());
    std::string path = "mcpServers." + name;
    if (name.empty() || name.size() > kMaxToolName) {
      errors.Add(path, "server names must be 1.." + std::to_string(kMaxToolName) + " bytes");
      continue;
    }
    if (!kv.value().is_object()) {
      errors.Add(path, std::string("expected object, got ") + JsonKindName(kv.value()));
      continue;
    }
    const json::object& s = kv.value().get_object();
    Checker c(s, errors, path + ".");
    c.String("command", 1, 4096);
    c.StringArray("args", 1024, 0, 65536);
    c.String("cwd", 1, 4096);
    if (auto url = c.String("url", 1, 4096); url && !LooksLikeUrl(*url)) {
      c.Fail("url", "must be a URL");
    }
    if (const json::object* env = c.Object("env")) {
      for (const auto& e : *env) {
        const auto& v = e.value();
        if (!v.is_string() && !v.is_number() && !v.is_bool()) {
          errors.Add(path + ".env." + std::string(e.key()), "expected string, number or boolean");
        }
      }
    }
    if (const json::object* headers = c.Object("headers")) {
      for (const auto& h : *headers) {
        if (!h.value().is_string()) {
          errors.Add(path + ".headers." + std::string(h.key()), "expected string");
        }
      }
    }
  }
}

void CheckChannels(const json::object& channels, FieldErrors& errors) {
  for (const auto& kv : channels) {
    std::string path = "channels." + std::string(kv.key());
    if (!kv.value().is_object()) {
      errors.Add(path, std::string("expected object, got ") + JsonKindName(kv.value()));
      continue;
    }
    Checker c(kv.value().get_object(), errors, path + ".");
    c.Bool("enabled");
  }
}

json::object DefaultChannels() {
  return json::object{{"telegram", json::object{{"enabled", false}}}};
}

// Applies every field present in `body` onto `spec`. With `patch`, null resets the nullable
// fields and is an error for the others.
void ApplyFields(const json::object& body, bool patch, AgentSpec& spec, FieldErrors& errors) {
  Checker c(body, errors);
  auto null_ok = [&](std::string_view key, bool nullable) {
    if (!c.IsNull(key)) return false;
    if (!patch || !nullable) c.Fail(key, patch ? "must not be null" : "must not be null");
    return true;
  };
  if (!null_ok("model", false)) {
    if (auto v = c.String("model", 1, kMaxModel, /*required=*/!patch)) spec.model = *v;
  }
  if (null_ok("tools", true)) {
    spec.tools.clear();
  } else if (auto v = c.StringArray("tools", kMaxTools, 1, kMaxToolName)) {
    spec.tools = std::move(*v);
  }
  if (null_ok("instructions", true)) {
    spec.instructions.clear();
  } else if (auto v = c.String("instructions", 0, SIZE_MAX)) {
    spec.instructions = std::move(*v);
  }
  if (!null_ok("permissionPolicy", false)) {
    if (const json::object* p = c.Object("permissionPolicy")) {
      if (auto policy = ParsePolicy(*p, errors)) spec.permission_policy = std::move(*policy);
    }
  }
  if (null_ok("name", true)) {
    spec.name.reset();
  } else if (auto v = c.String("name", 0, kMaxName)) {
    spec.name = std::move(*v);
  }
  if (!null_ok("thinkingLevel", false)) {
    if (auto v = c.Enum("thinkingLevel", kThinkingLevels)) spec.thinking_level = *v;
  }
  if (null_ok("callableAgents", true)) {
    spec.callable_agents.clear();
  } else if (auto v = c.StringArray("callableAgents", 64, 1, 64)) {
    spec.callable_agents = std::move(*v);
  }
  if (!null_ok("maxSubagentDepth", false)) {
    if (auto v = c.Int("maxSubagentDepth", 0, 16)) spec.max_subagent_depth = *v;
  }
  if (null_ok("mcpServers", true)) {
    spec.mcp_servers.clear();
  } else if (const json::object* m = c.Object("mcpServers")) {
    CheckMcpServers(*m, errors);
    spec.mcp_servers = *m;
  }
  if (null_ok("quota", true)) {
    spec.quota.reset();
  } else if (const json::object* q = c.Object("quota")) {
    spec.quota = ParseQuota(*q, errors);
  }
  if (!null_ok("channels", false)) {
    if (const json::object* ch = c.Object("channels")) {
      CheckChannels(*ch, errors);
      spec.channels = *ch;
    }
  }
}

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(json::string(s));
  return a;
}

Result<std::vector<std::string>> FromArray(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (!v->is_array()) return Internal("stored agent spec: expected array");
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return Internal("stored agent spec: expected string");
    out.emplace_back(e.get_string());
  }
  return out;
}

void AppendSpec(const AgentSpec& s, json::object& o) {
  o["model"] = s.model;
  o["tools"] = ToArray(s.tools);
  o["instructions"] = s.instructions;
  json::object policy{{"type", s.permission_policy.type}};
  if (s.permission_policy.tools) policy["tools"] = ToArray(*s.permission_policy.tools);
  o["permission_policy"] = std::move(policy);
  if (s.name) o["name"] = *s.name;
  o["callable_agents"] = ToArray(s.callable_agents);
  o["max_subagent_depth"] = s.max_subagent_depth;
  o["mcp_servers"] = s.mcp_servers;
  if (s.quota) {
    json::object q;
    if (s.quota->max_cost_usd_per_session)
      q["maxCostUsdPerSession"] = *s.quota->max_cost_usd_per_session;
    if (s.quota->max_tokens_per_session)
      q["maxTokensPerSession"] = *s.quota->max_tokens_per_session;
    if (s.quota->max_wall_duration_ms) q["maxWallDurationMs"] = *s.quota->max_wall_duration_ms;
    o["quota"] = std::move(q);
  }
  o["thinking_level"] = s.thinking_level;
  o["channels"] = s.channels;
  if (s.description) o["description"] = *s.description;
  if (!s.metadata.empty()) o["metadata"] = s.metadata;
  if (!s.custom_tools.empty()) {
    json::array tools;
    for (const auto& t : s.custom_tools) {
      tools.emplace_back(json::object{
          {"name", t.name}, {"description", t.description}, {"input_schema", t.input_schema}});
    }
    o["custom_tools"] = std::move(tools);
  }
}

}  // namespace

Result<AgentSpec> ParseAgentCreate(const json::value& body) {
  FieldErrors errors;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + JsonKindName(body));
    return errors.ToError();
  }
  AgentSpec spec;
  spec.channels = DefaultChannels();
  ApplyFields(body.get_object(), /*patch=*/false, spec, errors);
  if (!errors.empty()) return errors.ToError();
  return spec;
}

Result<AgentUpdate> ParseAgentUpdate(const json::value& body, const AgentSpec& current) {
  FieldErrors errors;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + JsonKindName(body));
    return errors.ToError();
  }
  Checker c(body.get_object(), errors);
  AgentUpdate update;
  update.spec = current;
  auto version = c.Int("version", 1, INT64_MAX / 2, /*required=*/true);
  ApplyFields(body.get_object(), /*patch=*/true, update.spec, errors);
  if (!errors.empty()) return errors.ToError();
  update.expected_version = *version;
  return update;
}

std::string AgentSpecToStorage(const AgentSpec& spec) {
  json::object o;
  AppendSpec(spec, o);
  if (!spec.dialect.empty()) o["dialect"] = spec.dialect;
  return ToJson(o);
}

Result<AgentSpec> AgentSpecFromStorage(std::string_view text) {
  auto parsed = ParseJson(text, 256);
  if (!parsed) return Internal("stored agent spec is not JSON: " + parsed.error().message);
  if (!parsed->is_object()) return Internal("stored agent spec is not an object");
  const json::object& o = parsed->get_object();
  AgentSpec s;
  if (auto* v = o.if_contains("model"); v && v->is_string()) s.model = v->get_string();
  ASSIGN_OR_RETURN(s.tools, FromArray(o.if_contains("tools")));
  if (auto* v = o.if_contains("instructions"); v && v->is_string())
    s.instructions = v->get_string();
  if (auto* p = o.if_contains("permission_policy"); p && p->is_object()) {
    const auto& po = p->get_object();
    if (auto* t = po.if_contains("type"); t && t->is_string())
      s.permission_policy.type = t->get_string();
    if (po.contains("tools")) {
      ASSIGN_OR_RETURN(s.permission_policy.tools, FromArray(po.if_contains("tools")));
    }
  }
  if (auto* v = o.if_contains("name"); v && v->is_string()) s.name = std::string(v->get_string());
  ASSIGN_OR_RETURN(s.callable_agents, FromArray(o.if_contains("callable_agents")));
  if (auto* v = o.if_contains("max_subagent_depth"); v && v->is_int64())
    s.max_subagent_depth = v->get_int64();
  if (auto* v = o.if_contains("mcp_servers"); v && v->is_object()) s.mcp_servers = v->get_object();
  if (auto* q = o.if_contains("quota"); q && q->is_object()) {
    const auto& qo = q->get_object();
    Quota quota;
    if (auto* v = qo.if_contains("maxCostUsdPerSession"); v && v->is_number()) {
      quota.max_cost_usd_per_session = v->to_number<double>();
    }
    if (auto* v = qo.if_contains("maxTokensPerSession"); v && v->is_int64()) {
      quota.max_tokens_per_session = v->get_int64();
    }
    if (auto* v = qo.if_contains("maxWallDurationMs"); v && v->is_int64()) {
      quota.max_wall_duration_ms = v->get_int64();
    }
    s.quota = quota;
  }
  if (auto* v = o.if_contains("thinking_level"); v && v->is_string())
    s.thinking_level = v->get_string();
  if (auto* v = o.if_contains("channels"); v && v->is_object()) s.channels = v->get_object();
  if (auto* v = o.if_contains("description"); v && v->is_string())
    s.description = std::string(v->get_string());
  if (auto* v = o.if_contains("metadata"); v && v->is_object()) s.metadata = v->get_object();
  if (auto* v = o.if_contains("custom_tools"); v && v->is_array()) {
    for (const auto& t : v->get_array()) {
      if (!t.is_object()) return Internal("stored agent spec: custom tool is not an object");
      const auto& to = t.get_object();
      CustomTool tool;
      if (auto* n = to.if_contains("name"); n && n->is_string()) tool.name = n->get_string();
      if (auto* d = to.if_contains("description"); d && d->is_string())
        tool.description = d->get_string();
      if (auto* i = to.if_contains("input_schema"); i && i->is_object())
        tool.input_schema = i->get_object();
      s.custom_tools.push_back(std::move(tool));
    }
  }
  if (auto* v = o.if_contains("dialect"); v && v->is_object()) s.dialect = v->get_object();
  return s;
}

bool SameSpec(const AgentSpec& a, const AgentSpec& b) {
  return AgentSpecToStorage(a) == AgentSpecToStorage(b);
}

json::object AgentToJson(const Agent& agent) {
  json::object o;
  o.reserve(16);
  o["agent_id"] = agent.id;
  AppendSpec(agent.spec, o);
  o["version"] = agent.version;
  o["created_at"] = agent.created_at;
  o["updated_at"] = agent.updated_at;
  if (agent.archived_at) {
    o["archived_at"] = *agent.archived_at;
  } else {
    o["archived_at"] = nullptr;
  }
  return o;
}

}  // namespace pincer::domain
