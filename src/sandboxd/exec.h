#pragma once

// Starting a tool process: its own session and process group (so a timeout or cancel kills
// everything it spawned), pipes for stdin/stdout/stderr, a pidfd to learn when it exits.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace pincer::sandboxd {

struct ExecSpec {
  std::vector<std::string> argv;           // run directly when set
  std::string command;                     // else: /bin/sh -c command
  std::string cwd;                         // absolute, already checked to be inside the root
  std::map<std::string, std::string> env;  // added to a minimal default environment
};

struct Child {
  pid_t pid = -1;
  int pidfd = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Starts the process. On failure returns pid -1 and sets `error` (e.g. "execve: No such file").
Child Spawn(const ExecSpec& spec, std::string& error);

// SIGKILLs the child's whole process group.
void KillGroup(const Child& child);

}  // namespace pincer::sandboxd
