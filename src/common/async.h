#pragma once

// Asynchronous waiting primitives for Task coroutines, built on Executor timers:
//   co_await SleepFor(50ms);             // needs a current executor
//   AsyncSignal s;  ... co_await s.Wait(15s);  // woken by s.Notify() or the timeout

#include <chrono>
#include <memory>
#include <mutex>

#include "common/executor.h"
#include "common/task.h"
#include "common/thread_annotations.h"

namespace pincer {

// Suspends for `delay` on the current executor. Without a current executor, blocks the thread.
Task<void> SleepFor(std::chrono::milliseconds delay);

// A wake-up signal for one waiter at a time. Notify() before Wait() is remembered (the next
// Wait returns at once). Thread-safe.
class AsyncSignal {
 public:
  AsyncSignal();
  ~AsyncSignal();
  AsyncSignal(const AsyncSignal&) = delete;
  AsyncSignal& operator=(const AsyncSignal&) = delete;

  void Notify();
  // Resolves true when notified, false when `timeout` passed first. Requires a current
  // executor for the timeout.
  Task<bool> Wait(std::chrono::milliseconds timeout);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace pincer
