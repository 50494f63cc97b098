#include "api/rate_limiter.h"

#include <gtest/gtest.h>

namespace pincer::api {
namespace {

TEST(RateLimiter, AllowsBurstUpToRpmThenRejects) {
  FakeClock clock;
  RateLimiter rl(3, clock);
  EXPECT_EQ(rl.Take("k").remaining, 2);
  EXPECT_EQ(rl.Take("k").remaining, 1);
  EXPECT_EQ(rl.Take("k").remaining, 0);
  auto rejected = rl.Take("k");
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.retry_after_s, 20);  // 3/min = one token per 20 s
  EXPECT_TRUE(rl.Take("other").allowed);  // keys are independent
}

TEST(RateLimiter, RefillsOverTime) {
  FakeClock clock;
  RateLimiter rl(60, clock);  // one token per second
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(rl.Take("k").allowed);
  EXPECT_FALSE(rl.Take("k").allowed);
  clock.AdvanceMs(1000);
  EXPECT_TRUE(rl.Take("k").allowed);
  EXPECT_FALSE(rl.Take("k").allowed);
  clock.AdvanceMs(3600'000);
  EXPECT_EQ(rl.Take("k").remaining, 59);  // capped at capacity
}

TEST(RateLimiter, ZeroDisables) {
  FakeClock clock;
  RateLimiter rl(0, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(rl.Take("k").allowed);
}

TEST(RateLimiter, SweepDropsIdleBuckets) {
  FakeClock clock;
  RateLimiter rl(10, clock);
  rl.Take("a");
  clock.AdvanceMs(11 * 60'000);
  rl.Take("b");
  EXPECT_EQ(rl.Sweep(), 1u);
  EXPECT_EQ(rl.Sweep(), 0u);
}

}  // namespace
}  // namespace pincer::api
