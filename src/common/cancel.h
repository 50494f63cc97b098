#pragma once

// CancelToken: a thread-safe, one-shot cancellation signal shared by the canceller and the
// cancellable work. Work registers callbacks (e.g. "close this socket"); Cancel() runs them
// once, on the cancelling thread. A callback registered after cancellation runs at once.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/thread_annotations.h"
#include "common/unique_function.h"

namespace pincer {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Cancels with a reason (kept for error messages). Idempotent: later calls do nothing.
  void Cancel(std::string reason = "cancelled");
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  std::string reason() const;

  // Registration handle: deregisters on destruction (the callback will not run after that).
  class Registration {
   public:
    Registration() = default;
    Registration(CancelToken* token, uint64_t id) : token_(token), id_(id) {}
    Registration(Registration&& o) noexcept
        : token_(std::exchange(o.token_, nullptr)), id_(o.id_) {}
    Registration& operator=(Registration&& o) noexcept;
    ~Registration() { Reset(); }
    void Reset();

   private:
    CancelToken* token_ = nullptr;
    uint64_t id_ = 0;
  };
  [[nodiscard]] Registration OnCancel(UniqueFunction<void()> fn);

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::string reason_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, UniqueFunction<void()>> callbacks_ GUARDED_BY(mu_);
};

}  // namespace pincer
