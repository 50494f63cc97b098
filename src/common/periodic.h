#pragma once

// PeriodicTask: runs a function every `interval` on its own thread until destroyed.
// Used for housekeeping (audit retention, rate-limit bucket sweeps). The destructor wakes the
// thread and joins it, so no run is in progress once it returns.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace pincer {

class PeriodicTask {
 public:
  // Runs `fn` once immediately when `run_now` is true, then every `interval`.
  PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> fn,
               bool run_now = false);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Loop(bool run_now);

  std::string name_;
  std::chrono::milliseconds interval_;
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pincer
