// The sandbox runtime contract: every backend (local namespaces, Docker) must isolate, limit,
// list and stop sandboxes the same way. These tests really enter namespaces and really run
// containers (`make test` starts dockerd and builds the sandbox image first).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "common/thread_executor.h"
#include "sandbox/docker/docker_runtime.h"
#include "sandbox/local/local_runtime.h"
#include "sandbox/sandboxd_client.h"

namespace pincer::sandbox {
namespace {

namespace fs = std::filesystem;

struct Backend {
  std::string name;
};

class RuntimeContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("pincer-rt-" + NewId("t"));
    fs::create_directories(base_);
    auto rt = MakeRuntime();
    ASSERT_TRUE(rt.has_value()) << rt.error().ToString();
    runtime_ = std::move(*rt);
  }
  Result<std::unique_ptr<SandboxRuntime>> MakeRuntime(std::string state_dir = "") {
    std::string state = state_dir.empty() ? (base_ / "state").string() : state_dir;
    if (GetParam().name == "docker") {
      return ex_.BlockOn(docker::MakeDockerRuntime(
          {"/var/run/docker.sock", state, PINCER_SANDBOXD_BIN}, *client_, *transport_));
    }
    return local::MakeLocalRuntime({state, PINCER_SANDBOXD_BIN}, *transport_);
  }
  bool docker() const { return GetParam().name == "docker"; }
  void TearDown() override {
    for (auto& id : created_) EXPECT_TRUE(ex_.BlockOn(runtime_->Stop(id)).has_value());
    fs::remove_all(base_);
  }
  SandboxInfo Create(std::string network = "none", Limits limits = {}) {
    SandboxSpec spec;
    spec.session_id = "ses_test";
    spec.workspace_dir = (base_ / ("ws-" + std::to_string(created_.size()))).string();
    spec.network = network;
    spec.limits = limits;
    spec.image = "pincer-sandbox:bookworm";
    auto info = ex_.BlockOn(runtime_->Create(spec));
    EXPECT_TRUE(info.has_value()) << info.error().ToString();
    if (!info) return {};
    created_.push_back(info->id);
    return *info;
  }
  std::shared_ptr<SandboxdClient> Client(const SandboxInfo& info) {
    auto c = ex_.BlockOn(
        SandboxdClient::Connect(*transport_, info.endpoint, "", std::chrono::milliseconds(5000)));
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return c ? *c : nullptr;
  }
  json::object Exec(SandboxdClient& c, std::string command, int64_t timeout_ms = 20000) {
    auto r = ex_.BlockOn(
        c.Call(json::object{{"op", "exec"}, {"command", command}, {"timeout_ms", timeout_ms}}));
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? *r : json::object{};
  }
  static std::string Out(const json::object& r) { return std::string(r.at("stdout").as_string()); }

  fs::path base_;
  ThreadExecutor ex_;
  std::unique_ptr<http::LineTransport> transport_ = http::MakeLineTransport();
  std::unique_ptr<http::HttpClient> client_ = http::MakeHttpClient();
  std::unique_ptr<SandboxRuntime> runtime_;
  std::vector<std::string> created_;
};

TEST_P(RuntimeContract, RunsAsAnUnprivilegedUserWithAReadOnlySystem) {
  auto info = Create();
  auto c = Client(info);
  ASSERT_TRUE(c);
  EXPECT_EQ(Out(Exec(*c, "id -u")), "1000\n");
  EXPECT_EQ(Out(Exec(*c, "pwd")), "/workspace\n");
  auto usr = Exec(*c, "echo x > /usr/pwned && echo wrote || echo refused");
  EXPECT_EQ(Out(usr), "refused\n");
  EXPECT_EQ(Out(Exec(*c, "touch /etc/pwned 2>/dev/null && echo wrote || echo refused")),
            "refused\n");
  EXPECT_EQ(Out(Exec(*c, "cat /etc/shadow >/dev/null 2>&1 && echo readable || echo unreadable")),
            "unreadable\n");
  EXPECT_EQ(Out(Exec(*c, "grep -c CapEff:.0000000000000000 /proc/self/status")), "1\n");
  EXPECT_EQ(Out(Exec(*c, "grep NoNewPrivs /proc/self/status | tr -d ' \\t'")), "NoNewPrivs:1\n");
  // The workspace is the host directory.
  Exec(*c, "echo hello > made-inside.txt");
  std::ifstream in(info.workspace_dir + "/made-inside.txt");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "hello\n");
  EXPECT_FALSE(fs::exists("/usr/pwned"));
}

