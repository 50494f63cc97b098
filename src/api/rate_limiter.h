#pragma once

// RateLimiter: a token bucket per caller key. Capacity = requests per minute; refill =
// rpm/60 tokens per second; each request takes one token. Buckets idle for 10 minutes are
// dropped by Sweep(). Thread-safe (sharded locks).

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/thread_annotations.h"

namespace pincer::api {

class RateLimiter {
 public:
  RateLimiter(int rpm, Clock& clock) : rpm_(rpm), clock_(clock) {}

  struct Decision {
    bool allowed = true;
    int64_t remaining = 0;      // whole tokens left after this request
    int64_t retry_after_s = 0;  // when rejected: seconds until one token is available
  };
  // Takes one token from `key`'s bucket. Always allowed when rpm == 0.
  Decision Take(const std::string& key);

  // Drops buckets untouched for `idle_ns`; returns how many.
  size_t Sweep(int64_t idle_ns = 600LL * 1'000'000'000);

  int rpm() const { return rpm_; }

 private:
  struct Bucket {
    double tokens;
    int64_t last_ns;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets GUARDED_BY(mu);
  };
  int rpm_;
  Clock& clock_;
  std::array<Shard, 16> shards_;
};

}  // namespace pincer::api
