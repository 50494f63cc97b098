#pragma once

// SandboxRuntime: the seam between the server and whatever isolates tool execution. Each
// backend (local namespaces via bubblewrap, Docker) starts sandboxes that run pincer-sandboxd
// on an endpoint the server can reach, and can list the sandboxes it manages so a restarted
// server re-adopts them. Every backend passes the contract tests in runtime_contract_test.cc.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/task.h"

namespace pincer::sandbox {

struct Limits {
  int64_t memory_mb = 2048;
  int64_t pids = 512;
  double cpus = 1.0;
};

struct SandboxSpec {
  std::string session_id;        // empty for a warm (unclaimed) sandbox
  std::string environment_id;    // "" = default environment
  std::string workspace_dir;     // host directory bound at /workspace (created if missing)
  std::string network = "none";  // none | unrestricted (limited arrives with the egress proxy)
  std::string image;             // Docker only: the image to run
  Limits limits;
};

struct SandboxInfo {
  std::string id;        // "sbx_…"
  std::string runtime;   // local | docker
  std::string name;      // backend name (container name, bwrap pid)
  std::string endpoint;  // where pincer-sandboxd listens: unix:PATH or tcp:HOST:PORT
  std::string token;     // for tcp endpoints
  std::string session_id;
  std::string environment_id;
  std::string workspace_dir;
  int64_t created_at = 0;
  bool running = false;
};

// A host uid/gid.
struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The start of every backend's Create: the new sandbox's identity from `spec` (a fresh id,
// created_at now) and its state directory <state_dir>/<id> with run/, where sandboxd's socket
// goes (`info.endpoint`), plus the workspace. Returns the state directory; kUnavailable
// "sandbox_failed" when a directory cannot be made.
Result<std::string> PrepareSandbox(const SandboxSpec& spec, const std::string& runtime,
                                   const std::string& state_dir, SandboxInfo& info);

class SandboxRuntime {
 public:
  virtual ~SandboxRuntime() = default;
  virtual std::string name() const = 0;
  // Starts a sandbox and returns once pincer-sandboxd answers. Errors: kUnavailable
  // "sandbox_failed" naming the step that failed.
  virtual Task<Result<SandboxInfo>> Create(const SandboxSpec& spec) = 0;
  // Stops and removes the sandbox (not its workspace). Idempotent: unknown ids succeed.
  virtual Task<Result<void>> Stop(std::string id) = 0;
  // Sandboxes this runtime started that still exist (running or not).
  virtual Task<Result<std::vector<SandboxInfo>>> ListManaged() = 0;
  // Marks `id` as belonging to `session_id` (warm sandbox claimed) so adoption finds it.
  virtual Result<void> Assign(const std::string& id, const std::string& session_id,
                              const std::string& workspace_dir) = 0;
  // The sandbox's own log (stdout/stderr of its init), last `tail` lines.
  virtual Task<Result<std::string>> Logs(std::string id, int tail) = 0;
  // Who owns a workspace on the host so that the sandbox's user can change it: what the server
  // writes into one (the files API) must belong to this uid/gid. nullopt when the sandbox's
  // user is the server's own on the host (a user namespace mapping it), so nothing needs chown.
  virtual std::optional<FileOwner> WorkspaceOwner() const { return std::nullopt; }
};

}  // namespace pincer::sandbox
