#include "common/thread_executor.h"

#include <pthread.h>

#include <atomic>
#include <future>

namespace pincer {

class ThreadExecutor::TimerImpl final : public Executor::Timer {
 public:
  explicit TimerImpl(UniqueFunction<void()> fn) : fn_(std::move(fn)) {}
  void Cancel() override { cancelled_ = true; }
  void Fire() {
    if (!cancelled_.exchange(true)) fn_();
  }

 private:
  UniqueFunction<void()> fn_;
  std::atomic<bool> cancelled_{false};
};

ThreadExecutor::ThreadExecutor(std::string name) {
  thread_ = std::thread([this, name = std::move(name)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    Executor::ScopedCurrent scope(this);
    Loop();
  });
}

ThreadExecutor::~ThreadExecutor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ThreadExecutor::Post(UniqueFunction<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

std::shared_ptr<Executor::Timer> ThreadExecutor::PostAfter(std::chrono::milliseconds delay,
                                                           UniqueFunction<void()> fn) {
  auto t = std::make_shared<TimerImpl>(std::move(fn));
  {
    std::lock_guard lock(mu_);
    timers_.emplace(std::chrono::steady_clock::now() + delay, t);
  }
  cv_.notify_one();
  return t;
}

void ThreadExecutor::RunSync(UniqueFunction<void()> fn) {
  std::promise<void> done;
  Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void ThreadExecutor::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    if (!timers_.empty() && timers_.begin()->first <= now) {
      auto t = timers_.begin()->second;
      timers_.erase(timers_.begin());
      lock.unlock();
      t->Fire();
      lock.lock();
      continue;
    }
    if (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
      continue;
    }
    if (timers_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, timers_.begin()->first);
    }
  }
}

}  // namespace pincer
