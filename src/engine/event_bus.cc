#include "engine/event_bus.h"

#include <algorithm>
#include <functional>

namespace pincer::engine {

Subscription::~Subscription() { bus_.Remove(this); }

std::vector<FramePtr> Subscription::Drain() {
  std::lock_guard lock(mu_);
  std::vector<FramePtr> out(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.end()));
  queue_.clear();
  bytes_ = 0;
  return out;
}

void Subscription::Push(const FramePtr& frame) {
  if (frame->delta && !deltas_) return;
  if (dropped_.load()) return;
  {
    std::lock_guard lock(mu_);
    bytes_ += frame->data.size() + frame->event.size() + 32;
    // A reader that keeps up has an empty queue: one large frame alone never drops it.
    if (bytes_ > max_bytes_ && !queue_.empty()) {
      queue_.clear();
      bytes_ = 0;
      dropped_ = true;
    } else {
      queue_.push_back(frame);
    }
  }
  signal_.Notify();
}

EventBus::Shard& EventBus::ShardFor(const std::string& session_id) {
  return shards_[std::hash<std::string>{}(session_id) % shards_.size()];
}

std::unique_ptr<Subscription> EventBus::Subscribe(const std::string& session_id, bool deltas,
                                                  size_t max_buffer_bytes) {
  std::unique_ptr<Subscription> sub(new Subscription(*this, session_id, deltas, max_buffer_bytes));
  Shard& shard = ShardFor(session_id);
  std::lock_guard lock(shard.mu);
  shard.subs[session_id].push_back(sub.get());
  ++count_;
  return sub;
}

void EventBus::Remove(Subscription* sub) {
  Shard& shard = ShardFor(sub->session_id_);
  std::lock_guard lock(shard.mu);
  auto it = shard.subs.find(sub->session_id_);
  if (it == shard.subs.end()) return;
  auto& v = it->second;
  auto pos = std::find(v.begin(), v.end(), sub);
  if (pos != v.end()) {
    v.erase(pos);
    --count_;
  }
  if (v.empty()) shard.subs.erase(it);
}

void EventBus::Publish(const std::string& session_id, FramePtr frame) {
  Shard& shard = ShardFor(session_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.subs.find(session_id);
  if (it == shard.subs.end()) return;
  for (Subscription* sub : it->second) sub->Push(frame);
}

bool EventBus::WantsDeltas(const std::string& session_id) {
  Shard& shard = ShardFor(session_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.subs.find(session_id);
  if (it == shard.subs.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [](Subscription* s) { return s->deltas_; });
}

}  // namespace pincer::engine
