#pragma once

// The sandboxd event loop: one thread, poll(2) over the listening socket, client connections
// and the pipes/pidfds of running tool processes. File operations run inline (they are quick
// and bounded); exec streams output as it arrives and replies when the process has exited and
// its pipes are drained. A client that disconnects has its running processes killed. The daemon
// is a child subreaper (and PID 1 in a container): it reaps every orphan its tools leave, so
// zombies never pile up against the sandbox's pids limit.

#include <string>

namespace pincer::sandboxd {

struct DaemonOptions {
  std::string listen;  // "unix:/path/to/sock" or "tcp:HOST:PORT"
  std::string root = "/workspace";
  std::string token;  // required in `hello` when non-empty (always required for tcp)
};

// Runs until SIGTERM/SIGINT. Returns a process exit code; errors are printed to stderr.
int RunDaemon(const DaemonOptions& options);

}  // namespace pincer::sandboxd
