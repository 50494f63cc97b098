#pragma once

// Task<T>: a lazy C++20 coroutine returning T, awaited with co_await by exactly one awaiter.
//
// - A Task does nothing until awaited (or started with Spawn); completion transfers control
//   straight to the awaiter (symmetric transfer, no stack growth).
// - An exception escaping the coroutine body is rethrown at the co_await site. Module
//   boundaries return Result<T> instead; exceptions are a last-resort safety net.
// - AwaitCallback bridges callback APIs: the continuation is posted back to the executor that
//   was current when the coroutine suspended (see common/executor.h).
//
// GCC 12 BUG — read before writing co_await expressions: a lambda or brace-initialized
// aggregate with a non-trivially-destructible capture/member (shared_ptr, string, function…)
// written *directly inside* a co_await operand is miscompiled (the temporary is copied from
// the wrong frame address and destroyed twice). Hoist such a lambda into a named local and
// pass it with std::move:
//     auto start = [job](auto done) { ... };             // non-trivial capture
//     co_await AwaitCallback<T>(start);                   // fine (AwaitCallback enforces it)
// Lambdas capturing only references/pointers/ints, and calls returning prvalues, are fine.

#include <atomic>
#include <coroutine>
#include <exception>
#include <future>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/executor.h"
#include "common/unique_function.h"

namespace pincer {

template <typename T>
class Task;

namespace task_detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr exception;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }
};

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T Take() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void Take() {
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace task_detail

template <typename T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = task_detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const { return static_cast<bool>(h_); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle h;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().continuation = awaiting;
        return h;
      }
      T await_resume() { return h.promise().Take(); }
    };
    return Awaiter{h_};
  }

 private:
  Handle h_;
};

namespace task_detail {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// A fire-and-forget coroutine frame that destroys itself when done.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

template <typename T, typename F>
Detached RunDetached(Task<T> task, F done) {
  if constexpr (std::is_void_v<T>) {
    co_await std::move(task);
    done();
  } else {
    done(co_await std::move(task));
  }
}
}  // namespace task_detail

// Starts `task` now on the calling thread; `done` runs with its result on whichever thread the
// task finishes. An exception escaping the task terminates the process (a bug: tasks return
// Result). `done` may be empty.
template <typename T>
void Spawn(Task<T> task, UniqueFunction<void(T)> done = {}) {
  task_detail::RunDetached(std::move(task), [d = std::move(done)](T v) mutable {
    if (d) d(std::move(v));
  });
}
inline void Spawn(Task<void> task, UniqueFunction<void()> done = {}) {
  task_detail::RunDetached(std::move(task), [d = std::move(done)]() mutable {
    if (d) d();
  });
}

// Awaitable bridging a callback API. `start(complete)` is called once when the coroutine
// suspends; `complete(T)` must be called exactly once, from any thread, possibly inline.
// The coroutine continues on the executor that was current at suspension (inline when none).
template <typename T, typename Start>
class CallbackAwaitable {
 public:
  explicit CallbackAwaitable(Start start) : start_(std::forward<Start>(start)) {}

  bool await_ready() noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    executor_ = Executor::Current();
    start_([this](T value) {
      value_.emplace(std::move(value));
      // If the awaiter already returned from await_suspend, we must resume it; otherwise
      // await_suspend will see kDone and continue without suspending.
      if (state_.exchange(kDone, std::memory_order_acq_rel) == kSuspended) {
        PostOrRun(executor_, [h = handle_] { h.resume(); });
      }
    });
    return state_.exchange(kSuspended, std::memory_order_acq_rel) != kDone;
  }
  T await_resume() { return std::move(*value_); }

 private:
  enum : int { kStarting = 0, kSuspended = 1, kDone = 2 };
  Start start_;
  std::coroutine_handle<> handle_;
  Executor* executor_ = nullptr;
  std::optional<T> value_;
  std::atomic<int> state_{kStarting};
};

// A start function with only trivially destructible state may be written inline.
template <typename T, typename Start>
requires std::is_trivially_destructible_v<std::decay_t<Start>>
    CallbackAwaitable<T, std::decay_t<Start>> AwaitCallback(Start&& start) {
  return CallbackAwaitable<T, std::decay_t<Start>>(std::forward<Start>(start));
}
// One holding non-trivial state must be a named local (see the GCC 12 note at the top): it is
// taken by reference, so an inline lambda of that kind does not compile.
template <typename T, typename Start>
requires(!std::is_trivially_destructible_v<Start>)
    CallbackAwaitable<T, Start&> AwaitCallback(Start& start) {
  return CallbackAwaitable<T, Start&>(start);
}

// Resumes the awaiting coroutine on `e` (a hop between executors).
inline auto ResumeOn(Executor& e) {
  struct Awaiter {
    Executor& e;
    bool await_ready() noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      e.Post([h] { h.resume(); });
    }
    void await_resume() noexcept {}
  };
  return Awaiter{e};
}

// Blocks the calling thread until `task` completes; for tests, tools and main(). Must not be
// called on an executor thread the task needs.
template <typename T>
T SyncWait(Task<T> task) {
  std::promise<T> p;
  auto f = p.get_future();
  if constexpr (std::is_void_v<T>) {
    Spawn(std::move(task), [&p]() { p.set_value(); });
  } else {
    Spawn<T>(std::move(task), [&p](T v) { p.set_value(std::move(v)); });
  }
  return f.get();
}

}  // namespace pincer
