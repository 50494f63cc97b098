#include "engine/quota.h"

#include <cstdio>

namespace pincer::engine {

Result<void> CheckQuota(const domain::Session& s, const domain::AgentSpec& agent, int64_t now,
                        std::string* kind) {
  if (!agent.quota) return Ok();
  const auto& q = *agent.quota;
  auto fail = [&](const char* k, std::string msg) -> Result<void> {
    if (kind) *kind = k;
    return Error(ErrorCode::kResourceExhausted, "quota_exceeded", std::move(msg));
  };
  if (q.max_cost_usd_per_session && s.usage.cost_usd >= *q.max_cost_usd_per_session) {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "session %s has spent $%.4f which meets or exceeds its quota of $%.4f",
                  s.id.c_str(), s.usage.cost_usd, *q.max_cost_usd_per_session);
    return fail("cost", buf);
  }
  if (q.max_tokens_per_session && s.usage.total() >= *q.max_tokens_per_session) {
    return fail("tokens", "session " + s.id + " has used " + std::to_string(s.usage.total()) +
                              " tokens which meets or exceeds its quota of " +
                              std::to_string(*q.max_tokens_per_session));
  }
  if (q.max_wall_duration_ms && now - s.created_at >= *q.max_wall_duration_ms) {
    return fail("duration", "session " + s.id + " has run for " +
                                std::to_string(now - s.created_at) +
                                " ms which meets or exceeds its quota of " +
                                std::to_string(*q.max_wall_duration_ms) + " ms");
  }
  return Ok();
}

}  // namespace pincer::engine
