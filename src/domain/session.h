#pragma once

// Session: one conversation with an agent (pinned to the agent version it was created with),
// and Event: one entry of its append-only log.
//
// Native statuses: idle | starting | running | failed. `failed` is not terminal: a new message
// starts a new turn and clears `error`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"

namespace pincer::domain {

inline constexpr char kSessionIdPrefix[] = "ses";
inline constexpr char kEventIdPrefix[] = "evt";

struct Usage {
  int64_t input = 0;        // prompt tokens not served from cache
  int64_t output = 0;       // completion tokens (reasoning included)
  int64_t cache_read = 0;   // prompt tokens read from the provider's cache
  int64_t cache_write = 0;  // prompt tokens written to the provider's cache
  double cost_usd = 0;

  int64_t prompt_total() const { return input + cache_read + cache_write; }
  int64_t total() const { return prompt_total() + output; }
  void Add(const Usage& u) {
    input += u.input;
    output += u.output;
    cache_read += u.cache_read;
    cache_write += u.cache_write;
    cost_usd += u.cost_usd;
  }
};

struct Session {
  std::string id;
  std::string agent_id;
  int64_t agent_version = 1;
  std::optional<std::string> environment_id;
  std::string status = "idle";
  int64_t run_id = 0;
  std::optional<std::string> error;
  std::optional<std::string> output;
  int64_t turns = 0;
  Usage usage;
  int64_t created_at = 0;
  std::optional<int64_t> last_event_at;
  bool ephemeral = false;
  std::optional<std::string> parent_session_id;
  std::optional<std::string> vault_id;
  int64_t next_seq = 1;
  std::optional<std::string> title;
  json::object metadata;
  std::vector<std::string> vault_ids;
  std::optional<int64_t> updated_at;
  std::optional<int64_t> archived_at;

  // The live sandbox, when one is attached (not persisted; filled in by the engine).
  std::optional<int64_t> boot_ms;
  std::optional<std::string> pool_source;     // cold | warm | adopt
  std::optional<std::string> container_id;    // sandbox id
  std::optional<std::string> container_name;  // backend name (container, bwrap pid)

  bool in_flight() const { return status == "starting" || status == "running"; }
};

// The seed's session object: {session_id, agent_id, environment_id, status, output,
// tokens{input, output}, cost_usd, error, created_at, last_event_at, turns, boot_ms,
// pool_source, container_id, container_name, parent_session_id} (+ agent_version and
// tokens.cache_read/cache_write). Every key is present; absent values are null.
json::object SessionToJson(const Session& s);

struct Event {
  std::string id;  // "evt_…"
  std::string session_id;
  int64_t seq = 0;
  std::string type;  // user.message, agent.message, agent.tool_use, …
  int64_t created_at = 0;
  // Type-specific fields, flattened into the event JSON (content, tokens, cost_usd, model,
  // tool_name, tool_call_id, tool_arguments, is_error, approval_id, status, …). Keys starting
  // with '_' are internal (e.g. a thinking signature) and never leave the server.
  json::object payload;
};

// {event_id, session_id, seq, type, content, created_at, …payload}
json::object EventToJson(const Event& e);

// Event types.
namespace event_type {
inline constexpr char kUserMessage[] = "user.message";
inline constexpr char kAgentMessage[] = "agent.message";
inline constexpr char kAgentThinking[] = "agent.thinking";
inline constexpr char kAgentToolUse[] = "agent.tool_use";
inline constexpr char kAgentToolResult[] = "agent.tool_result";
inline constexpr char kStatusRunning[] = "session.status_running";
inline constexpr char kStatusIdle[] = "session.status_idle";
inline constexpr char kStatusFailed[] = "session.status_failed";
}  // namespace event_type

}  // namespace pincer::domain
