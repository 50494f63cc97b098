// pincer-sandboxd as a black box: start the binary on a unix socket and speak the protocol.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "common/json.h"

namespace pincer {
namespace {

namespace fs = std::filesystem;

// The states ('S', 'Z', …) of the direct children of `pid`.
std::vector<char> ChildStates(pid_t pid) {
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) +
                         "/children");
  std::vector<char> states;
  for (pid_t child; children >> child;) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string line((std::istreambuf_iterator<char>(stat)), {});
    size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size()) states.push_back(line[paren + 2]);
  }
  return states;
}

class SandboxdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pincer-sbd-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_ / "ws");
    sock_ = (dir_ / "s.sock").string();
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      execl(PINCER_SANDBOXD_BIN, "pincer-sandboxd", "--listen", ("unix:" + sock_).c_str(), "--root",
            (dir_ / "ws").c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    char buf[256];
    ASSERT_GT(read(out[0], buf, sizeof(buf)), 0);  // the "listening" line
    close(out[0]);
    Connect();
  }
  void TearDown() override {
    close(fd_);
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    fs::remove_all(dir_);
  }
  void Connect() {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, sock_.c_str());
    ASSERT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  }
  void Send(json::object req) {
    std::string line = ToJson(req) + "\n";
    ASSERT_EQ(write(fd_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  }
  // Next message from the daemon (deadline 10 s).
  json::object Next() {
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return ParseJson(line)->as_object();
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10000) <= 0) return {};
      char tmp[65536];
      ssize_t n = read(fd_, tmp, sizeof(tmp));
      if (n <= 0) return {};
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // The final reply for `id`, collecting streamed stdout along the way.
  json::object Call(json::object req, std::string* streamed = nullptr) {
    int64_t id = ++next_id_;
    req["id"] = id;
    Send(req);
    for (;;) {
      json::object m = Next();
      if (m.empty()) return {};
      if (m.contains("event")) {
        if (streamed && m.at("event").as_string() == "stdout")
          *streamed += m.at("data").as_string();
        continue;
      }
      if (m.at("id").as_int64() == id) return m;
    }
  }

  fs::path dir_;
  std::string sock_, buf_;
  pid_t pid_ = -1;
  int fd_ = -1;
  int64_t next_id_ = 0;
};

TEST_F(SandboxdTest, ExecReportsOutputExitCodeAndStreams) {
  std::string streamed;
  auto r = Call({{"op", "exec"}, {"command", "echo hello; echo oops >&2; exit 3"}}, &streamed);
  ASSERT_TRUE(r.at("ok").as_bool()) << ToJson(r);
  EXPECT_EQ(r.at("stdout").as_string(), "hello\n");
  EXPECT_EQ(r.at("stderr").as_string(), "oops\n");
  EXPECT_EQ(r.at("exit_code").as_int64(), 3);
  EXPECT_EQ(streamed, "hello\n");
  auto a = Call({{"op", "exec"}, {"argv", json::array{"cat"}}, {"stdin", "piped in"}});
  EXPECT_EQ(a.at("stdout").as_string(), "piped in");
  auto cwd = Call({{"op", "exec"}, {"command", "pwd"}, {"cwd", "."}});
  EXPECT_EQ(cwd.at("stdout").as_string(), (dir_ / "ws").string() + "\n");
  auto missing = Call({{"op", "exec"}, {"argv", json::array{"/no/such/binary"}}});
  EXPECT_EQ(missing.at("exit_code").as_int64(), 127);
  EXPECT_NE(std::string(missing.at("stderr").as_string()).find("No such file"), std::string::npos);
}

TEST_F(SandboxdTest, TimeoutKillsTheWholeProcessGroup) {
  auto start = std::chrono::steady_clock::now();
  auto r = Call({{"op", "exec"},
                 {"command", "(sleep 31.4159; echo leaked > leaked.txt) & sleep 31.4159"},
                 {"timeout_ms", 300}});
  ASSERT_TRUE(r.at("ok").as_bool());
  EXPECT_TRUE(r.at("timed_out").as_bool());
  EXPECT_EQ(r.at("signal").as_string(), "SIGKILL");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The background child died with the group: nothing of it is left running.
  auto ps = Call({{"op", "exec"}, {"command", "pgrep -f '[s]leep 31.4159' || true"}});
  EXPECT_EQ(ps.at("stdout").as_string(), "");
}

TEST_F(SandboxdTest, AProcessThatLeftTheGroupDoesNotHoldTheCallOpen) {
  // setsid puts `sleep` out of reach of the group kill; it inherits stdout and stderr.
  auto start = std::chrono::steady_clock::now();
  // The shell waits until `sleep` is in its own session (else the group kill could win the race).
  auto r = Call({{"op", "exec"},
                 {"command",
                  "echo before; setsid sh -c 'touch escaped; exec sleep 8' & "
                  "while [ ! -e escaped ]; do sleep 0.01; done; echo after"},
                 {"timeout_ms", 20000}});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(4));
  EXPECT_EQ(r.at("exit_code").as_int64(), 0);
  EXPECT_FALSE(r.at("timed_out").as_bool());
  EXPECT_EQ(r.at("stdout").as_string(), "before\nafter\n");
  EXPECT_NE(r.at("stderr").as_string().find("output no longer read"), std::string::npos) << r;
}

