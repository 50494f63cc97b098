#include "sse_stream.h"

#include <chrono>

#include "common/async.h"
#include "wire_util.h"

namespace pincer::mock {
namespace {

// Ends the response without its terminating chunk, when the HTTP layer offers a way to
// (a StreamWriter::Abort()). Without one the server ends the chunked body normally and closes
// the connection, so the client sees the event stream stop before its final event.
template <typename W>
void AbortIfSupported(W& writer) {
  if constexpr (requires { writer.Abort(); }) writer.Abort();
}

}  // namespace

Task<void> WriteEvents(std::shared_ptr<StreamPlan> plan, http::StreamWriter& writer) {
  const size_t total = plan->events.size();
  const bool fail = plan->fail_after && static_cast<size_t>(*plan->fail_after) < total;
  const size_t limit = fail ? static_cast<size_t>(*plan->fail_after) : total;
  const bool error_event = fail && plan->fail_mode == FailMode::kErrorEvent;

  if (plan->chunk_delay_ms <= 0) {
    size_t bytes = error_event ? plan->error_event.size() : 0;
    for (size_t i = 0; i < limit; ++i) bytes += plan->events[i].size();
    std::string all;
    all.reserve(bytes);
    for (size_t i = 0; i < limit; ++i) all += plan->events[i];
    if (error_event) all += plan->error_event;
    if (!all.empty() && !co_await writer.Write(std::move(all))) co_return;
  } else {
    const auto delay = std::chrono::milliseconds(plan->chunk_delay_ms);
    for (size_t i = 0; i < limit; ++i) {
      if (i > 0) co_await SleepFor(delay);
      if (!co_await writer.Write(std::move(plan->events[i]))) co_return;
    }
    if (error_event) {
      co_await SleepFor(delay);
      if (!co_await writer.Write(std::move(plan->error_event))) co_return;
    }
  }
  if (plan->done_at_us) plan->done_at_us->store(NowUs());
  if (fail && plan->fail_mode == FailMode::kClose) AbortIfSupported(writer);
}

Task<void> HoldStream(const std::atomic<bool>* stopping, std::optional<InFlight> in_flight,
                      http::StreamWriter& writer) {
  constexpr auto kPoll = std::chrono::milliseconds(50);
  constexpr int kMaxPolls = 3'600'000 / 50;
  for (int i = 0; i < kMaxPolls && !writer.Closed() && !stopping->load(); ++i) {
    co_await SleepFor(kPoll);
  }
  (void)in_flight;  // released when the hold ends
}

}  // namespace pincer::mock
