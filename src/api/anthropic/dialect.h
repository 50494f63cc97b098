#pragma once

// The Anthropic Managed Agents wire dialect (served under /anthropic/v1): translation between
// its JSON shapes and the domain, plus its transport conventions. Handlers in this folder stay
// thin: parse with these functions → one engine call → render with these functions.
//
// The contract is ../shared/reference/anthropic-managed-agents-contract.md (taken from the
// official SDK's types); docs/design/anthropic-dialect.md records the mapping decisions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "domain/agent.h"
#include "domain/environment.h"
#include "domain/session.h"
#include "domain/vault.h"
#include "engine/sessions.h"
#include "http/message.h"

namespace pincer::api::anthropic {

inline constexpr char kPrefix[] = "/anthropic";

// ---- Transport (transport.cc)

// True for paths served by this dialect.
bool IsDialectPath(std::string_view path);
// Rewrites a native error body ({"error":code,"message":…}) into the Anthropic envelope
// {"type":"error","error":{"type","message","details":{"error_code"}},"request_id"} and adds
// the `request-id` and `x-should-retry` headers. Success responses only get `request-id`.
void FinishResponse(http::Response& resp, const std::string& request_id);
// "2026-04-07T04:27:40.001Z", or null for an absent time.
json::value Time(std::optional<int64_t> ms);

// ---- Lists (transport.cc): `?limit=&page=` cursors over items ordered by (created_at, id).

struct ListParams {
  int64_t limit = 20;
  std::string page;  // opaque cursor from a previous next_page ("" = first page)
  bool include_archived = false;
  bool descending = true;
  std::optional<int64_t> created_gt, created_gte, created_lt, created_lte;
};
// Errors: invalid_request for a bad limit (1..max), order, cursor or timestamp.
Result<ListParams> ParseListParams(const http::Request& req, int64_t default_limit,
                                   int64_t max_limit, bool default_descending);

struct Keyed {
  int64_t created_at = 0;
  std::string id;
  bool archived = false;
};
// Filters (archived, created_at bounds), orders and pages `items`; `key(item)` gives a Keyed,
// `render(item)` the JSON. Returns {data, next_page[, prev_page]}.
template <typename T, typename KeyFn, typename RenderFn>
json::object PageOf(const std::vector<T>& items, const ListParams& p, KeyFn key, RenderFn render,
                    bool with_prev = false);

// ---- Agents (agent_dialect.cc)

Result<domain::AgentSpec> ParseAgentCreate(const json::value& body);
// Applies an update body onto `spec` (omitted fields kept, metadata patched, lists replaced).
// `version` is read by the caller.
Result<void> ApplyAgentUpdate(const json::object& body, domain::AgentSpec& spec);
json::object AgentJson(const domain::Agent& agent);
// The snapshot embedded in a session (no timestamps/metadata).
json::object SessionAgentJson(const domain::Agent& agent);

// ---- Environments, sessions, vaults (resource_dialect.cc)

Result<domain::Environment> ParseEnvironmentCreate(const json::value& body);
Result<void> ApplyEnvironmentUpdate(const json::object& body, domain::Environment& env);
json::object EnvironmentJson(const domain::Environment& env);

Result<engine::SessionRequest> ParseSessionCreate(const json::value& body);
Result<void> ApplySessionUpdate(const json::object& body, domain::Session& session);
// `status` is the dialect status (idle|running|rescheduling|terminated); `agent` may be null
// when the pinned version is gone.
json::object SessionJson(const domain::Session& s, const domain::Agent* agent,
                         const std::string& status, int64_t now_ms);
// The dialect status of a native session (`awaiting_client`: parked on a confirmation or a
// custom tool result, which the dialect shows as idle).
std::string SessionStatus(const domain::Session& s, bool awaiting_client);

Result<domain::Vault> ParseVaultCreate(const json::value& body);
Result<void> ApplyVaultUpdate(const json::object& body, domain::Vault& vault);
json::object VaultJson(const domain::Vault& v);
// {display_name?, metadata?} of a credential create/update; `auth` is handled by the engine.
Result<void> ApplyCredentialFields(const json::object& body, domain::Credential& c, bool create);
json::object CredentialJson(const domain::Credential& c);

// ---- Events (event_dialect.cc)

// The dialect events one native event stands for (zero, one or two: e.g. a failed turn is a
// session.error plus a session.status_idle).
std::vector<json::object> DialectEvents(const domain::Event& e);
// A native event rebuilt from its native JSON form (as carried by live frames).
domain::Event EventFromNativeJson(const json::object& o);

// One event of a send request, validated.
struct SendEvent {
  std::string
      type;  // user.message | user.interrupt | user.tool_confirmation | user.custom_tool_result
  std::string text;  // message / custom tool result text (text blocks joined)
  json::array blocks;
  std::string
      tool_use_id;  // confirmation: the agent.tool_use event; custom: the custom_tool_use event
  bool allow = false;
  std::string deny_message;
  bool is_error = false;
};
// Validates {events:[…]} (1..50 events). Errors name the bad field ("events.0.content").
Result<std::vector<SendEvent>> ParseSendEvents(const json::value& body);

}  // namespace pincer::api::anthropic

#include "api/anthropic/dialect_inl.h"
