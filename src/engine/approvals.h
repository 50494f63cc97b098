#pragma once

// Permission policies and tool approvals.
//
// An agent's permission_policy decides, per tool call: run it (always_allow), refuse it with
// an error result (deny: listed tools), or ask (always_ask: listed tools, or all when none are
// listed). Asking persists an agent.tool_confirmation_request event and parks the turn until a
// user.tool_confirmation event answers it (or PINCER_APPROVAL_TIMEOUT_MS passes: then it is
// denied). Both events live in the log, so a pending approval survives a restart.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/async.h"
#include "domain/agent.h"

namespace pincer::engine {

enum class PolicyDecision { kAllow, kDeny, kAsk };
PolicyDecision DecidePolicy(const domain::PermissionPolicy& policy, const std::string& tool);

// Wake-ups for turns waiting on an approval, keyed by approval id. Thread-safe.
class ApprovalSignals {
 public:
  std::shared_ptr<AsyncSignal> Get(const std::string& approval_id);
  void Notify(const std::string& approval_id);
  void Forget(const std::string& approval_id);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<AsyncSignal>> signals_;
};

}  // namespace pincer::engine
