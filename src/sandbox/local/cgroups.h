#pragma once

// Resource limits for sandboxes through cgroups: v2 (memory.max, pids.max, cpu.max) when the
// unified hierarchy has the controllers, else v1 (memory, pids, cpu hierarchies). Detect()
// reports what the host offers so the server can say clearly when limits are unavailable.

#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/runtime.h"

namespace pincer::sandbox::local {

struct CgroupSupport {
  std::string version;                   // "v2", "v1" or "none"
  std::vector<std::string> controllers;  // of memory, pids, cpu: those we can use
  std::string detail;                    // why something is missing
};

CgroupSupport DetectCgroups();

class Cgroup {
 public:
  // Creates the group `pincer/<name>` with `limits` in every available controller.
  static Result<Cgroup> Create(const CgroupSupport& support, const std::string& name,
                               const Limits& limits);
  // Reopens an existing group (adoption after a restart).
  static Cgroup Existing(const CgroupSupport& support, const std::string& name);
  // Adds process `pid` (call before it starts the sandboxed workload).
  Result<void> Add(int pid) const;
  // SIGKILLs every process in the group, then removes the group directories.
  void Destroy() const;
  // True when the memory controller recorded an OOM kill in this group.
  bool OomKilled() const;
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> dirs_;  // one per hierarchy (v1) or a single one (v2)
  std::string memory_dir_;
  bool v2_ = false;
};

}  // namespace pincer::sandbox::local
