#include "common/async.h"

#include <gtest/gtest.h>

#include <future>

#include "common/cancel.h"
#include "common/thread_executor.h"

namespace pincer {
namespace {

using namespace std::chrono_literals;

// Runs `task` on `ex` and waits for its result on the test thread.
template <typename T>
T RunOn(ThreadExecutor& ex, Task<T> task) {
  std::promise<T> p;
  ex.Post([&] { Spawn<T>(std::move(task), [&](T v) { p.set_value(std::move(v)); }); });
  return p.get_future().get();
}

TEST(Async, SleepForResumesOnTheExecutorAfterTheDelay) {
  ThreadExecutor ex;
  auto start = std::chrono::steady_clock::now();
  auto task = []() -> Task<std::thread::id> {
    co_await SleepFor(30ms);
    co_return std::this_thread::get_id();
  };
  std::thread::id exec_thread;
  ex.RunSync([&] { exec_thread = std::this_thread::get_id(); });
  EXPECT_EQ(RunOn(ex, task()), exec_thread);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST(Async, SignalWakesAWaiter) {
  ThreadExecutor ex;
  AsyncSignal sig;
  std::promise<bool> result;
  auto waiter = [&]() -> Task<bool> { co_return co_await sig.Wait(10s); };
  ex.Post([&] { Spawn<bool>(waiter(), [&](bool v) { result.set_value(v); }); });
  // Notify from the test thread; whether it lands before or after Wait, Wait sees it.
  sig.Notify();
  EXPECT_TRUE(result.get_future().get());
}

TEST(Async, SignalTimesOut) {
  ThreadExecutor ex;
  AsyncSignal sig;
  auto waiter = [&]() -> Task<bool> { co_return co_await sig.Wait(20ms); };
  EXPECT_FALSE(RunOn(ex, waiter()));
  // A later Notify is remembered for the next Wait.
  sig.Notify();
  EXPECT_TRUE(RunOn(ex, waiter()));
}

TEST(Cancel, RunsCallbacksOnceAndLateRegistrationsImmediately) {
  CancelToken t;
  int calls = 0;
  auto reg = t.OnCancel([&] { ++calls; });
  auto gone = t.OnCancel([&] { calls += 100; });
  gone.Reset();
  t.Cancel("user asked");
  t.Cancel("again");
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(t.reason(), "user asked");
  auto late = t.OnCancel([&] { ++calls; });
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace pincer
