#include "common/periodic.h"

#include <pthread.h>

namespace pincer {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval,
                           std::function<void()> fn, bool run_now)
    : name_(std::move(name)), interval_(interval), fn_(std::move(fn)) {
  thread_ = std::thread([this, run_now] { Loop(run_now); });
}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PeriodicTask::Loop(bool run_now) {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  if (run_now) fn_();
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, interval_, [this] { return stop_; })) break;
    lock.unlock();
    fn_();
    lock.lock();
  }
}

}  // namespace pincer
