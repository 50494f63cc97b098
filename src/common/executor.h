#pragma once

// Executor: a place where work (and coroutine continuations) runs.
//
// The HTTP layer wraps each I/O thread's event loop in an Executor and installs it as the
// thread's *current* executor, so code outside src/http never needs Asio: an awaitable that
// completes on a foreign thread (the store's writer, a worker) posts the continuation back to
// the executor that was current when the coroutine suspended. A thread with no current
// executor resumes continuations inline.

#include <chrono>
#include <memory>

#include "common/unique_function.h"

namespace pincer {

class Executor {
 public:
  virtual ~Executor() = default;

  // Runs fn later on this executor's thread(s). Thread-safe. Never runs fn inline.
  virtual void Post(UniqueFunction<void()> fn) = 0;

  // Runs fn on this executor after `delay`. Returns a handle whose Cancel() prevents fn from
  // running if it has not started yet (Cancel is thread-safe and idempotent).
  class Timer {
   public:
    virtual ~Timer() = default;
    virtual void Cancel() = 0;
  };
  virtual std::shared_ptr<Timer> PostAfter(std::chrono::milliseconds delay,
                                           UniqueFunction<void()> fn) = 0;

  // The executor installed on the calling thread, or nullptr.
  static Executor* Current();

  // Installs `e` as the calling thread's current executor for the scope's lifetime.
  class ScopedCurrent {
   public:
    explicit ScopedCurrent(Executor* e);
    ~ScopedCurrent();
    ScopedCurrent(const ScopedCurrent&) = delete;
    ScopedCurrent& operator=(const ScopedCurrent&) = delete;

   private:
    Executor* previous_;
  };
};

// Posts fn to `e` when non-null, else runs it inline.
void PostOrRun(Executor* e, UniqueFunction<void()> fn);

}  // namespace pincer
