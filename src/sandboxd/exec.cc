#include "sandboxd/exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pincer::sandboxd {
namespace {

void CloseBoth(int p[2]) {
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
}

}  // namespace

Child Spawn(const ExecSpec& spec, std::string& error) {
  Child c;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      pipe2(status, O_CLOEXEC) != 0) {
    error = std::string("pipe2: ") + std::strerror(errno);
    CloseBoth(in), CloseBoth(out), CloseBoth(err), CloseBoth(status);
    return c;
  }
  std::vector<std::string> argv = spec.argv;
  if (argv.empty()) argv = {"/bin/sh", "-c", spec.command};
  std::vector<std::string> env_strings = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/workspace",
      "LANG=C.UTF-8", "TERM=dumb"};
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    CloseBoth(in), CloseBoth(out), CloseBoth(err), CloseBoth(status);
    return c;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    setsid();  // new session and process group; pgid == pid
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(status[1], &e, sizeof(e));
      _exit(127);
    }
    execvpe(cargv[0], cargv.data(), cenv.data());
    int e = errno;
    (void)!write(status[1], &e, sizeof(e));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(status[1]);
  int child_errno = 0;
  ssize_t n = read(status[0], &child_errno, sizeof(child_errno));  // EOF on successful exec
  close(status[0]);
  c.pid = pid;
  c.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  c.stdin_fd = in[1];
  c.stdout_fd = out[0];
  c.stderr_fd = err[0];
  for (int fd : {c.stdin_fd, c.stdout_fd, c.stderr_fd})
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (n == sizeof(child_errno)) {
    error = std::string(spec.cwd.empty() || child_errno != ENOENT ? "execve " : "chdir/execve ") +
            argv[0] + ": " + std::strerror(child_errno);
  }
  return c;
}

void KillGroup(const Child& child) {
  if (child.pid > 0) kill(-child.pid, SIGKILL);
}

}  // namespace pincer::sandboxd
