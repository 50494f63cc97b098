#pragma once

// ThreadExecutor: an Executor backed by one dedicated thread with a timer queue. Used where
// no HTTP event loop is at hand (tests, tools, background work). The thread is installed as
// its own current executor. The destructor stops the thread; pending work is dropped.

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/executor.h"
#include "common/task.h"
#include "common/thread_annotations.h"

namespace pincer {

class ThreadExecutor final : public Executor {
 public:
  explicit ThreadExecutor(std::string name = "pincer-exec");
  ~ThreadExecutor() override;

  void Post(UniqueFunction<void()> fn) override;
  std::shared_ptr<Timer> PostAfter(std::chrono::milliseconds delay,
                                   UniqueFunction<void()> fn) override;

  // Runs `fn` on the executor thread and blocks until it has run.
  void RunSync(UniqueFunction<void()> fn);

  // Starts `task` on the executor thread and blocks the caller until it completes (tests,
  // start-up). Never call from the executor's own thread.
  template <typename T>
  T BlockOn(Task<T> task) {
    std::promise<T> p;
    if constexpr (std::is_void_v<T>) {
      Post([&] { Spawn(std::move(task), [&]() { p.set_value(); }); });
    } else {
      Post([&] { Spawn<T>(std::move(task), [&](T v) { p.set_value(std::move(v)); }); });
    }
    return p.get_future().get();
  }

 private:
  class TimerImpl;
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::deque<UniqueFunction<void()>> queue_ GUARDED_BY(mu_);
  std::multimap<std::chrono::steady_clock::time_point, std::shared_ptr<TimerImpl>> timers_
      GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace pincer
