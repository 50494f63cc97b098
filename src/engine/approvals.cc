#include "engine/approvals.h"

#include <algorithm>

namespace pincer::engine {

PolicyDecision DecidePolicy(const domain::PermissionPolicy& policy, const std::string& tool) {
  auto listed = [&] {
    return policy.tools &&
           std::find(policy.tools->begin(), policy.tools->end(), tool) != policy.tools->end();
  };
  if (policy.type == "deny") return listed() ? PolicyDecision::kDeny : PolicyDecision::kAllow;
  if (policy.type == "always_ask")
    return !policy.tools || listed() ? PolicyDecision::kAsk : PolicyDecision::kAllow;
  return PolicyDecision::kAllow;
}

std::shared_ptr<AsyncSignal> ApprovalSignals::Get(const std::string& approval_id) {
  std::lock_guard lock(mu_);
  auto& s = signals_[approval_id];
  if (!s) s = std::make_shared<AsyncSignal>();
  return s;
}

void ApprovalSignals::Notify(const std::string& approval_id) {
  std::shared_ptr<AsyncSignal> s;
  {
    std::lock_guard lock(mu_);
    auto it = signals_.find(approval_id);
    if (it == signals_.end()) return;
    s = it->second;
  }
  s->Notify();
}

void ApprovalSignals::Forget(const std::string& approval_id) {
  std::lock_guard lock(mu_);
  signals_.erase(approval_id);
}

}  // namespace pincer::engine