TEST_P(RuntimeContract, TheServersEnvironmentDoesNotLeakIn) {
  ::setenv("PINCER_CONTRACT_SECRET", "provider-key-123", 1);
  auto info = Create();
  ::unsetenv("PINCER_CONTRACT_SECRET");
  auto c = Client(info);
  ASSERT_TRUE(c);
  // Neither the tool's environment nor any other process's (sandboxd's, bwrap's) holds it.
  EXPECT_EQ(Out(Exec(*c,
                     "env | grep -c PINCER_CONTRACT_SECRET; cat /proc/[0-9]*/environ 2>/dev/null | "
                     "tr '\\0' '\\n' | grep -c provider-key-123")),
            "0\n0\n");
  EXPECT_EQ(Out(Exec(*c, "echo $HOME")), "/workspace\n");
}

TEST_P(RuntimeContract, SessionsCannotSeeEachOthersWorkspaces) {
  auto a = Create();
  auto b = Create();
  std::ofstream(b.workspace_dir + "/secret.txt") << "b's secret";
  auto ca = Client(a);
  ASSERT_TRUE(ca);
  auto r = Exec(*ca, "cat " + b.workspace_dir + "/secret.txt 2>&1; ls /workspace");
  EXPECT_EQ(Out(r).find("b's secret"), std::string::npos) << Out(r);
}

TEST_P(RuntimeContract, NoNetworkUnlessAllowed) {
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(docker() ? INADDR_ANY : INADDR_LOOPBACK);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(srv, 4);
  // The host is 127.0.0.1 for a shared network namespace, else the default gateway.
  std::string probe =
      "python3 -c \"import socket,struct\n"
      "host='127.0.0.1'\n"
      "for l in open('/proc/net/route').readlines()[1:]:\n"
      "  f=l.split()\n"
      "  if f[1]=='00000000' and " +
      std::string(docker() ? "True" : "False") +
      ": host=socket.inet_ntoa(struct.pack('<L',int(f[2],16)))\n"
      "socket.create_connection((host, " +
      std::to_string(ntohs(addr.sin_port)) +
      "), 2); print('connected')\" 2>/dev/null || echo blocked";
  auto isolated = Create("none");
  EXPECT_EQ(Out(Exec(*Client(isolated), probe)), "blocked\n");
  auto open = Create("unrestricted");
  EXPECT_EQ(Out(Exec(*Client(open), probe)), "connected\n");
  close(srv);
}

TEST_P(RuntimeContract, SeccompDeniesNamespaceAndMountCalls) {
  auto c = Client(Create());
  ASSERT_TRUE(c);
  auto r = Exec(*c, "unshare --user true 2>&1; echo rc=$?");
  EXPECT_NE(Out(r).find("Operation not permitted"), std::string::npos) << Out(r);
  auto m = Exec(*c,
                "python3 -c \"import ctypes,os; l=ctypes.CDLL(None,use_errno=True); "
                "print(l.mount(b'none',b'/tmp',b'tmpfs',0,None), ctypes.get_errno())\"");
  EXPECT_EQ(Out(m), "-1 1\n");  // EPERM
}

