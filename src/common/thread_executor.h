#pragma once

// ThreadExecutor: an Executor backed by one dedicated thread with a timer queue. Used where
// no HTTP event loop is at hand (tests, tools, background work). The thread is installed as
// its own current executor. The destructor stops the thread; pending work is dropped.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/executor.h"
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
