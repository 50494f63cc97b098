#pragma once

// Runner: executes sessions' turns — one driver coroutine per active session.
//
//   queue → provider call (streaming) → persist the response → run tools → persist results →
//   … until the model ends the turn, the step cap, cancel, or a failure; then the next queued
//   message, or idle.
//
// Every step is persisted before the next begins and every write re-checks that the run it
// belongs to is still current (sessions.run_id + status), so a cancel or delete is never
// overwritten by a late step. After a restart, Recover() resumes active sessions from their
// log; a tool call cut by the crash gets an error result, never a silent re-run.
// Thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "common/clock.h"
#include "common/executor.h"
#include "common/metrics.h"
#include "engine/approvals.h"
#include "engine/conversation.h"
#include "engine/event_bus.h"
#include "engine/llm/pricing.h"
#include "engine/llm/registry.h"
#include "engine/llm/retry.h"
#include "engine/tools/tool.h"
#include "store/store.h"

namespace pincer::engine {

struct RunnerOptions {
  int64_t max_steps = 50;  // model responses per turn
  int64_t max_output_tokens = 8192;
  llm::RetryPolicy retry;
  std::chrono::milliseconds approval_timeout{0};  // 0 = wait for an answer indefinitely
};

class Runner {
 public:
  Runner(store::Store& store, EventBus& bus, llm::Registry& models, tools::ToolRegistry& tools,
         const llm::PriceTable& prices, Clock& clock, std::vector<Executor*> executors,
         metrics::Registry& metrics, RunnerOptions options);
  ~Runner();

  // Makes sure a driver is working on `session_id` (call after a run was started in the store).
  void Kick(const std::string& session_id);
  // Aborts the current run's in-flight provider call or tool at once. The caller has already
  // recorded the new state (idle after cancel, or the row deleted).
  void Abort(const std::string& session_id, const std::string& reason);
  // Resumes sessions that were starting/running when the server stopped, and drains queues of
  // idle sessions. Call once at start-up.
  Result<void> Recover();
  // Stops all drivers without changing session state (they resume on the next start).
  // Waits up to `grace` for drivers to exit.
  void Stop(std::chrono::milliseconds grace);

  size_t active() const;
  // Blocks until no session is being driven, at most `timeout`; true when none is.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Wakes the turn waiting on `approval_id` (after a user.tool_confirmation was persisted).
  void NotifyApproval(const std::string& approval_id) { approvals_.Notify(approval_id); }

 private:
  // What a run needs to execute tool calls (runner_tools.cc).
  struct RunContext {
    const std::string& sid;
    int64_t run_id;
    CancelToken& cancel;
    const domain::AgentSpec& spec;
    std::vector<tools::Tool*> allowed;
    tools::ToolContext tool_ctx;
    // tool_call_id -> id of the agent.tool_use / agent.custom_tool_use event that carried it.
    std::map<std::string, std::string> use_events;
  };
  // Gives each tool-use event of a model response its id (recorded in rc.use_events), its
  // evaluated_permission, and the agent.custom_tool_use type for the agent's custom tools.
  void AnnotateToolUses(RunContext& rc, std::vector<domain::Event>& events) const;
  // Runs one tool call under the permission policy (asking when needed) and returns the
  // result to persist; nullopt when the run was cancelled or superseded meanwhile.
  Task<std::optional<tools::ToolResult>> Dispatch(RunContext& rc, const llm::ToolCall& call,
                                                  const PendingApproval* existing);
  // Waits for the answer to an approval request: {allow, deny message}; nullopt on cancel.
  Task<std::optional<std::pair<bool, std::string>>> AwaitApproval(RunContext& rc,
                                                                  std::string approval_id,
                                                                  int64_t request_seq);
  // Runs a custom tool call: asks the client (session.requires_action, unless `asked`) and
  // waits for its user.custom_tool_result; nullopt on cancel.
  Task<std::optional<tools::ToolResult>> AwaitCustomTool(RunContext& rc, const llm::ToolCall& call,
                                                         bool asked, int64_t after_seq);
  // Waits for the first event of `type` after `after_seq` whose `field` equals `key`. After
  // PINCER_APPROVAL_TIMEOUT_MS it persists `on_timeout` (stamped with the time) instead and
  // returns that. Returns the answering event's payload; nullopt on cancel or supersede.
  Task<std::optional<json::object>> AwaitAnswer(RunContext& rc, std::string key, int64_t after_seq,
                                                std::string type, std::string field,
                                                domain::Event on_timeout);
  // Persists a tool result and returns it as a conversation message; nullopt if superseded.
  Task<std::optional<llm::Message>> SaveToolResult(RunContext& rc, const llm::ToolCall& call,
                                                   tools::ToolResult result);

  struct Driver;
  Task<void> Drive(std::string session_id);
  Task<void> ExecuteRun(const std::string& session_id, int64_t run_id, CancelToken& cancel);
  bool FinishDriver(const std::string& session_id);

  store::Store& store_;
  EventBus& bus_;
  llm::Registry& models_;
  tools::ToolRegistry& tools_;
  const llm::PriceTable& prices_;
  Clock& clock_;
  std::vector<Executor*> executors_;
  RunnerOptions options_;
  metrics::Family<metrics::Counter>& run_failures_;
  metrics::Family<metrics::Counter>& llm_calls_;
  metrics::Family<metrics::Histogram>& llm_seconds_;
  metrics::Family<metrics::Histogram>& turn_seconds_;
  metrics::Family<metrics::Counter>& tool_calls_;

  ApprovalSignals approvals_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Driver>> drivers_;
  bool stopping_ = false;
  std::condition_variable drained_;
};

}  // namespace pincer::engine
