#include "sandbox/pool.h"

#include <filesystem>
#include <set>

#include "common/async.h"
#include "common/log.h"

namespace pincer::sandbox {
namespace {
namespace fs = std::filesystem;
constexpr std::chrono::milliseconds kConnectTimeout{10'000};
constexpr std::chrono::milliseconds kRefillDelay{100};
}  // namespace

SandboxPool::SandboxPool(SandboxRuntime& runtime, http::LineTransport& transport, Clock& clock,
                         metrics::Registry& metrics, PoolOptions options)
    : runtime_(runtime),
      transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      acquires_(
          metrics.AddCounter("pool_acquire_total", "Sandbox acquisitions by source.", {"source"})),
      boot_seconds_(metrics.AddHistogram(
          "sandbox_boot_duration_seconds", "Cold sandbox start time.", {"runtime"},
          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})),
      evictions_(metrics.AddCounter("pool_evictions_total", "Sandboxes stopped by the pool.",
                                    {"reason"})) {
  metrics.AddCollector([this](std::string& out) {
    std::lock_guard lock(mu_);
    out +=
        "# HELP pool_active_sandboxes Sandboxes attached to sessions.\n# TYPE "
        "pool_active_sandboxes gauge\n";
    out += "pool_active_sandboxes " + std::to_string(slots_.size()) + "\n";
    out +=
        "# HELP pool_warm_sandboxes Warm sandboxes waiting for a session.\n# TYPE "
        "pool_warm_sandboxes gauge\n";
    out += "pool_warm_sandboxes " + std::to_string(warm_.size()) + "\n";
  });
}

SandboxPool::~SandboxPool() = default;

std::string SandboxPool::WorkspaceDir(const std::string& session_id) const {
  return options_.workspaces_dir + "/" + session_id;
}

SandboxSpec SandboxPool::SpecFor(const EnvironmentSpec& env, std::string session_id,
                                 std::string workspace) const {
  SandboxSpec s;
  s.session_id = std::move(session_id);
  s.environment_id = env.id;
  s.workspace_dir = std::move(workspace);
  s.network = env.network;
  s.image = env.image.empty() ? options_.default_image : env.image;
  s.limits = options_.limits;
  return s;
}

std::optional<Attachment> SandboxPool::Attached(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(session_id);
  if (it == slots_.end()) return std::nullopt;
  return it->second.attachment;
}

void SandboxPool::EndUse(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(session_id);
  if (it == slots_.end()) return;
  if (it->second.busy > 0) --it->second.busy;
  it->second.last_used = std::chrono::steady_clock::now();
}

Task<Result<SandboxPool::Lease>> SandboxPool::Acquire(const std::string& session_id,
                                                      const EnvironmentSpec& env) {
  for (int spins = 0;; ++spins) {
    std::shared_ptr<SandboxdClient> stale;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(session_id);
      if (it != slots_.end()) {
        if (it->second.client && it->second.client->alive()) {
          ++it->second.busy;
          it->second.last_used = std::chrono::steady_clock::now();
          acquires_.With({"active"}).Inc();
          co_return Lease{it->second.client, it->second.attachment};
        }
        stale = it->second.client;  // the sandbox died: replace it
      }
      if (!stale && creating_.count(session_id) == 0) {
        creating_[session_id] = 1;
        break;
      }
    }
    if (stale) {
      co_await Evict(session_id, "lost");
      continue;
    }
    // Another call is creating this session's sandbox; wait for it.
    if (spins > 6000)
      co_return Error(ErrorCode::kUnavailable, "sandbox_failed",
                      "timed out waiting for the session's sandbox");
    co_await SleepFor(std::chrono::milliseconds(5));
  }
  auto created = co_await Create(session_id, env);
  {
    std::lock_guard lock(mu_);
    creating_.erase(session_id);
  }
  co_return created;
}

