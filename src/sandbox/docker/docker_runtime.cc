#include "sandbox/docker/docker_runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/async.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/json.h"
#include "http/url.h"

namespace pincer::sandbox::docker {
namespace {

namespace fs = std::filesystem;
constexpr char kManagedBy[] = "pincer";
constexpr char kInstallationLabel[] = "pincer.installation";
// The container's user; it must own the workspace and the run directory.
constexpr FileOwner kSandboxUser{1000, 1000};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// This installation's id, kept in <state_dir>/installation-id (created on first use). Every
// container is labelled with it, so servers with different data dirs sharing one Docker daemon
// never adopt or stop each other's sandboxes.
Result<std::string> LoadInstallationId(const std::string& state_dir) {
  std::string path = state_dir + "/installation-id";
  std::string id = ReadFile(path);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (IsValidId(id, "ins")) return id;
  id = NewId("ins");
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << id << "\n";
    if (!f) return SysError("write " + tmp, errno);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return SysError("rename " + tmp, errno);
  return id;
}

void ChownTree(const std::string& dir, uid_t uid, gid_t gid) {
  std::error_code ec;
  if (chown(dir.c_str(), uid, gid) != 0) return;
  for (const auto& e :
       fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec)) {
    (void)!lchown(e.path().c_str(), uid, gid);
  }
}

class DockerRuntime final : public SandboxRuntime {
 public:
  DockerRuntime(DockerOptions options, std::string installation_id, http::HttpClient& client,
                http::LineTransport& transport)
      : options_(std::move(options)),
        installation_id_(std::move(installation_id)),
        client_(client),
        transport_(transport) {}

  std::string name() const override { return "docker"; }
  std::optional<FileOwner> WorkspaceOwner() const override { return kSandboxUser; }

  // One Engine API call; non-2xx becomes an error naming the step.
  Task<Result<http::ClientResponse>> Api(
      std::string method, std::string path, std::string body, const std::string& step,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60'000)) {
    http::ClientRequest req;
    req.method = std::move(method);
    req.url = "http://docker/" + options_.api_version + path;
    req.unix_socket = options_.socket;
    req.timeout = timeout;
    if (!body.empty()) {
      req.headers.Set("content-type", "application/json");
      req.body = std::move(body);
    }
    auto r = co_await client_.Send(std::move(req));
    if (!r)
      co_return Error(ErrorCode::kUnavailable, "sandbox_failed",
                      "docker " + step + ": " + r.error().message);
    co_return r;
  }

  static Error Failed(const std::string& step, const http::ClientResponse& r) {
    std::string msg = r.body;
    auto v = ParseJson(r.body);
    if (v && v->is_object()) {
      if (const auto* m = v->get_object().if_contains("message"); m && m->is_string())
        msg = m->get_string();
    }
    return Error(ErrorCode::kUnavailable, "sandbox_failed",
                 "docker " + step + " failed (HTTP " + std::to_string(r.status) + "): " + msg);
  }

