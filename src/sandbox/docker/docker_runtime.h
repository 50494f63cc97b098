#pragma once

// The `docker` sandbox runtime: one container per sandbox through the Docker Engine API on its
// unix socket (our HTTP client; no docker CLI). Any image works: pincer-sandboxd is bind-mounted
// read-only and runs as the container's command, listening on a unix socket in a bind-mounted
// host directory. Limits via HostConfig (Memory, PidsLimit, NanoCpus), all capabilities dropped,
// no-new-privileges, read-only root filesystem with a private /tmp, network none or bridge per
// environment. Containers carry labels (managed-by=pincer, pincer.installation,
// pincer.sandbox-id, …) so a restarted server finds and re-adopts them. pincer.installation is a
// random id kept in `state_dir/installation-id`: ListManaged returns only this installation's
// containers, so servers with different data dirs can share one Docker daemon.

#include <memory>
#include <string>

#include "http/client.h"
#include "http/line_client.h"
#include "sandbox/runtime.h"

namespace pincer::sandbox::docker {

struct DockerOptions {
  std::string socket = "/var/run/docker.sock";
  std::string state_dir;      // per-sandbox run directories and metadata
  std::string sandboxd_path;  // pincer-sandboxd on the host
  std::string api_version = "v1.41";
};

// Fails (kUnavailable) when the Docker daemon does not answer on the socket.
Task<Result<std::unique_ptr<SandboxRuntime>>> MakeDockerRuntime(DockerOptions options,
                                                                http::HttpClient& client,
                                                                http::LineTransport& transport);

// Splits Docker's multiplexed log stream (8-byte frame headers) into plain text.
std::string DemuxLogs(std::string_view raw);

}  // namespace pincer::sandbox::docker
