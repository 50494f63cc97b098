#include "common/task.h"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <thread>

namespace pincer {
namespace {

Task<int> Add(int a, int b) { co_return a + b; }

Task<int> Chain() {
  int x = co_await Add(1, 2);
  int y = co_await Add(x, 10);
  co_return y;
}

TEST(Task, IsLazyAndComposes) {
  bool started = false;
  auto body = [&]() -> Task<int> {  // named: a coroutine lambda's captures live in the lambda
    started = true;
    co_return 7;
  };
  auto t = body();
  EXPECT_FALSE(started);
  EXPECT_EQ(SyncWait(std::move(t)), 7);
  EXPECT_TRUE(started);
  EXPECT_EQ(SyncWait(Chain()), 13);
}

TEST(Task, DeepChainsDoNotOverflowTheStack) {
  // Symmetric transfer: a long sequence of synchronously completing awaits stays flat when
  // optimizing (GCC at -O0 does not turn the transfer into a tail call, hence the modest
  // count; sanitizer presets build with optimization for the same reason).
  auto loop = []() -> Task<int> {
    int sum = 0;
    for (int i = 0; i < 10'000; ++i) sum += co_await Add(i % 2, 0);
    co_return sum;
  };
  EXPECT_EQ(SyncWait(loop()), 5'000);
}

TEST(Task, ExceptionsSurfaceAtTheAwaitSite) {
  auto thrower = []() -> Task<int> {
    throw std::runtime_error("boom");
    co_return 1;
  };
  auto catcher = [&thrower]() -> Task<std::string> {
    try {
      co_await thrower();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "none";
  };
  EXPECT_EQ(SyncWait(catcher()), "boom");
}

// A manual executor: Post queues; Drain runs the queue on the calling thread.
class QueueExecutor final : public Executor {
 public:
  void Post(UniqueFunction<void()> fn) override {
    std::lock_guard lock(mu_);
    q_.push_back(std::move(fn));
  }
  std::shared_ptr<Timer> PostAfter(std::chrono::milliseconds, UniqueFunction<void()>) override {
    return nullptr;
  }
  size_t Drain() {
    size_t n = 0;
    for (;;) {
      UniqueFunction<void()> fn;
      {
        std::lock_guard lock(mu_);
        if (q_.empty()) return n;
        fn = std::move(q_.front());
        q_.pop_front();
      }
      fn();
      ++n;
    }
  }

 private:
  std::mutex mu_;
  std::deque<UniqueFunction<void()>> q_;
};

TEST(Task, CallbackCompletingInlineDoesNotSuspend) {
  QueueExecutor ex;
  Executor::ScopedCurrent scope(&ex);
  int got = 0;
  Spawn(
      []() -> Task<int> {
        co_return co_await AwaitCallback<int>([](auto complete) { complete(41); }) + 1;
      }(),
      UniqueFunction<void(int)>([&](int v) { got = v; }));
  EXPECT_EQ(got, 42);
  EXPECT_EQ(ex.Drain(), 0u);
}

TEST(Task, CallbackFromAnotherThreadResumesOnTheOriginalExecutor) {
  QueueExecutor ex;
  Executor::ScopedCurrent scope(&ex);
  std::thread::id resumed_on;
  int got = 0;
  std::thread worker;
  std::promise<void> suspended;
  // The coroutine lambda must outlive the coroutine: its captures live in the lambda object.
  auto body = [&]() -> Task<int> {
    int v = co_await AwaitCallback<int>([&](auto complete) {
      worker = std::thread([c = std::move(complete), go = suspended.get_future()]() mutable {
        go.wait();  // complete only after the coroutine has suspended
        c(5);
      });
    });
    resumed_on = std::this_thread::get_id();
    co_return v;
  };
  Spawn(body(), UniqueFunction<void(int)>([&](int v) { got = v; }));
  suspended.set_value();
  worker.join();
  EXPECT_EQ(got, 0);  // not resumed yet: the continuation waits on the executor
  EXPECT_EQ(ex.Drain(), 1u);
  EXPECT_EQ(got, 5);
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace pincer
