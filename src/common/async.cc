#include "common/async.h"

#include <thread>

namespace pincer {

Task<void> SleepFor(std::chrono::milliseconds delay) {
  Executor* ex = Executor::Current();
  if (ex == nullptr) {
    std::this_thread::sleep_for(delay);
    co_return;
  }
  co_await AwaitCallback<bool>([ex, delay](UniqueFunction<void(bool)> done) {
    ex->PostAfter(delay, [d = std::move(done)]() mutable { d(true); });
  });
}

struct AsyncSignal::State {
  std::mutex mu;
  bool notified GUARDED_BY(mu) = false;
  uint64_t wait_id GUARDED_BY(mu) = 0;  // identifies the current wait
  UniqueFunction<void(bool)> waiter GUARDED_BY(mu);
  std::shared_ptr<Executor::Timer> timer GUARDED_BY(mu);
};

AsyncSignal::AsyncSignal() : state_(std::make_shared<State>()) {}

AsyncSignal::~AsyncSignal() {
  std::lock_guard lock(state_->mu);
  if (state_->timer) state_->timer->Cancel();
}

void AsyncSignal::Notify() {
  UniqueFunction<void(bool)> waiter;
  std::shared_ptr<Executor::Timer> timer;
  {
    std::lock_guard lock(state_->mu);
    if (state_->waiter) {
      waiter = std::move(state_->waiter);
      timer = std::move(state_->timer);
      ++state_->wait_id;
    } else {
      state_->notified = true;
    }
  }
  if (timer) timer->Cancel();
  if (waiter) waiter(true);
}

Task<bool> AsyncSignal::Wait(std::chrono::milliseconds timeout) {
  std::shared_ptr<State> st = state_;
  Executor* ex = Executor::Current();
  auto start = [st, ex, timeout](UniqueFunction<void(bool)> done) {
    std::unique_lock lock(st->mu);
    if (st->notified) {
      st->notified = false;
      lock.unlock();
      done(true);
      return;
    }
    uint64_t id = ++st->wait_id;
    st->waiter = std::move(done);
    if (ex != nullptr) {
      st->timer = ex->PostAfter(timeout, [st, id] {
        UniqueFunction<void(bool)> w;
        {
          std::lock_guard l(st->mu);
          if (st->wait_id != id || !st->waiter) return;
          w = std::move(st->waiter);
          st->timer.reset();
          ++st->wait_id;
        }
        w(false);
      });
    }
  };
  co_return co_await AwaitCallback<bool>(start);
}

}  // namespace pincer
