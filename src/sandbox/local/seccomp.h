#pragma once

// The seccomp filter every local sandbox runs under: system calls a tool never needs and that
// widen the kernel attack surface (mount, ptrace, kexec, bpf, keyctl, perf_event_open, module
// loading, reboot, …) fail with EPERM. Everything else is allowed.

#include "common/result.h"

namespace pincer::sandbox::local {

// Writes the compiled BPF program to a new memfd (offset 0) and returns the fd, ready to hand
// to `bwrap --seccomp FD`.
Result<int> SeccompFilterFd();

// The names of the denied system calls (for docs and tests).
const char* const* DeniedSyscalls();

}  // namespace pincer::sandbox::local
