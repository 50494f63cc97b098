#include "sandboxd/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <list>
#include <memory>
#include <optional>

#include "sandboxd/exec.h"
#include "sandboxd/file_requests.h"
#include "sandboxd/fileops.h"
#include "sandboxd/protocol.h"

namespace pincer::sandboxd {
namespace {

namespace json = boost::json;

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// SIGCHLD only wakes the poll loop (through this pipe); the loop does the reaping.
int g_sigchld_pipe[2] = {-1, -1};
void OnChild(int) {
  int saved = errno;
  (void)!write(g_sigchld_pipe[1], "c", 1);
  errno = saved;
}

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

struct Conn {
  int fd = -1;
  std::string rbuf, wbuf;
  bool authed = false;
  bool dead = false;
};

// How long output pipes are still read after the command exited (what it wrote last, and what
// same-group children flushed as they were killed).
constexpr int64_t kOutputGraceMs = 250;

struct Run {
  int64_t id = 0;
  Conn* conn = nullptr;
  Child child;
  std::string out, err, stdin_data;
  size_t stdin_off = 0;
  size_t max_output = kDefaultMaxOutput;
  bool out_truncated = false, err_truncated = false;
  int64_t started = 0, deadline = 0, exited_at = 0;
  bool timed_out = false, exited = false;
  bool output_abandoned = false;  // a process that left the group kept the pipes open
  int status = 0;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions o) : options_(std::move(o)) {}

  int Run() {
    auto root = fileops::Root::Open(options_.root, "/workspace");
    if (!root.ok()) return Fail("cannot open root " + options_.root + ": " + root.error.message);
    root_.emplace(std::move(*root.value));
    if (!Listen()) return 1;
    if (!WatchChildren()) return 1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, OnSignal);
    signal(SIGINT, OnSignal);
    while (!g_stop) Loop();
    for (auto& r : runs_) KillGroup(r.child);
    return 0;
  }

 private:
  int Fail(const std::string& msg) {
    std::fprintf(stderr, "pincer-sandboxd: %s\n", msg.c_str());
    return 1;
  }

