#include "common/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/clock.h"

namespace pincer::metrics {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string FormatNumber(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 1e15 && v > -1e15) {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.15g", v);
  }
  return buf;
}

void AppendEscaped(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void AppendLabels(std::string& out, const std::vector<std::string>& names, const Labels& values,
                  const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    AppendEscaped(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Counter::Inc(double v) { AtomicAdd(value_, v); }
void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

uint64_t Histogram::BucketCount(size_t i) const {
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j <= bounds_->size(); ++j) {
    total += buckets_[j].load(std::memory_order_relaxed);
  }
  return total;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  counters_.push_back(std::make_unique<Family<Counter>>(
      name, help, std::move(label_names), [] { return std::make_unique<Counter>(); }));
  return *counters_.back();
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  gauges_.push_back(std::make_unique<Family<Gauge>>(name, help, std::move(label_names),
                                                    [] { return std::make_unique<Gauge>(); }));
  return *gauges_.back();
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  bounds_.push_back(std::make_unique<std::vector<double>>(std::move(bounds)));
  const std::vector<double>* b = bounds_.back().get();
  histograms_.push_back(std::make_unique<Family<Histogram>>(
      name, help, std::move(label_names), [b] { return std::make_unique<Histogram>(b); }));
  return *histograms_.back();
}

void Registry::AddCollector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(8192);
  for (const auto& f : counters_) {
    AppendHeader(out, f->name(), f->help(), "counter");
    f->ForEach([&](const Labels& l, const Counter& c) {
      out += f->name();
      AppendLabels(out, f->label_names(), l);
      out += ' ' + FormatNumber(c.Value()) + '\n';
    });
  }
  for (const auto& f : gauges_) {
    AppendHeader(out, f->name(), f->help(), "gauge");
    f->ForEach([&](const Labels& l, const Gauge& g) {
      out += f->name();
      AppendLabels(out, f->label_names(), l);
      out += ' ' + FormatNumber(g.Value()) + '\n';
    });
  }
  for (size_t h = 0; h < histograms_.size(); ++h) {
    const auto& f = histograms_[h];
    const auto& bounds = *bounds_[h];
    AppendHeader(out, f->name(), f->help(), "histogram");
    f->ForEach([&](const Labels& l, const Histogram& hist) {
      for (size_t i = 0; i <= bounds.size(); ++i) {
        out += f->name() + "_bucket";
        AppendLabels(out, f->label_names(), l, "le",
                     i < bounds.size() ? FormatNumber(bounds[i]) : "+Inf");
        out += ' ' + std::to_string(hist.BucketCount(i)) + '\n';
      }
      out += f->name() + "_sum";
      AppendLabels(out, f->label_names(), l);
      out += ' ' + FormatNumber(hist.Sum()) + '\n';
      out += f->name() + "_count";
      AppendLabels(out, f->label_names(), l);
      out += ' ' + std::to_string(hist.Count()) + '\n';
    });
  }
  for (const auto& c : collectors_) c(out);
  return out;
}

void AppendProcessMetrics(std::string& out, int64_t start_time_ms) {
  long page = sysconf(_SC_PAGESIZE);
  long ticks = sysconf(_SC_CLK_TCK);
  double rss = 0, vsize = 0, cpu = 0;
  if (std::ifstream statm("/proc/self/statm"); statm) {
    long size = 0, resident = 0;
    statm >> size >> resident;
    rss = static_cast<double>(resident) * page;
    vsize = static_cast<double>(size) * page;
  }
  if (std::ifstream stat("/proc/self/stat"); stat) {
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
    auto pos = content.rfind(')');
    if (pos != std::string::npos) {
      std::istringstream rest(content.substr(pos + 2));
      std::string field;
      double utime = 0, stime = 0;
      for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stod(field);
        if (i == 15) stime = std::stod(field);
      }
      cpu = (utime + stime) / static_cast<double>(ticks);
    }
  }
  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++fds;
    closedir(d);
    fds -= 3;  // ".", ".." and the directory's own fd
  }
  double uptime = static_cast<double>(SystemClock().NowMs() - start_time_ms) / 1000.0;
  AppendHeader(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
  out += "process_resident_memory_bytes " + FormatNumber(rss) + "\n";
  AppendHeader(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
  out += "process_virtual_memory_bytes " + FormatNumber(vsize) + "\n";
  AppendHeader(out, "process_open_fds", "Number of open file descriptors.", "gauge");
  out += "process_open_fds " + std::to_string(fds) + "\n";
  AppendHeader(out, "process_cpu_seconds_total", "Total user and system CPU time in seconds.",
               "counter");
  out += "process_cpu_seconds_total " + FormatNumber(cpu) + "\n";
  AppendHeader(out, "process_start_time_seconds", "Start time since the Unix epoch in seconds.",
               "gauge");
  out += "process_start_time_seconds " + FormatNumber(start_time_ms / 1000.0) + "\n";
  AppendHeader(out, "process_uptime_seconds", "Seconds since the process started.", "gauge");
  out += "process_uptime_seconds " + FormatNumber(uptime) + "\n";
}

}  // namespace pincer::metrics
