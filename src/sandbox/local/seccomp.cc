#include "sandbox/local/seccomp.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pincer::sandbox::local {
namespace {

const char* const kDenied[] = {"mount",
                               "umount2",
                               "pivot_root",
                               "move_mount",
                               "open_tree",
                               "fsopen",
                               "fsmount",
                               "fsconfig",
                               "ptrace",
                               "process_vm_readv",
                               "process_vm_writev",
                               "kexec_load",
                               "kexec_file_load",
                               "bpf",
                               "keyctl",
                               "add_key",
                               "request_key",
                               "perf_event_open",
                               "init_module",
                               "finit_module",
                               "delete_module",
                               "reboot",
                               "swapon",
                               "swapoff",
                               "setns",
                               "unshare",
                               "open_by_handle_at",
                               "name_to_handle_at",
                               "userfaultfd",
                               "iopl",
                               "ioperm",
                               "acct",
                               "settimeofday",
                               "clock_settime",
                               "clock_adjtime",
                               "adjtimex",
                               "syslog",
                               "quotactl",
                               "lookup_dcookie",
                               "vhangup",
                               "nfsservctl",
                               "uselib",
                               "ustat",
                               "sysfs",
                               "_sysctl",
                               "kcmp",
                               nullptr};

}  // namespace

const char* const* DeniedSyscalls() { return kDenied; }

Result<int> SeccompFilterFd() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return Internal("seccomp_init failed");
  for (const char* const* name = kDenied; *name; ++name) {
    int nr = seccomp_syscall_resolve_name(*name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0) {
      seccomp_release(ctx);
      return Internal(std::string("seccomp_rule_add ") + *name);
    }
  }
  int fd = memfd_create("pincer-seccomp", 0);  // inherited by bwrap on purpose
  if (fd < 0) {
    seccomp_release(ctx);
    return SysError("memfd_create", errno);
  }
  int rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  if (rc != 0) {
    close(fd);
    return Internal("seccomp_export_bpf failed: " + std::string(std::strerror(-rc)));
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace pincer::sandbox::local