TEST_F(SandboxdTest, CancelKillsAnExecAndTheConnectionGoesOn) {
  Send({{"id", 500}, {"op", "exec"}, {"command", "echo started; exec sleep 60"}});
  json::object m = Next();  // the "started" output: the command runs
  ASSERT_EQ(m.at("event").as_string(), "stdout") << ToJson(m);
  auto start = std::chrono::steady_clock::now();
  Send({{"id", 501}, {"op", "cancel"}, {"target", 500}});
  json::object exec_reply, cancel_reply;
  while (exec_reply.empty() || cancel_reply.empty()) {
    m = Next();
    ASSERT_FALSE(m.empty()) << "no reply";
    if (m.contains("event")) continue;
    (m.at("id").as_int64() == 500 ? exec_reply : cancel_reply) = m;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(cancel_reply.at("cancelled").as_bool()) << ToJson(cancel_reply);
  EXPECT_EQ(exec_reply.at("signal").as_string(), "SIGKILL") << ToJson(exec_reply);
  // Nothing left to cancel; the same connection still works.
  EXPECT_FALSE(Call({{"op", "cancel"}, {"target", 500}}).at("cancelled").as_bool());
  EXPECT_EQ(Call({{"op", "exec"}, {"command", "echo still here"}}).at("stdout").as_string(),
            "still here\n");
}

TEST_F(SandboxdTest, OutputIsCappedWithAMarker) {
  auto r = Call({{"op", "exec"},
                 {"command", "head -c 100000 /dev/zero | tr '\\0' a"},
                 {"max_output_bytes", 2048}});
  EXPECT_TRUE(r.at("truncated").as_bool());
  std::string out(r.at("stdout").as_string());
  EXPECT_EQ(out.substr(0, 2048), std::string(2048, 'a'));
  EXPECT_NE(out.find("[stdout truncated at 2048 bytes]"), std::string::npos);
  EXPECT_EQ(r.at("exit_code").as_int64(), 0);
}

TEST_F(SandboxdTest, FileOpsAndErrors) {
  EXPECT_TRUE(Call({{"op", "write"}, {"path", "a/b.txt"}, {"content", "x = 1\ny = 2\n"}})
                  .at("ok")
                  .as_bool());
  auto read = Call({{"op", "read"}, {"path", "/workspace/a/b.txt"}});
  EXPECT_EQ(read.at("content").as_string(), "x = 1\ny = 2\n");
  auto edit = Call({{"op", "edit"}, {"path", "a/b.txt"}, {"old", "y = 2"}, {"new", "y = 3"}});
  EXPECT_EQ(edit.at("replacements").as_int64(), 1);
  auto grep = Call({{"op", "grep"}, {"pattern", "y = \\d"}});
  EXPECT_EQ(grep.at("matches").as_array().size(), 1u);
  auto glob = Call({{"op", "glob"}, {"pattern", "**/*.txt"}});
  EXPECT_EQ(glob.at("matches").as_array()[0].as_string(), "a/b.txt");
  auto esc = Call({{"op", "read"}, {"path", "../../etc/passwd"}});
  EXPECT_FALSE(esc.at("ok").as_bool());
  EXPECT_EQ(esc.at("error").as_object().at("code").as_string(), "invalid_path");
  auto bad = Call({{"op", "frobnicate"}});
  EXPECT_EQ(bad.at("error").as_object().at("code").as_string(), "bad_request");
}

TEST_F(SandboxdTest, OrphansAreReapedWithoutStealingExitStatuses) {
  // Each command leaves orphans (reparented to the daemon, a child subreaper) and exits 7.
  for (int i = 0; i < 5; ++i) {
    auto r = Call({{"op", "exec"}, {"command", "(true &); (sleep 0.05 &); (exit 3 &); exit 7"}});
    ASSERT_TRUE(r.at("ok").as_bool()) << ToJson(r);
    EXPECT_EQ(r.at("exit_code").as_int64(), 7);
  }
  std::vector<char> states;
  for (int i = 0; i < 200; ++i) {
    states = ChildStates(pid_);
    if (std::count(states.begin(), states.end(), 'Z') == 0) break;
    usleep(10'000);
  }
  EXPECT_EQ(std::count(states.begin(), states.end(), 'Z'), 0) << "zombies left under sandboxd";
  // Concurrent commands still get their own statuses while orphans are collected around them.
  std::vector<int64_t> ids;
  for (int code = 10; code < 14; ++code) {
    int64_t id = ++next_id_;
    ids.push_back(id);
    Send({{"id", id},
          {"op", "exec"},
          {"command", "(sleep 0.02 &); sleep 0.1; exit " + std::to_string(code)}});
  }
  std::map<int64_t, int64_t> codes;
  while (codes.size() < ids.size()) {
    json::object m = Next();
    ASSERT_FALSE(m.empty());
    if (!m.contains("event")) codes[m.at("id").as_int64()] = m.at("exit_code").as_int64();
  }
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(codes[ids[i]], 10 + static_cast<int64_t>(i));
}

TEST_F(SandboxdTest, ClosingTheConnectionKillsItsProcesses) {
  Send({{"id", 1}, {"op", "exec"}, {"command", "echo started; sleep 61.2718"}});
  json::object first = Next();  // the "started" chunk: the process is running
  EXPECT_EQ(first.at("event").as_string(), "stdout");
  close(fd_);
  Connect();
  json::object ps;
  for (int i = 0; i < 100; ++i) {  // the daemon notices the hangup on its next poll
    ps = Call({{"op", "exec"}, {"command", "pgrep -f '[s]leep 61.2718' || true"}});
    if (ps.at("stdout").as_string() == "") break;
  }
  EXPECT_EQ(ps.at("stdout").as_string(), "");
}

}  // namespace
}  // namespace pincer