TEST_P(RuntimeContract, LimitsStopForkAndMemoryBombs) {
  if (local::LocalCgroupSupport().version == "none") {
    GTEST_FAIL() << "this host offers no cgroups: " << local::LocalCgroupSupport().detail;
  }
  Limits limits;
  limits.pids = 32;
  limits.memory_mb = 64;
  auto c = Client(Create("none", limits));
  ASSERT_TRUE(c);
  auto fork_bomb =
      Exec(*c, "for i in $(seq 1 100); do sleep 5 & done 2>&1 | head -c 300; echo done", 20000);
  std::string bomb = Out(fork_bomb) + std::string(fork_bomb.at("stderr").as_string());
  EXPECT_NE(bomb.find("fork"), std::string::npos)
      << bomb;  // "Cannot fork" (dash) / "fork: retry" (bash)
  auto mem = Exec(*c, "python3 -c \"a = b'x' * (512 * 1024 * 1024); print('survived')\"", 20000);
  EXPECT_EQ(Out(mem).find("survived"), std::string::npos);
  // The OOM killer's SIGKILL: reported directly, or as 137 by the wrapping shell.
  bool killed = mem.at("signal").is_string() ||
                (mem.at("exit_code").is_int64() && mem.at("exit_code").as_int64() == 137);
  EXPECT_TRUE(killed) << ToJson(mem);
  // The sandbox itself is still usable.
  EXPECT_EQ(Out(Exec(*c, "echo alive")), "alive\n");
}

TEST_P(RuntimeContract, StopIsIdempotentAndSandboxesAreListedForAdoption) {
  auto info = Create();
  auto listed = ex_.BlockOn(runtime_->ListManaged());
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].running);
  EXPECT_EQ((*listed)[0].session_id, "ses_test");
  // A second runtime over the same state (a restarted server) sees it and can connect.
  auto again = MakeRuntime();
  auto adopted = ex_.BlockOn((*again)->ListManaged());
  ASSERT_EQ(adopted->size(), 1u);
  EXPECT_TRUE(Client((*adopted)[0]));
  EXPECT_TRUE(ex_.BlockOn(runtime_->Stop(info.id)).has_value());
  EXPECT_TRUE(ex_.BlockOn(runtime_->Stop(info.id)).has_value());
  EXPECT_TRUE(ex_.BlockOn(runtime_->Stop("sbx_doesnotexist")).has_value());
  EXPECT_TRUE(ex_.BlockOn(runtime_->ListManaged())->empty());
}

TEST_P(RuntimeContract, AnotherInstallationDoesNotListOurSandboxes) {
  auto info = Create();
  // A second server with its own data dir on the same host (the same Docker daemon).
  auto other = MakeRuntime((base_ / "other-state").string());
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  auto listed = ex_.BlockOn((*other)->ListManaged());
  ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
  for (const auto& i : *listed) EXPECT_NE(i.id, info.id);
  auto ours = ex_.BlockOn(runtime_->ListManaged());
  ASSERT_TRUE(ours.has_value());
  ASSERT_EQ(ours->size(), 1u);
  EXPECT_TRUE((*ours)[0].running);
}

TEST_P(RuntimeContract, KillingSandboxdFailsTheCallCleanly) {
  auto info = Create();
  auto c = Client(info);
  ASSERT_TRUE(c);
  std::promise<Result<json::object>> pending;
  ex_.Post([&] {
    Spawn<Result<json::object>>(c->Call(json::object{{"op", "exec"}, {"command", "sleep 30"}}),
                                [&](Result<json::object> r) { pending.set_value(std::move(r)); });
  });
  // Wait until the command runs, then kill the sandbox (and its daemon) from the host.
  for (int i = 0; i < 500; ++i) {
    auto ps = Exec(*Client(info), "pgrep -c -f '[s]leep 30' || true");
    if (Out(ps) != "0\n" && Out(ps) != "") break;
  }
  ASSERT_TRUE(ex_.BlockOn(runtime_->Stop(info.id)).has_value());
  auto r = pending.get_future().get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().wire_code, "sandbox_lost");
}

INSTANTIATE_TEST_SUITE_P(Backends, RuntimeContract,
                         ::testing::Values(Backend{"local"}, Backend{"docker"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pincer::sandbox
