#include "engine/llm/retry.h"

#include <algorithm>

#include "common/async.h"
#include "common/crypto.h"
#include "common/log.h"

namespace pincer::llm {
namespace {

int64_t RetryAfterMs(const Error& e) {
  if (e.details_json.empty()) return -1;
  auto v = ParseJson(e.details_json);
  if (!v || !v->is_object()) return -1;
  const auto* ms = v->get_object().if_contains("retry_after_ms");
  return ms && ms->is_int64() ? ms->get_int64() : -1;
}

// Waits `delay` unless `cancel` fires first.
Task<bool> WaitOrCancel(std::chrono::milliseconds delay, CancelToken* cancel) {
  if (cancel == nullptr) {
    co_await SleepFor(delay);
    co_return true;
  }
  AsyncSignal wake;
  auto reg = cancel->OnCancel([&wake] { wake.Notify(); });
  co_await wake.Wait(delay);
  co_return !cancel->cancelled();
}

}  // namespace

Task<Result<Response>> CompleteWithRetry(Provider& provider, const Request& request,
                                         const StreamHandler& stream, CancelToken* cancel,
                                         RetryPolicy policy, int* attempts) {
  int made = 0;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0 && stream.on_retry) stream.on_retry(attempt);
    ++made;
    if (attempts) *attempts = made;
    auto r = co_await provider.Complete(request, stream, cancel);
    if (r || !IsRetryable(r.error()) || attempt >= policy.max_retries ||
        (cancel && cancel->cancelled())) {
      if (!r && attempt > 0 && IsRetryable(r.error())) {
        Error e = std::move(r).error();
        e.message = "gave up after " + std::to_string(made) + " attempts: " + e.message;
        co_return e;
      }
      co_return r;
    }
    int64_t base = policy.base_delay.count() << std::min(attempt, 10);
    uint32_t jitter_bits = 0;
    RandomBytes(&jitter_bits, sizeof(jitter_bits));
    int64_t delay =
        base / 2 + static_cast<int64_t>(jitter_bits % static_cast<uint32_t>(base / 2 + 1));
    if (int64_t hint = RetryAfterMs(r.error()); hint >= 0) delay = hint;
    delay = std::min<int64_t>(delay, policy.max_delay.count());
    log::Warn("llm", "retrying provider call")
        .Field("attempt", made)
        .Field("delay_ms", delay)
        .Field("error", r.error().ToString());
    if (!co_await WaitOrCancel(std::chrono::milliseconds(delay), cancel)) {
      co_return Error(ErrorCode::kCancelled, "cancelled", cancel->reason());
    }
  }
}

}  // namespace pincer::llm