  Task<Result<SandboxInfo>> Create(const SandboxSpec& spec) override {
    SandboxInfo info;
    auto prepared = PrepareSandbox(spec, "docker", options_.state_dir, info);
    if (!prepared) co_return std::move(prepared).error();
    const std::string& dir = *prepared;
    ChownTree(spec.workspace_dir, kSandboxUser.uid, kSandboxUser.gid);
    ChownTree(dir + "/run", kSandboxUser.uid, kSandboxUser.gid);
    info.name = "pincer-" + info.id;

    json::object labels{{"managed-by", kManagedBy},
                        {kInstallationLabel, installation_id_},
                        {"pincer.sandbox-id", info.id},
                        {"pincer.session-id", spec.session_id},
                        {"pincer.environment-id", spec.environment_id},
                        {"pincer.workspace", spec.workspace_dir}};
    json::object host{
        {"Binds", json::array{spec.workspace_dir + ":/workspace", dir + "/run:/run/pincer",
                              options_.sandboxd_path + ":/run/pincer-sandboxd:ro"}},
        {"Memory", spec.limits.memory_mb << 20},
        {"MemorySwap", spec.limits.memory_mb << 20},
        {"PidsLimit", spec.limits.pids},
        {"NanoCpus", static_cast<int64_t>(spec.limits.cpus * 1e9)},
        {"CapDrop", json::array{"ALL"}},
        {"SecurityOpt", json::array{"no-new-privileges"}},
        {"ReadonlyRootfs", true},
        {"Tmpfs", json::object{{"/tmp", "rw,nosuid,size=512m"}}},
        {"NetworkMode", spec.network == "unrestricted" ? "bridge" : "none"},
        {"RestartPolicy", json::object{{"Name", "no"}}}};
    json::object body{
        {"Image", spec.image},
        {"Cmd", json::array{"/run/pincer-sandboxd", "--listen", "unix:/run/pincer/sandboxd.sock",
                            "--root", "/workspace"}},
        {"Entrypoint", json::array{}},
        {"User", std::to_string(kSandboxUser.uid) + ":" + std::to_string(kSandboxUser.gid)},
        {"WorkingDir", "/workspace"},
        {"Env", json::array{"HOME=/workspace",
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
        {"Labels", labels},
        {"NetworkDisabled", spec.network != "unrestricted"},
        {"HostConfig", host}};
    auto created =
        co_await Api("POST", "/containers/create?name=" + info.name, ToJson(body), "create");
    if (!created) co_return std::move(created).error();
    if (created->status == 404) {
      co_return Error(ErrorCode::kUnavailable, "sandbox_failed",
                      "docker image " + spec.image +
                          " not found (build it with scripts/build-sandbox-image.sh)");
    }
    if (created->status != 201) co_return Failed("create", *created);
    auto started = co_await Api("POST", "/containers/" + info.name + "/start", "", "start");
    if (!started || (started->status != 204 && started->status != 304)) {
      Error e = started ? Failed("start", *started) : std::move(started).error();
      (void)co_await Stop(info.id);
      co_return e;
    }
    std::ofstream(dir + "/meta.json") << ToJson(json::object{
        {"id", info.id}, {"session_id", info.session_id}, {"workspace_dir", info.workspace_dir}});
    http::LineHandlers none;
    auto probe =
        co_await transport_.Connect(info.endpoint, none, std::chrono::milliseconds(15'000));
    if (!probe) {
      (void)co_await Stop(info.id);
      co_return Error(ErrorCode::kUnavailable, "sandbox_failed",
                      "docker sandbox did not come up: " + probe.error().message);
    }
    (*probe)->Close();
    info.running = true;
    co_return info;
  }

  Task<Result<void>> Stop(std::string id) override {
    if (!IsValidId(id, "sbx")) co_return Ok();
    std::string name = "pincer-" + id;
    auto r = co_await Api("DELETE", "/containers/" + name + "?force=true&v=true", "", "remove");
    if (!r) co_return std::move(r).error();
    if (r->status != 204 && r->status != 404 && r->status != 409) co_return Failed("remove", *r);
    std::error_code ec;
    fs::remove_all(options_.state_dir + "/" + id, ec);
    co_return Ok();
  }

  Task<Result<std::vector<SandboxInfo>>> ListManaged() override {
    std::string filters = http::PercentEncode(R"({"label":["managed-by=pincer"]})");
    auto r = co_await Api("GET", "/containers/json?all=1&filters=" + filters, "", "list");
    if (!r) co_return std::move(r).error();
    if (r->status != 200) co_return Failed("list", *r);
    auto v = ParseJson(r->body, 128);
    std::vector<SandboxInfo> out;
    if (!v || !v->is_array()) co_return out;
    for (const auto& c : v->get_array()) {
      if (!c.is_object()) continue;
      const auto& o = c.get_object();
      const auto* labels = o.if_contains("Labels");
      if (!labels || !labels->is_object()) continue;
      auto label = [&](const char* k) {
        const auto* x = labels->get_object().if_contains(k);
        return x && x->is_string() ? std::string(x->get_string()) : std::string();
      };
      SandboxInfo i;
      i.id = label("pincer.sandbox-id");
      if (!IsValidId(i.id, "sbx") || !Ours(label(kInstallationLabel), i.id)) continue;
      i.runtime = "docker";
      i.name = "pincer-" + i.id;
      i.session_id = label("pincer.session-id");
      i.environment_id = label("pincer.environment-id");
      i.workspace_dir = label("pincer.workspace");
      // A warm sandbox claimed after creation records its session in meta.json.
      auto meta = ParseJson(ReadFile(options_.state_dir + "/" + i.id + "/meta.json"));
      if (meta && meta->is_object()) {
        if (const auto* s = meta->get_object().if_contains("session_id"); s && s->is_string())
          i.session_id = s->get_string();
        if (const auto* w = meta->get_object().if_contains("workspace_dir"); w && w->is_string())
          i.workspace_dir = w->get_string();
      }
      i.endpoint = "unix:" + options_.state_dir + "/" + i.id + "/run/sandboxd.sock";
      const auto* state = o.if_contains("State");
      i.running = state && state->is_string() && state->get_string() == "running";
      const auto* created = o.if_contains("Created");
      i.created_at = created && created->is_int64() ? created->get_int64() * 1000 : 0;
      out.push_back(std::move(i));
    }
    co_return out;
  }

  // Another installation's container is none of our business. One without the label predates
  // it; it is ours when our state directory has its run directory.
  bool Ours(const std::string& installation, const std::string& id) const {
    if (!installation.empty()) return installation == installation_id_;
    std::error_code ec;
    return fs::is_directory(options_.state_dir + "/" + id, ec);
  }

  Result<void> Assign(const std::string& id, const std::string& session_id,
                      const std::string& workspace_dir) override {
    std::string path = options_.state_dir + "/" + id + "/meta.json";
    std::ofstream f(path);
    if (!f) return SysError("write " + path, errno);
    f << ToJson(
        json::object{{"id", id}, {"session_id", session_id}, {"workspace_dir", workspace_dir}});
    return Ok();
  }

  Task<Result<std::string>> Logs(std::string id, int tail) override {
    auto r = co_await Api(
        "GET", "/containers/pincer-" + id + "/logs?stdout=1&stderr=1&tail=" + std::to_string(tail),
        "", "logs", std::chrono::milliseconds(5000));
    if (!r) co_return std::move(r).error();
    if (r->status != 200) co_return Failed("logs", *r);
    co_return DemuxLogs(r->body);
  }

 private:
  DockerOptions options_;
  std::string installation_id_;
  http::HttpClient& client_;
  http::LineTransport& transport_;
};

}  // namespace

std::string DemuxLogs(std::string_view raw) {
  std::string out;
  size_t pos = 0;
  while (pos + 8 <= raw.size()) {
    auto b = [&](size_t i) {
      return static_cast<uint32_t>(static_cast<unsigned char>(raw[pos + i]));
    };
    if (b(0) > 2 || b(1) != 0 || b(2) != 0 || b(3) != 0)
      return std::string(raw);  // a TTY stream: not multiplexed
    uint32_t len = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
    pos += 8;
    out.append(raw.substr(pos, len));
    pos += len;
  }
  return out;
}

Task<Result<std::unique_ptr<SandboxRuntime>>> MakeDockerRuntime(DockerOptions options,
                                                                http::HttpClient& client,
                                                                http::LineTransport& transport) {
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) co_return SysError("mkdir " + options.state_dir, ec.value());
  auto installation = LoadInstallationId(options.state_dir);
  if (!installation) co_return std::move(installation).error();
  auto rt = std::make_unique<DockerRuntime>(options, std::move(*installation), client, transport);
  auto ping = co_await rt->Api("GET", "/_ping", "", "ping", std::chrono::milliseconds(5000));
  if (!ping || ping->status != 200) {
    co_return Error(ErrorCode::kUnavailable, "sandbox_unavailable",
                    "the Docker daemon does not answer on " + options.socket +
                        (ping ? "" : ": " + ping.error().message) +
                        " (start dockerd, or use PINCER_SANDBOX=local)");
  }
  co_return std::unique_ptr<SandboxRuntime>(std::move(rt));
}

}  // namespace pincer::sandbox::docker
