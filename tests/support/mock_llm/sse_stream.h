#pragma once

// Writing a prepared list of SSE events to an http::StreamWriter with pacing and injected
// failures.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat.h"
#include "common/task.h"
#include "http/message.h"

namespace pincer::mock {

// Counts a request as in flight for its lifetime (movable, so a stream can take it over).
class InFlight {
 public:
  explicit InFlight(std::atomic<int64_t>& counter) : counter_(&counter) { ++*counter_; }
  InFlight(InFlight&& o) noexcept : counter_(std::exchange(o.counter_, nullptr)) {}
  InFlight& operator=(InFlight&&) = delete;
  ~InFlight() {
    if (counter_ != nullptr) --*counter_;
  }

 private:
  std::atomic<int64_t>* counter_;
};

struct StreamPlan {
  std::vector<std::string> events;
  int64_t chunk_delay_ms = 0;
  std::optional<int64_t> fail_after;  // events sent before the failure
  FailMode fail_mode = FailMode::kClose;
  std::string error_event;  // frame for FailMode::kErrorEvent
  std::optional<InFlight> in_flight;
  std::shared_ptr<std::atomic<int64_t>> done_at_us;  // set to NowUs() once everything is written
};

// Sends plan->events (one write per event when paced, else a single write), then applies the
// injected failure, if any. Returns early when the client goes away.
Task<void> WriteEvents(std::shared_ptr<StreamPlan> plan, http::StreamWriter& writer);

// Sends nothing and returns once the client has gone away, the server drains, `stopping` is
// set, or an hour has passed.
Task<void> HoldStream(const std::atomic<bool>* stopping, std::optional<InFlight> in_flight,
                      http::StreamWriter& writer);

}  // namespace pincer::mock
