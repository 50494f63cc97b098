#pragma once

// The `local` sandbox runtime (the default): Linux namespaces via bubblewrap.
//
// Each sandbox: new user (uid 1000 inside), pid, ipc, uts, mount and — unless the environment
// allows the network — net namespaces; the host's /usr and a short list of /etc files read-only;
// the session workspace read-write at /workspace; private /tmp; all capabilities dropped,
// no_new_privs, a seccomp filter; cgroup limits for memory, pids and CPU when the host has
// them. Sandboxes are detached from the server (a restart re-adopts them) and tracked by a
// small state directory each (meta.json, the sandboxd socket, the log).

#include <memory>
#include <string>

#include "http/line_client.h"
#include "sandbox/local/cgroups.h"
#include "sandbox/runtime.h"

namespace pincer::sandbox::local {

struct LocalOptions {
  std::string state_dir;      // where per-sandbox state lives, e.g. <data>/sandboxes
  std::string sandboxd_path;  // the pincer-sandboxd binary on the host
  std::string bwrap_path = "/usr/bin/bwrap";
};

// Fails (kUnavailable) when bwrap or sandboxd is missing.
Result<std::unique_ptr<SandboxRuntime>> MakeLocalRuntime(LocalOptions options,
                                                         http::LineTransport& transport);

// What the host offers for limits (for the start-up log and /healthz).
const CgroupSupport& LocalCgroupSupport();

}  // namespace pincer::sandbox::local