Task<Result<SandboxPool::Lease>> SandboxPool::Create(const std::string& session_id,
                                                     const EnvironmentSpec& env) {
  std::string workspace = WorkspaceDir(session_id);
  int64_t start_ns = clock_.MonotonicNs();
  std::optional<SandboxInfo> info;
  std::string source = "cold";
  // A warm sandbox can take a session whose workspace does not exist yet.
  std::error_code ec;
  if (!fs::exists(workspace, ec)) {
    std::optional<WarmBox> box;
    {
      std::lock_guard lock(mu_);
      for (auto it = warm_.begin(); it != warm_.end(); ++it) {
        if (it->env_key == EnvKey(env)) {
          box = std::move(*it);
          warm_.erase(it);
          break;
        }
      }
    }
    if (box) {
      fs::create_directories(options_.workspaces_dir, ec);
      fs::rename(box->info.workspace_dir, workspace, ec);
      if (!ec && runtime_.Assign(box->info.id, session_id, workspace)) {
        info = box->info;
        info->session_id = session_id;
        info->workspace_dir = workspace;
        source = "warm";
      } else {
        co_await StopWarm(*box);
      }
    }
  }
  if (!info) {
    if (!co_await MakeRoom()) {
      co_return Error(
          ErrorCode::kUnavailable, "capacity_exceeded",
          "all " + std::to_string(options_.max_active) + " sandboxes are busy (PINCER_MAX_ACTIVE)");
    }
    {
      std::lock_guard lock(mu_);
      ++pending_creates_;
    }
    auto made = co_await runtime_.Create(SpecFor(env, session_id, workspace));
    {
      std::lock_guard lock(mu_);
      --pending_creates_;
    }
    if (!made) co_return std::move(made).error();
    info = std::move(*made);
    boot_seconds_.With({runtime_.name()})
        .Observe(static_cast<double>(clock_.MonotonicNs() - start_ns) / 1e9);
  }
  auto client =
      co_await SandboxdClient::Connect(transport_, info->endpoint, info->token, kConnectTimeout);
  if (!client) {
    (void)co_await runtime_.Stop(info->id);
    co_return std::move(client).error();
  }
  Attachment a{*info, source, (clock_.MonotonicNs() - start_ns) / 1'000'000, clock_.NowMs()};
  if (source == "warm") a.boot_ms = 0;
  {
    std::lock_guard lock(mu_);
    Slot& slot = slots_[session_id];
    slot.attachment = a;
    slot.client = *client;
    slot.busy = 1;
    slot.last_used = std::chrono::steady_clock::now();
  }
  acquires_.With({source}).Inc();
  if (on_attached) on_attached(session_id, a);
  if (source == "warm" && options_.max_warm > 0) {
    // Replenish in the background, a little later: booting a sandbox takes a few ms of CPU
    // (namespaces, mounts, sandboxd) that would otherwise compete with the first tool call of
    // the session that just claimed one (measured: its step went from 2 to 20 ms).
    auto replenish = [](SandboxPool* self, EnvironmentSpec e) -> Task<void> {
      co_await SleepFor(kRefillDelay);
      (void)co_await self->Warm(e);
    };
    Spawn(replenish(this, env));
  }
  co_return Lease{std::move(*client), std::move(a)};
}

Task<bool> SandboxPool::MakeRoom() {
  for (;;) {
    std::string victim;
    std::optional<WarmBox> warm_victim;
    {
      std::lock_guard lock(mu_);
      int used = static_cast<int>(slots_.size() + warm_.size()) + pending_creates_;
      if (used < options_.max_active) co_return true;
      if (!warm_.empty()) {
        warm_victim = std::move(warm_.front());
        warm_.erase(warm_.begin());
      } else {
        auto oldest = std::chrono::steady_clock::time_point::max();
        for (const auto& [sid, slot] : slots_) {
          if (slot.busy == 0 && slot.last_used < oldest) {
            oldest = slot.last_used;
            victim = sid;
          }
        }
        if (victim.empty()) co_return false;
      }
    }
    if (warm_victim) {
      evictions_.With({"capacity"}).Inc();
      co_await StopWarm(*warm_victim);
    } else {
      co_await Evict(victim, "capacity");
    }
  }
}

Task<void> SandboxPool::Evict(const std::string& session_id, const std::string& reason) {
  std::optional<Slot> slot;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(session_id);
    if (it == slots_.end()) co_return;
    slot = std::move(it->second);
    slots_.erase(it);
  }
  evictions_.With({reason}).Inc();
  if (slot->client) slot->client->Close();
  auto stopped = co_await runtime_.Stop(slot->attachment.info.id);
  if (!stopped)
    log::Warn("sandbox", "stop failed")
        .Field("sandbox", slot->attachment.info.id)
        .Field("error", stopped.error().ToString());
  if (on_detached) on_detached(session_id, reason);
}

