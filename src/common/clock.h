#pragma once

// Clock: the time source. Production code takes a Clock& so tests can inject FakeClock.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pincer {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (for timestamps on the wire).
  virtual int64_t NowMs() const = 0;
  // Monotonic nanoseconds (for durations and rate limiting).
  virtual int64_t MonotonicNs() const = 0;
};

// RFC 3339 UTC with milliseconds: "2026-04-07T04:27:40.001Z".
std::string FormatRfc3339(int64_t unix_ms);
// Parses RFC 3339 ("…Z" or "…+hh:mm", optional fraction) into Unix milliseconds.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// The real clock (CLOCK_REALTIME / CLOCK_MONOTONIC).
Clock& SystemClock();

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 1'700'000'000'000) : now_ms_(now_ms), mono_ns_(0) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  int64_t MonotonicNs() const override { return mono_ns_.load(); }
  void AdvanceMs(int64_t ms) {
    now_ms_ += ms;
    mono_ns_ += ms * 1'000'000;
  }

 private:
  std::atomic<int64_t> now_ms_;
  std::atomic<int64_t> mono_ns_;
};

}  // namespace pincer
