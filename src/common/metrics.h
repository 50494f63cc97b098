#pragma once

// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4). All operations are thread-safe; Inc/Observe on an
// already-resolved child are lock-free.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pincer::metrics {

using Labels = std::vector<std::string>;  // values, in the family's label-name order

class Counter {
 public:
  void Inc(double v = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  // Cumulative count for bucket i (i == bounds.size() is +Inf), total count and sum.
  uint64_t BucketCount(size_t i) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative, size bounds+1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// A metric name with label names; children are created on first use and live forever
// (label values must come from a bounded set: route patterns, status codes, kinds).
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  T& With(const Labels& values) {
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return *slot;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls fn(labels, child) for each child, in label order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [labels, child] : children_) fn(labels, *child);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<T>> children_;
};

class Registry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names, std::vector<double> bounds);
  // A callback that appends ready-made exposition text (e.g. process metrics) on Render().
  void AddCollector(std::function<void(std::string&)> collector);

  // The whole registry in Prometheus text format.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::unique_ptr<std::vector<double>>> bounds_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

// Appends process_* metrics (RSS, open fds, CPU seconds, start time, uptime) for this process.
void AppendProcessMetrics(std::string& out, int64_t start_time_ms);

}  // namespace pincer::metrics
