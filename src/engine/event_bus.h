#pragma once

// EventBus: in-process live fan-out of a session's events to its stream subscribers (SSE).
//
// Persisted events are published after their transaction commits (from the store's commit
// hook, so in log order); token deltas and transient status frames are published as they
// happen. Each subscriber has a bounded buffer: a subscriber that falls more than
// `max_buffer_bytes` behind (with frames still unread) is dropped (its stream then closes with a
// clear reason) so a slow client never holds back the turn or other subscribers. Thread-safe.

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/thread_annotations.h"

namespace pincer::engine {

struct Frame {
  std::string event;   // SSE event name, e.g. "agent.message"
  int64_t seq = 0;     // > 0 for persisted events (the SSE id)
  std::string data;    // JSON
  bool delta = false;  // token delta: only for subscribers that asked for deltas
  std::string status;  // set on status frames: the session's new status
};
using FramePtr = std::shared_ptr<const Frame>;

class EventBus;

class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Frames received since the last call, in publish order.
  std::vector<FramePtr> Drain();
  // True once this subscriber fell too far behind and was cut off.
  bool dropped() const { return dropped_.load(); }
  // Notified on every new frame and when dropped; also usable to wake the reader.
  AsyncSignal& signal() { return signal_; }

 private:
  friend class EventBus;
  Subscription(EventBus& bus, std::string session_id, bool deltas, size_t max_bytes)
      : bus_(bus), session_id_(std::move(session_id)), deltas_(deltas), max_bytes_(max_bytes) {}
  void Push(const FramePtr& frame);

  EventBus& bus_;
  std::string session_id_;
  bool deltas_;
  size_t max_bytes_;
  std::mutex mu_;
  std::deque<FramePtr> queue_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  std::atomic<bool> dropped_{false};
  AsyncSignal signal_;
};

class EventBus {
 public:
  std::unique_ptr<Subscription> Subscribe(const std::string& session_id, bool deltas,
                                          size_t max_buffer_bytes = 8 << 20);
  void Publish(const std::string& session_id, FramePtr frame);
  // True when someone streaming `session_id` asked for token deltas (skip building them if not).
  bool WantsDeltas(const std::string& session_id);
  size_t subscriber_count() const { return count_.load(); }

 private:
  friend class Subscription;
  void Remove(Subscription* sub);

  struct Shard {
    std::mutex mu;
    std::map<std::string, std::vector<Subscription*>, std::less<>> subs GUARDED_BY(mu);
  };
  Shard& ShardFor(const std::string& session_id);
  std::array<Shard, 16> shards_;
  std::atomic<size_t> count_{0};
};

}  // namespace pincer::engine
