#pragma once

// Agent quotas, checked before each turn starts (a soft ceiling: one turn may overshoot, the
// next is refused). Violations are kResourceExhausted "quota_exceeded" with the seed's wording.

#include <optional>
#include <string>

#include "common/result.h"
#include "domain/agent.h"
#include "domain/session.h"

namespace pincer::engine {

// On violation also reports the kind ("cost" | "tokens" | "duration") for metrics.
Result<void> CheckQuota(const domain::Session& session, const domain::AgentSpec& agent,
                        int64_t now_ms, std::string* kind = nullptr);

}  // namespace pincer::engine
