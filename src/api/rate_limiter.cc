#include "api/rate_limiter.h"

#include <cmath>
#include <functional>

namespace pincer::api {

RateLimiter::Decision RateLimiter::Take(const std::string& key) {
  if (rpm_ <= 0) return {true, 0, 0};
  Shard& shard = shards_[std::hash<std::string>{}(key) % shards_.size()];
  int64_t now = clock_.MonotonicNs();
  double capacity = rpm_;
  double per_ns = rpm_ / 60.0 / 1e9;
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.buckets.try_emplace(key, Bucket{capacity, now});
  Bucket& b = it->second;
  if (!inserted) {
    b.tokens = std::min(capacity, b.tokens + static_cast<double>(now - b.last_ns) * per_ns);
    b.last_ns = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {true, static_cast<int64_t>(b.tokens), 0};
  }
  double wait_s = (1.0 - b.tokens) / (rpm_ / 60.0);
  return {false, 0, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s)))};
}

size_t RateLimiter::Sweep(int64_t idle_ns) {
  int64_t now = clock_.MonotonicNs();
  size_t removed = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    removed += std::erase_if(shard.buckets,
                             [&](const auto& kv) { return now - kv.second.last_ns > idle_ns; });
  }
  return removed;
}

}  // namespace pincer::api
