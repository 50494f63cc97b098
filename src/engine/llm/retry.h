#pragma once

// Calls a Provider with retries: rate limits (429), 5xx, dropped connections and stalled
// streams are retried with exponential backoff and jitter (a Retry-After hint wins, capped at
// 30 s). Cancellation interrupts the wait at once.

#include <chrono>

#include "engine/llm/types.h"

namespace pincer::llm {

struct RetryPolicy {
  int max_retries = 3;
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30'000};
};

// `attempts`, when non-null, receives the number of calls made. `request` and `stream` are held
// by reference until the task completes: they must outlive it.
Task<Result<Response>> CompleteWithRetry(Provider& provider, const Request& request,
                                         const StreamHandler& stream, CancelToken* cancel,
                                         RetryPolicy policy, int* attempts = nullptr);

}  // namespace pincer::llm
