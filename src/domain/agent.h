#pragma once

// Agent: a versioned template (model, instructions, tools, policies…). Every change produces a
// new immutable version; sessions pin the version they were created with.
//
// This header holds the value types, the request validation rules (wire-compatible with the
// seed's create/update schemas) and the JSON forms (storage and API response).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace pincer::domain {

inline constexpr char kAgentIdPrefix[] = "agt";

struct PermissionPolicy {
  std::string type = "always_allow";              // always_allow | deny | always_ask
  std::optional<std::vector<std::string>> tools;  // deny: required; always_ask: absent = all
};

struct Quota {
  std::optional<double> max_cost_usd_per_session;
  std::optional<int64_t> max_tokens_per_session;
  std::optional<int64_t> max_wall_duration_ms;
};

// A client-executed tool (Anthropic dialect "custom" tools): the model may call it; the turn
// then waits for the client's user.custom_tool_result.
struct CustomTool {
  std::string name;
  std::string description;
  json::object input_schema;
};

// `tools` holding only this name means "no built-in tools" (an empty list means all of them).
inline constexpr char kNoBuiltinTools[] = "none";

// The versioned part of an agent.
struct AgentSpec {
  std::string model;
  std::vector<std::string> tools;
  std::string instructions;
  PermissionPolicy permission_policy;
  std::optional<std::string> name;
  std::string thinking_level = "off";  // off | low | medium | high | xhigh
  std::vector<std::string> callable_agents;
  int64_t max_subagent_depth = 0;
  json::object mcp_servers;  // name -> server config, echoed as given
  std::optional<Quota> quota;
  json::object channels;  // echoed as given; default {"telegram":{"enabled":false}}
  // Set through the Anthropic dialect (absent from native responses when empty).
  std::optional<std::string> description;
  json::object metadata;  // string -> string
  std::vector<CustomTool> custom_tools;
  // Dialect-only settings kept so responses echo them (model speed, skills, toolset defaults,
  // MCP toolsets); they do not change behaviour.
  json::object dialect;
};

struct Agent {
  std::string id;
  AgentSpec spec;
  int64_t version = 1;
  int64_t created_at = 0;  // ms
  int64_t updated_at = 0;  // ms
  std::optional<int64_t> archived_at;
};

// Validates a create body (camelCase fields). Errors: kInvalidArgument naming each bad field.
Result<AgentSpec> ParseAgentCreate(const json::value& body);

// An update request: the expected current version plus the patched spec.
struct AgentUpdate {
  int64_t expected_version = 0;
  AgentSpec spec;
};
// Validates an update body against `current` and applies it. `version` is required; fields set
// to null reset tools/instructions/name/callableAgents/mcpServers/quota.
Result<AgentUpdate> ParseAgentUpdate(const json::value& body, const AgentSpec& current);

// Storage form of a spec (snake_case JSON, the same keys as the response) and back.
std::string AgentSpecToStorage(const AgentSpec& spec);
Result<AgentSpec> AgentSpecFromStorage(std::string_view text);

// True when both specs serialize identically (used for no-op update detection).
bool SameSpec(const AgentSpec& a, const AgentSpec& b);

// The API response object:
// {agent_id, model, tools, instructions, permission_policy, name?, callable_agents,
//  max_subagent_depth, mcp_servers, quota?, thinking_level, channels, version, created_at,
//  updated_at, archived_at}
json::object AgentToJson(const Agent& agent);

}  // namespace pincer::domain
