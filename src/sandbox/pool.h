#pragma once

// SandboxPool: which sandbox serves which session.
//
// - A session's sandbox is created lazily, at its first tool call, and kept between turns.
// - Warm sandboxes (per environment, up to max_warm) are booted ahead of time and claimed by
//   new sessions: the warm workspace directory is renamed to the session's.
// - At most max_active sandboxes live at once (warm ones included); the least recently used
//   session sandbox that is not running a tool is evicted to make room, else the acquire fails
//   with kUnavailable "capacity_exceeded".
// - Sandboxes idle longer than idle_timeout are stopped by Reap(). Workspaces always survive:
//   they live on the host and the next sandbox mounts them again.
// - Adopt() re-attaches sandboxes that outlived a server restart and stops orphans.
// Thread-safe.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "sandbox/runtime.h"
#include "sandbox/sandboxd_client.h"

namespace pincer::sandbox {

struct PoolOptions {
  std::string workspaces_dir;  // <data>/workspaces; a session's workspace is <dir>/<session_id>
  int max_active = 32;
  int max_warm = 0;
  std::chrono::milliseconds idle_timeout{600'000};
  Limits limits;
  std::string default_image;  // for runtimes that run images
};

// What a sandbox is for: the environment's id and its isolation settings.
struct EnvironmentSpec {
  std::string id;  // "" = no environment
  std::string network = "unrestricted";
  std::string image;
};

struct Attachment {
  SandboxInfo info;
  std::string source;  // cold | warm | adopt
  int64_t boot_ms = 0;
  int64_t claimed_at = 0;
};

class SandboxPool {
 public:
  SandboxPool(SandboxRuntime& runtime, http::LineTransport& transport, Clock& clock,
              metrics::Registry& metrics, PoolOptions options);
  ~SandboxPool();

  struct Lease {
    std::shared_ptr<SandboxdClient> client;
    Attachment attachment;
  };
  // The session's sandbox (created if needed). Marks the session busy until EndUse().
  Task<Result<Lease>> Acquire(const std::string& session_id, const EnvironmentSpec& env);
  void EndUse(const std::string& session_id);

  // Stops the session's sandbox (its workspace stays). No-op when none.
  Task<void> Evict(const std::string& session_id, const std::string& reason);
  // Boots one warm sandbox for `env` (no-op when the warm pool is full or disabled).
  Task<Result<void>> Warm(const EnvironmentSpec& env);
  // Stops sandboxes idle longer than the idle timeout.
  Task<void> Reap();
  // Re-attaches sandboxes left by a previous run whose session still exists (per
  // `session_exists`) and stops the rest. Returns how many were adopted.
  Task<Result<int>> Adopt(std::function<bool(const std::string&)> session_exists);
  // Stops everything this process started or adopted (used by tests; the server leaves
  // sandboxes running across restarts).
  Task<void> StopAll();

  std::optional<Attachment> Attached(const std::string& session_id) const;
  std::string WorkspaceDir(const std::string& session_id) const;
  SandboxRuntime& runtime() { return runtime_; }

  // Called on attach/detach (to publish session.container_attached / _detached).
  std::function<void(const std::string& session_id, const Attachment&)> on_attached;
  std::function<void(const std::string& session_id, const std::string& reason)> on_detached;

 private:
  struct Slot {
    Attachment attachment;
    std::shared_ptr<SandboxdClient> client;
    int busy = 0;
    std::chrono::steady_clock::time_point last_used;
  };
  struct WarmBox {
    SandboxInfo info;
    std::string env_key;
  };
  // Stops a warm sandbox nobody claimed and removes its (unused) workspace.
  Task<void> StopWarm(const WarmBox& box);
  static std::string EnvKey(const EnvironmentSpec& env) {
    return env.id + "|" + env.network + "|" + env.image;
  }
  SandboxSpec SpecFor(const EnvironmentSpec& env, std::string session_id,
                      std::string workspace) const;
  // Frees one slot if at capacity; false when everything is busy.
  Task<bool> MakeRoom();
  Task<Result<Lease>> Create(const std::string& session_id, const EnvironmentSpec& env);

  SandboxRuntime& runtime_;
  http::LineTransport& transport_;
  Clock& clock_;
  PoolOptions options_;
  metrics::Family<metrics::Counter>& acquires_;
  metrics::Family<metrics::Histogram>& boot_seconds_;
  metrics::Family<metrics::Counter>& evictions_;

  mutable std::mutex mu_;
  std::map<std::string, Slot> slots_;  // by session id
  std::vector<WarmBox> warm_;
  std::map<std::string, int> creating_;  // session id -> waiting acquirers (dedupe)
  int pending_creates_ = 0;
  std::map<std::string, int> warming_;  // env key -> warm sandboxes being created
};

}  // namespace pincer::sandbox
