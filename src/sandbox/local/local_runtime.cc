#include "sandbox/local/local_runtime.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/async.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/log.h"
#include "sandbox/local/seccomp.h"

namespace pincer::sandbox::local {
namespace {

namespace fs = std::filesystem;

const char* const kEtcFiles[] = {"/etc/resolv.conf",
                                 "/etc/hosts",
                                 "/etc/nsswitch.conf",
                                 "/etc/host.conf",
                                 "/etc/gai.conf",
                                 "/etc/ld.so.cache",
                                 "/etc/localtime",
                                 "/etc/mime.types",
                                 "/etc/ssl",
                                 "/etc/ca-certificates",
                                 "/etc/alternatives",
                                 "/etc/python3",
                                 "/etc/python3.11",
                                 "/etc/gitconfig",
                                 "/etc/debian_version",
                                 "/etc/os-release",
                                 nullptr};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) return false;
    f << content;
    if (!f) return false;
  }
  return rename(tmp.c_str(), path.c_str()) == 0;
}

bool ProcessIsBwrap(int pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::string cmd = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  return cmd.find("bwrap") != std::string::npos;
}

SandboxInfo FromMeta(const json::object& m) {
  auto str = [&](const char* k) {
    const auto* v = m.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  SandboxInfo i;
  i.id = str("id");
  i.runtime = "local";
  i.endpoint = str("endpoint");
  i.session_id = str("session_id");
  i.environment_id = str("environment_id");
  i.workspace_dir = str("workspace_dir");
  const auto* pid = m.if_contains("pid");
  int p = pid && pid->is_int64() ? static_cast<int>(pid->get_int64()) : 0;
  i.name = "bwrap:" + std::to_string(p);
  const auto* created = m.if_contains("created_at");
  i.created_at = created && created->is_int64() ? created->get_int64() : 0;
  i.running = ProcessIsBwrap(p);
  return i;
}

class LocalRuntime final : public SandboxRuntime {
 public:
  LocalRuntime(LocalOptions options, http::LineTransport& transport)
      : options_(std::move(options)), transport_(transport) {}

  std::string name() const override { return "local"; }

  Task<Result<SandboxInfo>> Create(const SandboxSpec& spec) override {
    SandboxInfo info;
    auto prepared = PrepareSandbox(spec, "local", options_.state_dir, info);
    if (!prepared) co_return std::move(prepared).error();
    const std::string& dir = *prepared;
    WriteFile(dir + "/passwd",
              "root:x:0:0:root:/root:/bin/sh\npincer:x:1000:1000:pincer:/workspace:/bin/"
              "bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    WriteFile(dir + "/group", "root:x:0:\npincer:x:1000:\nnogroup:x:65534:\n");

    auto cgroup = Cgroup::Create(LocalCgroupSupport(), info.id, spec.limits);
    if (!cgroup) co_return std::move(cgroup).error();
    auto seccomp = SeccompFilterFd();
    if (!seccomp) co_return std::move(seccomp).error();

    std::vector<std::string> args = BwrapArgs(spec, dir, *seccomp);
    int pid = SpawnDetached(args, dir + "/sandbox.log", *cgroup, *seccomp);
    close(*seccomp);
    if (pid <= 0) {
      cgroup->Destroy();
      co_return Failed("start bwrap", std::strerror(errno));
    }
    json::object meta{{"id", info.id},
                      {"pid", pid},
                      {"endpoint", info.endpoint},
                      {"session_id", info.session_id},
                      {"environment_id", info.environment_id},
                      {"workspace_dir", info.workspace_dir},
                      {"created_at", info.created_at},
                      {"network", spec.network}};
    WriteFile(dir + "/meta.json", ToJson(meta));
    info.name = "bwrap:" + std::to_string(pid);

    // Ready once sandboxd accepts connections; fail fast if bwrap died.
    std::string sock = dir + "/run/sandboxd.sock";
    for (int i = 0; i < 5000; ++i) {
      if (access(sock.c_str(), F_OK) == 0) break;
      if (!ProcessIsBwrap(pid)) {
        std::string log = ReadFile(dir + "/sandbox.log");
        (void)co_await Stop(info.id);
        co_return Failed("sandbox exited during start", log.substr(0, 2000));
      }
      co_await SleepFor(std::chrono::milliseconds(1));
    }
    http::LineHandlers none;
    auto probe = co_await transport_.Connect(info.endpoint, none, std::chrono::milliseconds(5000));
    if (!probe) {
      std::string log = ReadFile(dir + "/sandbox.log");
      (void)co_await Stop(info.id);
      co_return Failed("sandboxd did not come up",
                       probe.error().message + "; log: " + log.substr(0, 2000));
    }
    (*probe)->Close();
    info.running = true;
    co_return info;
  }

  Task<Result<void>> Stop(std::string id) override {
    if (!IsValidId(id, "sbx")) co_return Ok();
    std::string dir = options_.state_dir + "/" + id;
    auto meta = ParseJson(ReadFile(dir + "/meta.json"));
    if (meta && meta->is_object()) {
      const auto* pid = meta->get_object().if_contains("pid");
      int p = pid && pid->is_int64() ? static_cast<int>(pid->get_int64()) : 0;
      if (ProcessIsBwrap(p)) kill(p, SIGKILL);
    }
    Cgroup::Existing(LocalCgroupSupport(), id).Destroy();
    std::error_code ec;
    fs::remove_all(dir, ec);
    co_return Ok();
  }

  Task<Result<std::vector<SandboxInfo>>> ListManaged() override {
    std::vector<SandboxInfo> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.state_dir, ec)) {
      auto meta = ParseJson(ReadFile(entry.path().string() + "/meta.json"));
      if (meta && meta->is_object()) out.push_back(FromMeta(meta->get_object()));
    }
    co_return out;
  }

  Result<void> Assign(const std::string& id, const std::string& session_id,
                      const std::string& workspace_dir) override {
    std::string path = options_.state_dir + "/" + id + "/meta.json";
    auto meta = ParseJson(ReadFile(path));
    if (!meta || !meta->is_object()) return NotFound("sandbox_not_found", "no sandbox " + id);
    meta->get_object()["session_id"] = session_id;
    meta->get_object()["workspace_dir"] = workspace_dir;
    if (!WriteFile(path, ToJson(*meta))) return SysError("write " + path, errno);
    return Ok();
  }

  Task<Result<std::string>> Logs(std::string id, int tail) override {
    std::string log = ReadFile(options_.state_dir + "/" + id + "/sandbox.log");
    size_t pos = log.size();
    for (int lines = 0; pos > 0 && lines <= tail;) {
      --pos;
      if (log[pos] == '\n' && pos + 1 < log.size()) ++lines;
      if (lines > tail) {
        ++pos;
        break;
      }
    }
    co_return log.substr(pos);
  }

 private:
  static Error Failed(const std::string& step, const std::string& why) {
    return Error(ErrorCode::kUnavailable, "sandbox_failed", "local sandbox: " + step + ": " + why);
  }

  std::vector<std::string> BwrapArgs(const SandboxSpec& spec, const std::string& dir,
                                     int seccomp_fd) {
    std::vector<std::string> a = {options_.bwrap_path,
                                  "--unshare-user",
                                  "--uid",
                                  "1000",
                                  "--gid",
                                  "1000",
                                  "--unshare-pid",
                                  "--unshare-ipc",
                                  "--unshare-uts",
                                  "--unshare-cgroup-try"};
    if (spec.network != "unrestricted") a.push_back("--unshare-net");
    for (const char* x :
         {"--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
          "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin",
          "/sbin", "--symlink", "usr/lib", "/lib"}) {
      a.push_back(x);
    }
    if (fs::exists("/usr/lib64")) {
      a.insert(a.end(), {"--symlink", "usr/lib64", "/lib64"});
    }
    for (const char* const* f = kEtcFiles; *f; ++f) a.insert(a.end(), {"--ro-bind-try", *f, *f});
    a.insert(a.end(), {"--ro-bind",
                       dir + "/passwd",
                       "/etc/passwd",
                       "--ro-bind",
                       dir + "/group",
                       "/etc/group",
                       "--proc",
                       "/proc",
                       "--dev",
                       "/dev",
                       "--tmpfs",
                       "/tmp",
                       "--dir",
                       "/run",
                       "--bind",
                       dir + "/run",
                       "/run/pincer",
                       "--ro-bind",
                       options_.sandboxd_path,
                       "/run/pincer-sandboxd",
                       "--bind",
                       spec.workspace_dir,
                       "/workspace",
                       "--chdir",
                       "/workspace",
                       "--clearenv",
                       "--setenv",
                       "HOME",
                       "/workspace",
                       "--setenv",
                       "LANG",
                       "C.UTF-8",
                       "--setenv",
                       "USER",
                       "pincer",
                       "--setenv",
                       "PATH",
                       "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "--remount-ro",
                       "/",
                       "--seccomp",
                       std::to_string(seccomp_fd),
                       "/run/pincer-sandboxd",
                       "--listen",
                       "unix:/run/pincer/sandboxd.sock",
                       "--root",
                       "/workspace"});
    return a;
  }

  // Starts bwrap detached from the server (its own session, reparented to init) so it
  // outlives a server restart. Returns bwrap's pid, or -1.
  static int SpawnDetached(const std::vector<std::string>& args, const std::string& log_path,
                           const Cgroup& cgroup, int keep_fd) {
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& s : copy) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> procs;
    for (const auto& d : cgroup.dirs()) procs.push_back(d + "/cgroup.procs");
    int pipefd[2], execfd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    if (pipe2(execfd, O_CLOEXEC) != 0) return -1;  // closes on a successful exec
    pid_t middle = fork();
    if (middle < 0) return -1;
    if (middle == 0) {
      setsid();
      // bwrap's --die-with-parent binds it to whoever is its parent when it starts: that must
      // be init (or a subreaper), not this short-lived process, or bwrap is killed when we exit
      // (a race that lost under load). So bwrap is executed only once we are gone: the gate's
      // write end is ours alone, and its EOF says so.
      int gate[2];
      if (pipe2(gate, O_CLOEXEC) != 0) _exit(1);
      pid_t pid = fork();
      if (pid == 0) {
        close(gate[1]);
        char byte;
        while (read(gate[0], &byte, 1) < 0 && errno == EINTR) {
        }
        // Join the cgroups before exec so every sandboxed process is accounted.
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%d", getpid());
        for (const auto& p : procs) {
          int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC);
          if (fd >= 0) {
            (void)!write(fd, buf, static_cast<size_t>(len));
            close(fd);
          }
        }
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (null >= 0) dup2(null, 0);
        if (log >= 0) {
          dup2(log, 1);
          dup2(log, 2);
        }
        // Nothing of the server (listening sockets, the database) may leak into the sandbox.
        syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
        fcntl(keep_fd, F_SETFD, 0);
        // Nor its environment (provider keys): bwrap's own environ is readable from inside as
        // /proc/1/environ, and --clearenv only cleans the child's.
        char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
        char* clean_env[] = {path_env, nullptr};
        execve(argv[0], argv.data(), clean_env);
        int e = errno;
        (void)!write(execfd[1], &e, sizeof(e));
        _exit(127);
      }
      (void)!write(pipefd[1], &pid, sizeof(pid));
      _exit(0);
    }
    close(pipefd[1]);
    close(execfd[1]);
    pid_t pid = -1;
    if (read(pipefd[0], &pid, sizeof(pid)) != sizeof(pid)) pid = -1;
    close(pipefd[0]);
    int exec_errno = 0;
    if (read(execfd[0], &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
      errno = exec_errno;
      pid = -1;
    }
    close(execfd[0]);
    waitpid(middle, nullptr, 0);
    return pid;
  }

  LocalOptions options_;
  http::LineTransport& transport_;
};

}  // namespace

const CgroupSupport& LocalCgroupSupport() {
  static const CgroupSupport support = DetectCgroups();
  return support;
}

Result<std::unique_ptr<SandboxRuntime>> MakeLocalRuntime(LocalOptions options,
                                                         http::LineTransport& transport) {
  if (access(options.bwrap_path.c_str(), X_OK) != 0) {
    return Error(ErrorCode::kUnavailable, "sandbox_unavailable",
                 "bubblewrap not found at " + options.bwrap_path + " (apt-get install bubblewrap)");
  }
  if (access(options.sandboxd_path.c_str(), X_OK) != 0) {
    return Error(
        ErrorCode::kUnavailable, "sandbox_unavailable",
        "pincer-sandboxd not found at " + options.sandboxd_path + " (set PINCER_SANDBOXD_BIN)");
  }
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) return SysError("mkdir " + options.state_dir, ec.value());
  return std::unique_ptr<SandboxRuntime>(new LocalRuntime(std::move(options), transport));
}

}  // namespace pincer::sandbox::local