  // Orphans are reparented to us: as PID 1 of a container (the docker runtime) by the kernel,
  // elsewhere because we are a child subreaper. Either way nobody else would wait for them, and
  // their zombies would count against the pids limit until no command could start.
  bool WatchChildren() {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      return Fail(std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno)) == 0;
    }
    if (pipe2(g_sigchld_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
      return Fail(std::string("pipe2: ") + std::strerror(errno)) == 0;
    }
    struct sigaction sa {};
    sa.sa_handler = OnChild;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;  // restart blocking reads (Spawn); poll still wakes
    if (sigaction(SIGCHLD, &sa, nullptr) != 0) {
      return Fail(std::string("sigaction(SIGCHLD): ") + std::strerror(errno)) == 0;
    }
    return true;
  }

  bool Listen() {
    if (options_.listen.rfind("unix:", 0) == 0) {
      std::string path = options_.listen.substr(5);
      listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (path.size() >= sizeof(addr.sun_path)) return Fail("socket path too long: " + path) == 0;
      std::strcpy(addr.sun_path, path.c_str());
      unlink(path.c_str());
      if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        return Fail("bind " + path + ": " + std::strerror(errno)) == 0;
      }
      chmod(path.c_str(), 0600);
    } else if (options_.listen.rfind("tcp:", 0) == 0) {
      if (options_.token.empty()) return Fail("tcp listening needs --token") == 0;
      std::string hp = options_.listen.substr(4);
      size_t colon = hp.rfind(':');
      std::string host = hp.substr(0, colon);
      int port = std::atoi(hp.substr(colon + 1).c_str());
      listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      int one = 1;
      setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
        return Fail("bad host " + host) == 0;
      if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        return Fail("bind " + hp + ": " + std::strerror(errno)) == 0;
      }
    } else {
      return Fail("--listen must be unix:PATH or tcp:HOST:PORT") == 0;
    }
    if (listen(listen_fd_, 64) != 0)
      return Fail(std::string("listen: ") + std::strerror(errno)) == 0;
    std::printf("{\"msg\":\"listening\",\"listen\":\"%s\",\"pid\":%d}\n", options_.listen.c_str(),
                getpid());
    std::fflush(stdout);
    return true;
  }

  void Send(Conn* c, const json::value& v) {
    if (c == nullptr || c->dead) return;
    c->wbuf += json::serialize(v);
    c->wbuf += '\n';
  }
  void Reply(Conn* c, int64_t id, json::object o) {
    o["id"] = id;
    o["ok"] = true;
    Send(c, o);
  }
  void ReplyError(Conn* c, int64_t id, const std::string& code, const std::string& message) {
    Send(c, json::object{{"id", id},
                         {"ok", false},
                         {"error", json::object{{"code", code}, {"message", message}}}});
  }

  void Handle(Conn* c, const std::string& line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      ReplyError(c, 0, "bad_request", "request is not a JSON object");
      return;
    }
    const json::object& o = v.get_object();
    int64_t id = Int(o, "id");
    std::string op = Str(o, "op");
    bool need_token = !options_.token.empty();
    if (op == "hello") {
      if (need_token && Str(o, "token") != options_.token) {
        ReplyError(c, id, "unauthorized", "bad token");
        c->dead = true;
        return;
      }
      c->authed = true;
      Reply(c, id, {{"version", kVersion}, {"pid", getpid()}});
      return;
    }
    if (need_token && !c->authed) {
      ReplyError(c, id, "unauthorized", "send hello with the token first");
      c->dead = true;
      return;
    }
    if (op == "ping") {
      Reply(c, id, {{"version", kVersion}, {"pid", getpid()}, {"running", runs_.size()}});
    } else if (op == "cancel") {
      // Kills the process group of this connection's exec `target`; its own reply follows as
      // usual (with the signal). The connection and the sandbox stay up.
      int64_t target = Int(o, "target");
      bool found = false;
      for (auto& r : runs_) {
        if (r.conn == c && r.id == target && !r.exited) {
          KillGroup(r.child);
          found = true;
        }
      }
      Reply(c, id, {{"cancelled", found}});
    } else if (op == "exec") {
      StartExec(c, id, o);
    } else if (auto file = HandleFileRequest(*root_, op, o)) {
      if (file->error) {
        ReplyError(c, id, file->error->code, file->error->message);
      } else {
        Reply(c, id, std::move(file->fields));
      }
    } else {
      ReplyError(c, id, "bad_request", "unknown op \"" + op + "\"");
    }
  }

  void StartExec(Conn* c, int64_t id, const json::object& o) {
    ExecSpec spec;
    if (const auto* a = o.if_contains("argv"); a && a->is_array()) {
      for (const auto& s : a->get_array()) {
        if (s.is_string()) spec.argv.emplace_back(s.get_string());
      }
    }
    spec.command = Str(o, "command");
    if (spec.argv.empty() && spec.command.empty())
      return ReplyError(c, id, "bad_request", "exec needs argv or command");
    auto cwd = root_->Relative(Str(o, "cwd", "."));
    if (!cwd.ok()) return ReplyError(c, id, cwd.error.code, cwd.error.message);
    auto st = root_->Stat(*cwd.value);
    if (!st.ok() || st.value->type != "dir")
      return ReplyError(c, id, "not_found", "cwd is not a directory inside the workspace");
    spec.cwd = *cwd.value == "." ? options_.root : options_.root + "/" + *cwd.value;
    if (const auto* e = o.if_contains("env"); e && e->is_object()) {
      for (const auto& kv : e->get_object()) {
        if (kv.value().is_string())
          spec.env[std::string(kv.key())] = std::string(kv.value().get_string());
      }
    }
    std::string error;
    Child child = Spawn(spec, error);
    if (child.pid < 0) return ReplyError(c, id, "spawn_failed", error);
    runs_.emplace_back();
    sandboxd::Run& r = runs_.back();
    r.id = id;
    r.conn = c;
    r.child = child;
    r.stdin_data = Str(o, "stdin");
    r.max_output = static_cast<size_t>(
        std::clamp<int64_t>(Int(o, "max_output_bytes", kDefaultMaxOutput), 1024, 64 << 20));
    r.started = NowMs();
    r.deadline = r.started +
                 std::clamp<int64_t>(Int(o, "timeout_ms", kDefaultTimeoutMs), 1, 24 * 3600 * 1000);
    if (!error.empty()) {  // exec itself failed: the child exits 127; report it as stderr
      r.err = error + "\n";
    }
    if (r.stdin_data.empty()) {
      close(r.child.stdin_fd);
      r.child.stdin_fd = -1;
    }
  }

  void Capture(sandboxd::Run& r, int& fd, bool is_err) {
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) {
        std::string& sink = is_err ? r.err : r.out;
        bool& truncated = is_err ? r.err_truncated : r.out_truncated;
        size_t room = r.max_output > sink.size() ? r.max_output - sink.size() : 0;
        size_t take = std::min(room, static_cast<size_t>(n));
        if (take > 0) {
          sink.append(buf, take);
          Send(r.conn, json::object{{"id", r.id},
                                    {"event", is_err ? "stderr" : "stdout"},
                                    {"data", Utf8(std::string_view(buf, take))}});
        }
        if (static_cast<size_t>(n) > take) truncated = true;
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(fd);
        fd = -1;
      }
      return;
    }
  }

  void Finish(sandboxd::Run& r) {
    KillGroup(r.child);  // whatever the command left running in its group
    if (r.child.pidfd >= 0) close(r.child.pidfd);
    if (r.child.stdin_fd >= 0) close(r.child.stdin_fd);
    json::object o;
    o["stdout"] = Utf8(r.out) + (r.out_truncated ? "\n[stdout truncated at " +
                                                       std::to_string(r.max_output) + " bytes]"
                                                 : "");
    o["stderr"] =
        Utf8(r.err) +
        (r.err_truncated ? "\n[stderr truncated at " + std::to_string(r.max_output) + " bytes]"
                         : "") +
        (r.output_abandoned ? "\n[output no longer read: a background process that left the "
                              "command's process group still holds it]"
                            : "");
    o["truncated"] = r.out_truncated || r.err_truncated;
    o["timed_out"] = r.timed_out;
    o["duration_ms"] = NowMs() - r.started;
    if (WIFEXITED(r.status)) {
      o["exit_code"] = WEXITSTATUS(r.status);
      o["signal"] = nullptr;
    } else {
      o["exit_code"] = nullptr;
      int sig = WIFSIGNALED(r.status) ? WTERMSIG(r.status) : SIGKILL;
      const char* name = sigabbrev_np(sig);
      o["signal"] = std::string("SIG") + (name ? name : std::to_string(sig).c_str());
    }
    Reply(r.conn, r.id, std::move(o));
  }

  void Loop() {
    std::vector<pollfd> fds;
    enum Kind { kListen, kChild, kConn, kOut, kErr, kIn, kPid };
    struct Ref {
      Kind kind;
      void* ptr;
    };
    std::vector<Ref> refs;
    fds.push_back({listen_fd_, POLLIN, 0});
    refs.push_back({kListen, nullptr});
    fds.push_back({g_sigchld_pipe[0], POLLIN, 0});
    refs.push_back({kChild, nullptr});
    for (auto& c : conns_) {
      fds.push_back({c->fd, static_cast<short>(POLLIN | (c->wbuf.empty() ? 0 : POLLOUT)), 0});
      refs.push_back({kConn, c.get()});
    }
    int64_t now = NowMs();
    int timeout = 1000;
    for (auto& r : runs_) {
      if (r.child.stdout_fd >= 0)
        fds.push_back({r.child.stdout_fd, POLLIN, 0}), refs.push_back({kOut, &r});
      if (r.child.stderr_fd >= 0)
        fds.push_back({r.child.stderr_fd, POLLIN, 0}), refs.push_back({kErr, &r});
      if (r.child.stdin_fd >= 0)
        fds.push_back({r.child.stdin_fd, POLLOUT, 0}), refs.push_back({kIn, &r});
      if (!r.exited && r.child.pidfd >= 0)
        fds.push_back({r.child.pidfd, POLLIN, 0}), refs.push_back({kPid, &r});
      if (!r.exited) timeout = static_cast<int>(std::clamp<int64_t>(r.deadline - now, 0, timeout));
      if (r.exited && (r.child.stdout_fd >= 0 || r.child.stderr_fd >= 0)) {
        timeout =
            static_cast<int>(std::clamp<int64_t>(r.exited_at + kOutputGraceMs - now, 0, timeout));
      }
    }
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) return;
    for (size_t i = 0; i < fds.size() && n > 0; ++i) {
      if (fds[i].revents == 0) continue;
      Ref ref = refs[i];
      if (ref.kind == kListen) {
        Accept();
      } else if (ref.kind == kChild) {
        char drain[256];
        while (read(g_sigchld_pipe[0], drain, sizeof(drain)) > 0) {
        }
      } else if (ref.kind == kConn) {
        Service(static_cast<Conn*>(ref.ptr), fds[i].revents);
      } else {
        auto& r = *static_cast<sandboxd::Run*>(ref.ptr);
        if (ref.kind == kOut) Capture(r, r.child.stdout_fd, false);
        if (ref.kind == kErr) Capture(r, r.child.stderr_fd, true);
        if (ref.kind == kIn) FeedStdin(r);
        // kPid: the process exited; ReapChildren below collects it.
      }
    }
    // Every pass, whatever woke us (WNOHANG makes it one cheap syscall when nothing exited).
    ReapChildren();
    now = NowMs();
    for (auto it = runs_.begin(); it != runs_.end();) {
      if (!it->exited && now >= it->deadline) {
        it->timed_out = true;
        KillGroup(it->child);
      }
      if (it->exited && (it->child.stdout_fd >= 0 || it->child.stderr_fd >= 0) &&
          now >= it->exited_at + kOutputGraceMs) {
        // The command is done, but something it started in a session of its own (setsid, a
        // daemon) still holds its output: stop reading rather than wait for that process.
        for (int* fd : {&it->child.stdout_fd, &it->child.stderr_fd}) {
          if (*fd >= 0) Capture(*it, *fd, fd == &it->child.stderr_fd);
          if (*fd >= 0) close(*fd), *fd = -1;
        }
        it->output_abandoned = true;
      }
      if (it->exited && it->child.stdout_fd < 0 && it->child.stderr_fd < 0) {
        Finish(*it);
        it = runs_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = conns_.begin(); it != conns_.end();) {
      Conn* c = it->get();
      if (c->dead && c->wbuf.empty()) {
        for (auto& r : runs_) {
          if (r.conn == c) {
            KillGroup(r.child);
            r.conn = nullptr;
          }
        }
        close(c->fd);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Waits for every exited child. A tool process's status goes to its run (waiting for it by
  // pid alone would leave the orphans); any other child is an orphan and is just collected.
  void ReapChildren() {
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid < 0 && errno == EINTR) continue;
      if (pid <= 0) return;  // none exited yet, or no children at all
      for (auto& r : runs_) {
        if (!r.exited && r.child.pid == pid) {
          r.exited = true;
          r.exited_at = NowMs();
          r.status = status;
          KillGroup(r.child);  // so pipes held open by leftovers reach EOF
          break;
        }
      }
    }
  }

  void FeedStdin(sandboxd::Run& r) {
    while (r.stdin_off < r.stdin_data.size()) {
      ssize_t n = write(r.child.stdin_fd, r.stdin_data.data() + r.stdin_off,
                        r.stdin_data.size() - r.stdin_off);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        break;
      }
      r.stdin_off += static_cast<size_t>(n);
    }
    close(r.child.stdin_fd);
    r.child.stdin_fd = -1;
  }

  void Accept() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->authed = options_.token.empty();
      conns_.push_back(std::move(c));
    }
  }

  void Service(Conn* c, short revents) {
    if (revents & POLLOUT) {
      ssize_t n = write(c->fd, c->wbuf.data(), c->wbuf.size());
      if (n > 0) c->wbuf.erase(0, static_cast<size_t>(n));
      if (n < 0 && errno != EAGAIN) {
        c->wbuf.clear();
        c->dead = true;
      }
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      ssize_t n = read(c->fd, buf, sizeof(buf));
      if (n <= 0) {
        if (n == 0 || errno != EAGAIN) {
          c->wbuf.clear();
          c->dead = true;
        }
        return;
      }
      c->rbuf.append(buf, static_cast<size_t>(n));
      size_t nl;
      while (!c->dead && (nl = c->rbuf.find('\n')) != std::string::npos) {
        std::string line = c->rbuf.substr(0, nl);
        c->rbuf.erase(0, nl + 1);
        if (!line.empty()) Handle(c, line);
      }
      if (c->rbuf.size() > kMaxLineBytes) {
        ReplyError(c, 0, "too_large", "request line too long");
        c->dead = true;
      }
    }
  }

  DaemonOptions options_;
  std::optional<fileops::Root> root_;
  int listen_fd_ = -1;
  std::list<std::unique_ptr<Conn>> conns_;
  std::list<sandboxd::Run> runs_;
};

}  // namespace

int RunDaemon(const DaemonOptions& options) { return Daemon(options).Run(); }

}  // namespace pincer::sandboxd
