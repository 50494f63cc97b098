#include "script_store.h"

#include <unistd.h>

#include <algorithm>

#include "wire_util.h"

namespace pincer::mock {

size_t ScriptStore::Append(const std::string& key, std::vector<Step> steps) {
  std::lock_guard lock(mu_);
  auto& q = scripts_[key];
  for (auto& s : steps) q.push_back(std::move(s));
  return q.size();
}

size_t ScriptStore::Clear(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = scripts_.find(key);
  if (it == scripts_.end()) return 0;
  size_t n = it->second.size();
  scripts_.erase(it);
  return n;
}

size_t ScriptStore::Pending(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = scripts_.find(key);
  return it == scripts_.end() ? 0 : it->second.size();
}

ScriptStore::Taken ScriptStore::Take(const std::string& key, const std::string& model, bool pop) {
  Taken t;
  std::lock_guard lock(mu_);
  ++requests_total_;
  ++by_key_[key];
  if (!model.empty() && std::find(models_.begin(), models_.end(), model) == models_.end() &&
      models_.size() < 256) {
    models_.push_back(model);
  }
  if (pop) {
    auto it = scripts_.find(key);
    if (it != scripts_.end() && !it->second.empty()) {
      t.step.emplace(std::move(it->second.front()));
      it->second.pop_front();
      if (it->second.empty()) scripts_.erase(it);
    }
  }
  t.auto_config = auto_;
  return t;
}

void ScriptStore::SetAuto(std::optional<AutoConfig> config) {
  std::shared_ptr<const AutoConfig> p;
  if (config) p = std::make_shared<const AutoConfig>(std::move(*config));
  std::lock_guard lock(mu_);
  auto_ = std::move(p);
}

std::optional<AutoConfig> ScriptStore::GetAuto() const {
  std::lock_guard lock(mu_);
  if (!auto_) return std::nullopt;
  return *auto_;
}

void ScriptStore::Record(RecordedRequest r) {
  if (options_.record_limit == 0) return;
  std::lock_guard lock(rec_mu_);
  record_bytes_ += r.body.size();
  records_.push_back(std::move(r));
  while (!records_.empty() &&
         (records_.size() > options_.record_limit ||
          (record_bytes_ > options_.record_max_bytes && records_.size() > 1))) {
    record_bytes_ -= records_.front().body.size();
    records_.pop_front();
  }
}

std::string ScriptStore::RequestsJson(const std::optional<std::string>& key, bool bodies) const {
  JsonWriter w;
  w.BeginObject().BeginArray("requests");
  {
    std::lock_guard lock(rec_mu_);
    for (const auto& r : records_) {
      if (key && r.key != *key) continue;
      w.BeginObject().String("key", r.key).String("path", r.path);
      if (bodies) {
        w.Raw("headers", r.headers_json).Key("body");
        if (r.body_is_json) {
          w.Raw(r.body);
        } else {
          w.String(r.body);
        }
      }
      w.Int("received_at_ms", r.received_at_ms).Int("received_at_us", r.received_at_us);
      w.Int("done_at_us", r.done_at_us ? r.done_at_us->load() : 0).EndObject();
    }
  }
  w.EndArray().EndObject();
  return w.Take();
}

void ScriptStore::ClearRequests() {
  std::lock_guard lock(rec_mu_);
  records_.clear();
  record_bytes_ = 0;
}

std::string ScriptStore::StatsJson(int64_t in_flight) const {
  JsonWriter w;
  w.BeginObject();
  {
    std::lock_guard lock(mu_);
    w.Int("requests_total", requests_total_).BeginObject("by_key");
    for (const auto& [k, n] : by_key_) w.Int(k, n);
    w.EndObject().BeginObject("pending");
    for (const auto& [k, q] : scripts_) w.Int(k, static_cast<int64_t>(q.size()));
    w.EndObject();
  }
  {
    std::lock_guard lock(rec_mu_);
    w.Int("recorded", static_cast<int64_t>(records_.size()));
  }
  w.Int("in_flight", in_flight).Int("pid", getpid()).EndObject();
  return w.Take();
}

std::vector<std::string> ScriptStore::ModelsSeen() const {
  std::lock_guard lock(mu_);
  return models_;
}

void ScriptStore::Reset() {
  {
    std::lock_guard lock(mu_);
    scripts_.clear();
    auto_.reset();
    requests_total_ = 0;
    by_key_.clear();
    models_.clear();
  }
  ClearRequests();
}

}  // namespace pincer::mock