Task<Result<void>> SandboxPool::Warm(const EnvironmentSpec& env) {
  {
    std::lock_guard lock(mu_);
    // Those still booting count: a second request meanwhile must not overfill the pool.
    int for_env = warming_[EnvKey(env)];
    for (const auto& w : warm_) for_env += w.env_key == EnvKey(env);
    if (options_.max_warm <= 0 || for_env >= options_.max_warm) co_return Ok();
    ++warming_[EnvKey(env)];
  }
  auto done_warming = [this, key = EnvKey(env)] {
    std::lock_guard lock(mu_);
    if (--warming_[key] <= 0) warming_.erase(key);
  };
  if (!co_await MakeRoom()) {
    done_warming();
    co_return Ok();  // no capacity to spare for warm sandboxes
  }
  std::string workspace = options_.workspaces_dir + "/.warm";
  std::error_code ec;
  fs::create_directories(workspace, ec);
  static std::atomic<int> counter{0};
  workspace += "/" + std::to_string(clock_.NowMs()) + "-" + std::to_string(counter++);
  {
    std::lock_guard lock(mu_);
    ++pending_creates_;
  }
  auto made = co_await runtime_.Create(SpecFor(env, "", workspace));
  {
    std::lock_guard lock(mu_);
    --pending_creates_;
    if (made) warm_.push_back(WarmBox{std::move(*made), EnvKey(env)});
  }
  done_warming();
  if (!made) co_return std::move(made).error();
  co_return Ok();
}

Task<void> SandboxPool::Reap() {
  std::vector<std::string> idle;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (const auto& [sid, slot] : slots_) {
      if (slot.busy == 0 && now - slot.last_used > options_.idle_timeout) idle.push_back(sid);
    }
  }
  for (const auto& sid : idle) co_await Evict(sid, "idle");
}

Task<Result<int>> SandboxPool::Adopt(std::function<bool(const std::string&)> session_exists) {
  auto listed = co_await runtime_.ListManaged();
  if (!listed) co_return std::move(listed).error();
  int adopted = 0;
  for (auto& info : *listed) {
    bool keep = info.running && !info.session_id.empty() && session_exists(info.session_id);
    if (keep) {
      auto client = co_await SandboxdClient::Connect(transport_, info.endpoint, info.token,
                                                     std::chrono::milliseconds(2000));
      if (client) {
        Attachment a{info, "adopt", 0, clock_.NowMs()};
        {
          std::lock_guard lock(mu_);
          if (slots_.count(info.session_id) == 0) {
            Slot& slot = slots_[info.session_id];
            slot.attachment = a;
            slot.client = *client;
            slot.last_used = std::chrono::steady_clock::now();
            ++adopted;
            continue;
          }
        }
      }
    }
    (void)co_await runtime_.Stop(
        info.id);  // orphan, stopped, warm from a previous run, or duplicate
  }
  acquires_.With({"adopt"}).Inc(adopted);
  // Warm sandboxes of a previous run were stopped above: their workspaces held nothing.
  std::set<std::string> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : warm_) live.insert(w.info.workspace_dir);
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.workspaces_dir + "/.warm", ec)) {
    if (live.count(entry.path().string()) == 0) {
      std::error_code rm;
      fs::remove_all(entry.path(), rm);
    }
  }
  co_return adopted;
}

Task<void> SandboxPool::StopAll() {
  std::vector<std::string> sessions;
  std::vector<WarmBox> warm;
  {
    std::lock_guard lock(mu_);
    for (const auto& [sid, slot] : slots_) sessions.push_back(sid);
    warm.swap(warm_);
  }
  for (const auto& sid : sessions) co_await Evict(sid, "shutdown");
  for (const auto& w : warm) co_await StopWarm(w);
}

Task<void> SandboxPool::StopWarm(const WarmBox& box) {
  (void)co_await runtime_.Stop(box.info.id);
  std::error_code ec;
  fs::remove_all(box.info.workspace_dir, ec);
}

}  // namespace pincer::sandbox
