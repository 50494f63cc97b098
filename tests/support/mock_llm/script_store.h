#pragma once

// ScriptStore: the mock's shared state. Per-key FIFOs of scripted steps, the auto-mode
// config, request counters and the bounded log of recorded requests.
//
// Thread-safe. Every method takes a mutex for a short, bounded critical section (a deque
// pop/push, a counter bump); nothing is held across an await.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "step.h"

namespace pincer::mock {

struct RecordedRequest {
  std::string key;
  std::string path;
  std::string headers_json;   // a JSON object, already serialized
  std::string body;           // raw request body
  bool body_is_json = false;  // false: rendered as a JSON string
  int64_t received_at_ms = 0;
  // Timing for benchmarks (wall clock, µs): when the request had been read, and when its
  // response had been handed to the socket in full (0 until then).
  int64_t received_at_us = 0;
  std::shared_ptr<std::atomic<int64_t>> done_at_us;
};

class ScriptStore {
 public:
  struct Options {
    size_t record_limit = 10'000;          // most recent requests kept; 0 = record nothing
    size_t record_max_bytes = 256u << 20;  // and at most this many body bytes
  };
  explicit ScriptStore(Options options) : options_(options) {}

  // Appends to the key's FIFO; returns the number now pending.
  size_t Append(const std::string& key, std::vector<Step> steps);
  // Drops the key's pending steps; returns how many were dropped.
  size_t Clear(const std::string& key);
  size_t Pending(const std::string& key) const;

  struct Taken {
    std::optional<Step> step;                       // the next scripted step, if any
    std::shared_ptr<const AutoConfig> auto_config;  // the fallback config, if set
  };
  // Counts one LLM request for `key` and pops its next step (when `pop`).
  Taken Take(const std::string& key, const std::string& model, bool pop);

  void SetAuto(std::optional<AutoConfig> config);
  std::optional<AutoConfig> GetAuto() const;

  void Record(RecordedRequest r);
  // {"requests":[…]} for one key, or for all keys when `key` is nullopt. Without `bodies`,
  // each entry has only its key, path and timing fields.
  std::string RequestsJson(const std::optional<std::string>& key, bool bodies = true) const;
  void ClearRequests();

  std::string StatsJson(int64_t in_flight) const;
  // Models seen in requests, in first-seen order.
  std::vector<std::string> ModelsSeen() const;

  // Clears steps, auto config, recorded requests and counters.
  void Reset();

 private:
  const Options options_;

  mutable std::mutex mu_;  // scripts, config and counters
  std::unordered_map<std::string, std::deque<Step>> scripts_ GUARDED_BY(mu_);
  std::shared_ptr<const AutoConfig> auto_ GUARDED_BY(mu_);
  int64_t requests_total_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, int64_t> by_key_ GUARDED_BY(mu_);
  std::vector<std::string> models_ GUARDED_BY(mu_);

  mutable std::mutex rec_mu_;  // recorded requests
  std::deque<RecordedRequest> records_ GUARDED_BY(rec_mu_);
  size_t record_bytes_ GUARDED_BY(rec_mu_) = 0;
};

}  // namespace pincer::mock
