#include "sandbox/local/cgroups.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace pincer::sandbox::local {
namespace {

namespace fs = std::filesystem;

bool WriteFile(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  if (!f) return false;
  f << value;
  f.flush();
  return static_cast<bool>(f);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool Writable(const std::string& dir) { return access(dir.c_str(), W_OK) == 0; }

std::string V2Root() {
  for (const char* p : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    if (fs::exists(std::string(p) + "/cgroup.controllers")) return p;
  }
  return "";
}

}  // namespace

CgroupSupport DetectCgroups() {
  CgroupSupport s;
  std::string v2 = V2Root();
  if (!v2.empty()) {
    std::string ctrl = ReadFile(v2 + "/cgroup.controllers");
    for (const char* c : {"memory", "pids", "cpu"}) {
      if (ctrl.find(c) != std::string::npos) s.controllers.push_back(c);
    }
    if (!s.controllers.empty() && Writable(v2)) {
      s.version = "v2";
      return s;
    }
    s.controllers.clear();
  }
  for (const char* c : {"memory", "pids", "cpu"}) {
    std::string dir = std::string("/sys/fs/cgroup/") + c;
    if (fs::exists(dir + "/cgroup.procs") && Writable(dir)) s.controllers.push_back(c);
  }
  if (!s.controllers.empty()) {
    s.version = "v1";
    return s;
  }
  s.version = "none";
  s.detail =
      "no writable cgroup v1 or v2 hierarchy with memory/pids/cpu controllers; sandboxes run "
      "without memory, pids and CPU limits";
  return s;
}

Result<Cgroup> Cgroup::Create(const CgroupSupport& support, const std::string& name,
                              const Limits& limits) {
  Cgroup g;
  if (support.version == "none") return g;
  auto has = [&](const std::string& c) {
    return std::find(support.controllers.begin(), support.controllers.end(), c) !=
           support.controllers.end();
  };
  if (support.version == "v2") {
    g.v2_ = true;
    std::string root = V2Root();
    std::string parent = root + "/pincer";
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string enable;
    for (const auto& c : support.controllers) enable += "+" + c + " ";
    WriteFile(root + "/cgroup.subtree_control", enable);
    WriteFile(parent + "/cgroup.subtree_control", enable);
    std::string dir = parent + "/" + name;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error(ErrorCode::kUnavailable, "sandbox_failed",
                   "mkdir " + dir + ": " + std::strerror(errno));
    }
    g.dirs_.push_back(dir);
    g.memory_dir_ = dir;
    if (has("memory")) {
      WriteFile(dir + "/memory.max", std::to_string(limits.memory_mb << 20));
      WriteFile(dir + "/memory.swap.max", "0");
    }
    if (has("pids")) WriteFile(dir + "/pids.max", std::to_string(limits.pids));
    if (has("cpu"))
      WriteFile(dir + "/cpu.max",
                std::to_string(static_cast<int64_t>(limits.cpus * 100000)) + " 100000");
    return g;
  }
  for (const auto& c : support.controllers) {
    std::string parent = "/sys/fs/cgroup/" + c + "/pincer";
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string dir = parent + "/" + name;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error(ErrorCode::kUnavailable, "sandbox_failed",
                   "mkdir " + dir + ": " + std::strerror(errno));
    }
    g.dirs_.push_back(dir);
    if (c == "memory") {
      g.memory_dir_ = dir;
      WriteFile(dir + "/memory.limit_in_bytes", std::to_string(limits.memory_mb << 20));
      WriteFile(dir + "/memory.memsw.limit_in_bytes", std::to_string(limits.memory_mb << 20));
    } else if (c == "pids") {
      WriteFile(dir + "/pids.max", std::to_string(limits.pids));
    } else if (c == "cpu") {
      WriteFile(dir + "/cpu.cfs_period_us", "100000");
      WriteFile(dir + "/cpu.cfs_quota_us",
                std::to_string(static_cast<int64_t>(limits.cpus * 100000)));
    }
  }
  return g;
}

Cgroup Cgroup::Existing(const CgroupSupport& support, const std::string& name) {
  Cgroup g;
  if (support.version == "v2") {
    g.v2_ = true;
    g.dirs_.push_back(V2Root() + "/pincer/" + name);
    g.memory_dir_ = g.dirs_.back();
  } else if (support.version == "v1") {
    for (const auto& c : support.controllers) {
      g.dirs_.push_back("/sys/fs/cgroup/" + c + "/pincer/" + name);
      if (c == "memory") g.memory_dir_ = g.dirs_.back();
    }
  }
  return g;
}

Result<void> Cgroup::Add(int pid) const {
  for (const auto& d : dirs_) {
    if (!WriteFile(d + "/cgroup.procs", std::to_string(pid))) {
      return Error(ErrorCode::kUnavailable, "sandbox_failed", "cannot join cgroup " + d);
    }
  }
  return Ok();
}

void Cgroup::Destroy() const {
  for (int round = 0; round < 50; ++round) {
    bool any = false;
    for (const auto& d : dirs_) {
      std::istringstream procs(ReadFile(d + "/cgroup.procs"));
      int pid;
      while (procs >> pid) {
        kill(pid, SIGKILL);
        any = true;
      }
    }
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the kernel reap them
  }
  for (const auto& d : dirs_) rmdir(d.c_str());
}

bool Cgroup::OomKilled() const {
  if (memory_dir_.empty()) return false;
  if (v2_) {
    std::string events = ReadFile(memory_dir_ + "/memory.events");
    auto pos = events.find("oom_kill ");
    return pos != std::string::npos && std::atoi(events.c_str() + pos + 9) > 0;
  }
  std::string ctl = ReadFile(memory_dir_ + "/memory.oom_control");
  auto pos = ctl.find("oom_kill ");
  return pos != std::string::npos && std::atoi(ctl.c_str() + pos + 9) > 0;
}

}  // namespace pincer::sandbox::local
