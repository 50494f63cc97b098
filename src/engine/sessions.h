#pragma once

// Sessions: the API-facing operations on sessions — create, read, list, delete, post a user
// event (start a turn or queue it), cancel, compact, and read the event log.
//
// Errors (wire codes): session_not_found, agent_not_found, environment_not_found (404);
// agent_archived, session_not_running, session_busy (409); quota_exceeded (429);
// invalid_request (400).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/task.h"
#include "domain/session.h"
#include "engine/audit_log.h"
#include "engine/event_bus.h"
#include "engine/runner.h"
#include "sandbox/pool.h"
#include "store/store.h"

namespace pincer::engine {

// A new session, in engine terms (both dialects parse into this).
struct SessionRequest {
  std::string agent_id;
  std::optional<int64_t> agent_version;  // absent = the latest version
  std::optional<std::string> environment_id;
  std::optional<std::string> vault_id;  // native single vault
  std::optional<std::string> title;
  json::object metadata;
  std::vector<std::string> vault_ids;
};

// The outcome of posting a user event: the event as stored (or, for a queued message, as it
// will be stored: same id, seq 0) and whether it waits behind a running turn.
struct PostedEvent {
  domain::Event event;
  bool queued = false;
  std::string session_status;
};

class Sessions {
 public:
  // `pool` may be null (no sandboxes: tests of the loop alone).
  Sessions(store::Store& store, AuditLog& audit, EventBus& bus, Runner& runner,
           llm::Registry& models, Clock& clock, metrics::Registry& metrics,
           sandbox::SandboxPool* pool = nullptr);

  // Body {agentId, environmentId?, vaultId?}. `id` forces the session id (chat completions'
  // sticky keys); empty = generated.
  Task<Result<domain::Session>> Create(const CallContext& ctx, const json::value& body,
                                       std::string id = {}, bool ephemeral = false);
  // Creates from a parsed request. 404 agent/agent version/environment/vault not found, 409
  // agent_archived / environment_archived.
  Task<Result<domain::Session>> CreateFrom(const CallContext& ctx, SessionRequest request,
                                           std::string id = {}, bool ephemeral = false);
  // Applies `apply` (title, metadata) to the stored session. 409 session_archived.
  Task<Result<domain::Session>> Modify(const CallContext& ctx, std::string id,
                                       std::function<Result<void>(domain::Session&)> apply);
  // Makes the session read-only: new events are refused (409 session_archived). A running turn
  // is interrupted first. Archiving twice is a no-op.
  Task<Result<domain::Session>> Archive(const CallContext& ctx, std::string id);
  Result<domain::Session> Get(std::string_view id);
  Result<store::Page<domain::Session>> List(const store::PageRequest& page);
  Task<Result<void>> Delete(const CallContext& ctx, std::string id);

  // Posts a user event. user.message: {content, model?, thinkingLevel?} → starts a turn
  // ({session_id, session_status:"starting", queued:false}) or queues it behind the running
  // one ({…, queued:true}). With `idempotency_key`, a repeat returns the first reply.
  // With `reject_if_busy`, a running session answers 409 session_busy instead of queueing.
  Task<Result<json::object>> PostEvent(const CallContext& ctx, std::string id,
                                       const json::value& body,
                                       std::optional<std::string> idempotency_key,
                                       bool reject_if_busy = false);
  // Posts a validated user.message payload {content, content_blocks?, model?,
  // thinking_level?, _event_id?} (see PostEvent for the semantics).
  Task<Result<PostedEvent>> PostMessage(const CallContext& ctx, std::string id,
                                        json::object payload,
                                        std::optional<std::string> idempotency_key,
                                        bool reject_if_busy);
  // Answers a tool confirmation request. `tool_use_id` is the approval id or the id of the
  // agent.tool_use event that asked. 404 approval_not_found, 409 approval_already_answered /
  // session_not_running.
  Task<Result<domain::Event>> Confirm(std::string id, std::string tool_use_id, bool allow,
                                      std::string deny_message);
  // Answers an agent.custom_tool_use event with the client's result. 404
  // custom_tool_use_not_found, 409 custom_tool_use_already_answered / session_not_running.
  Task<Result<domain::Event>> CustomToolResult(std::string id, std::string custom_tool_use_id,
                                               std::string content, bool is_error,
                                               json::array blocks);
  // user.interrupt: records the interrupt and stops the running turn (dropping queued
  // messages); on an idle session it is only recorded.
  Task<Result<domain::Event>> Interrupt(const CallContext& ctx, std::string id);
  // True when the session's turn is parked waiting for the client (a confirmation or a custom
  // tool result): the Anthropic dialect shows such sessions as idle.
  bool AwaitingClient(const domain::Session& s);

  // Writes earlier conversation into a new, idle session without running a turn: `system`
  // extends the agent's instructions; `history` is (role, text) with role user|assistant.
  Task<Result<void>> SeedHistory(std::string id, std::string system,
                                 std::vector<std::pair<std::string, std::string>> history);
  // Stops the running turn at once and drops queued messages.
  Task<Result<json::object>> Cancel(const CallContext& ctx, std::string id);
  // Summarises the conversation so far with the agent's model; later turns see the summary
  // instead of the older events.
  Task<Result<json::object>> Compact(const CallContext& ctx, std::string id);

  // Events after `after_seq` (limit 0 = all).
  Result<std::vector<domain::Event>> Events(std::string_view id, int64_t after_seq, int64_t limit);

  // The sandbox log of the session's live sandbox (last `tail` lines). 500
  // no_active_container when none is attached.
  Task<Result<std::string>> Logs(std::string id, int tail);
  // Boots a warm sandbox for new sessions of `agent_id` (202 semantics: best effort).
  Task<Result<void>> Warm(std::string agent_id);

 private:
  void Decorate(domain::Session& s) const;
  // Native bodies: user.tool_confirmation {toolUseId, result, denyMessage?} and
  // user.custom_tool_result {customToolUseId, content, isError?}.
  Task<Result<json::object>> ConfirmNative(std::string id, const json::object& body);
  Task<Result<json::object>> CustomToolResultNative(std::string id, const json::object& body);

  store::Store& store_;
  AuditLog& audit_;
  EventBus& bus_;
  Runner& runner_;
  llm::Registry& models_;
  Clock& clock_;
  metrics::Family<metrics::Counter>& quota_rejections_;
  metrics::Family<metrics::Counter>& events_posted_;
  sandbox::SandboxPool* pool_;
};

}  // namespace pincer::engine
