#include "common/cancel.h"

#include <vector>

namespace pincer {

void CancelToken::Cancel(std::string reason) {
  std::map<uint64_t, UniqueFunction<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (cancelled_.load()) return;
    reason_ = std::move(reason);
    cancelled_.store(true, std::memory_order_release);
    callbacks.swap(callbacks_);
  }
  for (auto& [id, fn] : callbacks) fn();
}

std::string CancelToken::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

CancelToken::Registration CancelToken::OnCancel(UniqueFunction<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!cancelled_.load()) {
      uint64_t id = next_id_++;
      callbacks_.emplace(id, std::move(fn));
      return Registration(this, id);
    }
  }
  fn();
  return Registration();
}

CancelToken::Registration& CancelToken::Registration::operator=(Registration&& o) noexcept {
  if (this != &o) {
    Reset();
    token_ = std::exchange(o.token_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

void CancelToken::Registration::Reset() {
  if (token_ == nullptr) return;
  std::lock_guard lock(token_->mu_);
  token_->callbacks_.erase(id_);
  token_ = nullptr;
}

}  // namespace pincer
