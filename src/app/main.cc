// pincer: the server binary. Wiring only: configuration, logging, store, services, HTTP.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "api/api.h"
#include "api/error_mapping.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/periodic.h"
#include "common/thread_executor.h"
#include "engine/agents.h"
#include "engine/audit_log.h"
#include "engine/chat.h"
#include "engine/environments.h"
#include "engine/event_bus.h"
#include "engine/files.h"
#include "engine/llm/pricing.h"
#include "engine/llm/registry.h"
#include "engine/runner.h"
#include "engine/sessions.h"
#include "engine/tools/builtin.h"
#include "engine/tools/tool.h"
#include "http/client.h"
#include "http/line_client.h"
#include "http/server.h"
#include "sandbox/docker/docker_runtime.h"
#include "sandbox/local/local_runtime.h"
#include "sandbox/pool.h"
#include "store/store.h"

namespace pincer {
namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "pincer: %s\n", what.c_str());
  return 2;
}

int Serve(const Config& config) {
  log::Init(config.log_format == "pretty" ? log::Format::kPretty : log::Format::kJson,
            config.log_level == "debug"   ? log::Level::kDebug
            : config.log_level == "warn"  ? log::Level::kWarn
            : config.log_level == "error" ? log::Level::kError
                                          : log::Level::kInfo);
  // Each sandbox listens on <data dir>/sandboxes[-docker]/<id>/run/sandboxd.sock, which must fit
  // a unix socket address.
  std::string longest_socket = config.data_dir +
                               (config.sandbox == "local" ? "/sandboxes" : "/sandboxes-docker") +
                               "/sbx_000000000000/run/sandboxd.sock";
  if (longest_socket.size() >= http::kMaxUnixPath) {
    return Fail(
        "PINCER_DATA_DIR: " + config.data_dir +
        " is too long for the sandboxes' unix sockets (at most " +
        std::to_string(http::kMaxUnixPath - 1 - (longest_socket.size() - config.data_dir.size())) +
        " characters)");
  }
  Clock& clock = SystemClock();
  int64_t start_ms = clock.NowMs();

  // Signals are taken synchronously by this thread; every thread started below inherits the
  // blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Fail("cannot create PINCER_DATA_DIR " + config.data_dir + ": " + ec.message());
  auto store =
      store::OpenSqliteStore({config.data_dir + "/pincer.db", config.db_sync == "full", 256});
  if (!store) return Fail(store.error().message);

  llm::PriceTable prices = llm::PriceTable::Default();
  if (!config.prices_file.empty()) {
    std::ifstream in(config.prices_file);
    if (!in) return Fail("cannot read PINCER_PRICES_FILE " + config.prices_file);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = llm::PriceTable::Parse(text.str());
    if (!parsed)
      return Fail("PINCER_PRICES_FILE " + config.prices_file + ": " + parsed.error().message);
    prices = std::move(*parsed);
  }

  metrics::Registry registry;
  auto http_client = http::MakeHttpClient();
  llm::Registry models(
      *http_client,
      [](const std::string& name) -> std::optional<std::string> {
        if (const char* v = std::getenv(name.c_str())) return std::string(v);
        return std::nullopt;
      },
      llm::LlmSettings{std::chrono::milliseconds(config.llm_timeout_ms),
                       std::chrono::milliseconds(config.llm_idle_timeout_ms)});
  size_t engine_threads = config.threads > 0 ? static_cast<size_t>(config.threads)
                                             : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<ThreadExecutor>> engine_executors;
  std::vector<Executor*> executors;
  for (size_t i = 0; i < engine_threads; ++i) {
    engine_executors.push_back(std::make_unique<ThreadExecutor>("pincer-engine"));
    executors.push_back(engine_executors.back().get());
  }
  // Sandboxes: the runtime, the pool, and the built-in tools that run in them.
  auto line_transport = http::MakeLineTransport();
  std::string sandboxd = config.sandboxd_bin;
  if (sandboxd.empty()) {
    sandboxd = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "pincer-sandboxd")
                   .string();
  }
  std::unique_ptr<sandbox::SandboxRuntime> runtime;
  if (config.sandbox == "local") {
    auto made = sandbox::local::MakeLocalRuntime({config.data_dir + "/sandboxes", sandboxd},
                                                 *line_transport);
    if (!made) return Fail(made.error().message);
    runtime = std::move(*made);
    const auto& cg = sandbox::local::LocalCgroupSupport();
    if (cg.version == "none") {
      log::Warn("sandbox", "no cgroup limits available").Field("detail", cg.detail);
    } else {
      std::string ctrls;
      for (const auto& c : cg.controllers) ctrls += (ctrls.empty() ? "" : ",") + c;
      log::Info("sandbox", "cgroup limits")
          .Field("version", cg.version)
          .Field("controllers", ctrls);
    }
  } else {
    auto made = engine_executors.front()->BlockOn(sandbox::docker::MakeDockerRuntime(
        {config.docker_socket, config.data_dir + "/sandboxes-docker", sandboxd}, *http_client,
        *line_transport));
    if (!made) return Fail(made.error().message);
    runtime = std::move(*made);
  }
  sandbox::PoolOptions pool_options;
  pool_options.workspaces_dir = config.data_dir + "/workspaces";
  pool_options.max_active = config.max_active;
  pool_options.max_warm = config.max_warm;
  pool_options.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  pool_options.limits = {config.sandbox_memory_mb, config.sandbox_pids,
                         static_cast<double>(config.sandbox_cpu_millis) / 1000.0};
  pool_options.default_image = config.sandbox_image;
  sandbox::SandboxPool pool(*runtime, *line_transport, clock, registry, pool_options);

  engine::tools::ToolRegistry tools;
  for (auto& t : engine::tools::MakeBuiltinTools(pool)) tools.Add(std::move(t));
  if (config.enable_test_tools) {
    for (auto& t : engine::tools::MakeTestTools()) tools.Add(std::move(t));
  }
  engine::EventBus bus;
  engine::RunnerOptions runner_options;
  runner_options.max_steps = config.max_steps;
  runner_options.max_output_tokens = config.llm_max_tokens;
  runner_options.retry.max_retries = config.llm_max_retries;
  runner_options.retry.base_delay = std::chrono::milliseconds(config.llm_retry_base_ms);
  runner_options.approval_timeout = std::chrono::milliseconds(config.approval_timeout_ms);
  engine::Runner runner(**store, bus, models, tools, prices, clock, executors, registry,
                        runner_options);
  engine::AuditLog audit(**store, clock);
  engine::Agents agents(**store, audit, clock);
  engine::Environments environments(**store, audit, clock);
  engine::Sessions sessions(**store, audit, bus, runner, models, clock, registry, &pool);
  engine::Files files(**store, audit, pool_options.workspaces_dir, runtime->WorkspaceOwner());
  auto vault_key = engine::Vaults::LoadKey(config);
  if (!vault_key) return Fail(vault_key.error().message);
  engine::Vaults vaults(**store, audit, clock, *vault_key);
  engine::ChatCompletions chat(**store, agents, sessions, bus, clock);
  pool.on_attached = [&bus](const std::string& sid, const sandbox::Attachment& a) {
    auto f = std::make_shared<engine::Frame>();
    f->event = "session.container_attached";
    f->data = ToJson(json::object{{"session_id", sid},
                                  {"type", f->event},
                                  {"created_at", a.claimed_at},
                                  {"container_id", a.info.id},
                                  {"container_name", a.info.name},
                                  {"pool_source", a.source},
                                  {"boot_ms", a.boot_ms}});
    bus.Publish(sid, f);
  };
  pool.on_detached = [&bus, &clock](const std::string& sid, const std::string& reason) {
    auto f = std::make_shared<engine::Frame>();
    f->event = "session.container_detached";
    f->data = ToJson(json::object{{"session_id", sid},
                                  {"type", f->event},
                                  {"created_at", clock.NowMs()},
                                  {"reason", reason}});
    bus.Publish(sid, f);
  };
  registry.AddCollector([&runner, &bus](std::string& out) {
    out +=
        "# HELP sessions_running Sessions with a turn in progress.\n# TYPE sessions_running "
        "gauge\n";
    out += "sessions_running " + std::to_string(runner.active()) + "\n";
    out += "# HELP sse_subscribers Open event streams.\n# TYPE sse_subscribers gauge\n";
    out += "sse_subscribers " + std::to_string(bus.subscriber_count()) + "\n";
  });
  api::Api api(api::ApiDeps{config, agents, environments, audit, sessions, files, vaults, chat,
                            models, prices, bus, registry, clock, start_ms, PINCER_VERSION,
                            PINCER_COMMIT});

  http::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.threads = config.threads;
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  options.keepalive_timeout = std::chrono::milliseconds(config.keepalive_timeout_ms);
  options.shutdown_grace = std::chrono::milliseconds(config.shutdown_grace_ms);
  int64_t max_body = config.max_body_bytes;
  options.body_limit = [max_body](std::string_view method, std::string_view target) -> int64_t {
    // Uploads into a workspace may be as large as the files API allows.
    if (method == "PUT" && target.rfind("/v1/agents/", 0) == 0 &&
        target.find("/files/") != std::string_view::npos) {
      return std::max<int64_t>(max_body, engine::kMaxFileBytes);
    }
    return max_body;
  };
  options.error_response = [](int status, std::string code, std::string message) {
    return api::ErrorResponse(status, code, message);
  };
  auto server = http::Server::Start(options, [&api](http::Request& r) { return api.Handle(r); });
  if (!server) return Fail(server.error().message);

  PeriodicTask audit_retention(
      "audit-retention", std::chrono::hours(1),
      [&] {
        auto removed = audit.Cleanup(config.audit_retention_days);
        if (!removed) {
          log::Error("audit", "retention cleanup failed")
              .Field("error", removed.error().ToString());
        } else if (*removed > 0) {
          log::Info("audit", "retention cleanup").Field("deleted", *removed);
        }
      },
      /*run_now=*/true);
  PeriodicTask rate_limit_sweep("ratelimit-sweep", std::chrono::seconds(60),
                                [&] { api.rate_limiter().Sweep(); });
  PeriodicTask idempotency_sweep(
      "idem-sweep", std::chrono::hours(1),
      [&] {
        auto cutoff = clock.NowMs() - 86'400'000;
        auto r = (*store)->WriteSync([cutoff](store::Writer& w) -> Result<void> {
          RETURN_IF_ERROR(w.DeleteIdempotentRepliesBefore(cutoff));
          return Ok();
        });
        if (!r)
          log::Error("store", "idempotency cleanup failed").Field("error", r.error().ToString());
      },
      /*run_now=*/true);

  // Re-attach sandboxes that outlived the last run; stop orphans. Then reap idle ones.
  auto adopted = engine_executors.front()->BlockOn(pool.Adopt([&](const std::string& sid) {
    auto s = (*store)->Read()->GetSession(sid);
    return s && s->has_value();
  }));
  if (!adopted) {
    log::Warn("sandbox", "adoption failed").Field("error", adopted.error().ToString());
  } else {
    log::Info("sandbox", "adopted sandboxes").Field("count", *adopted);
  }
  PeriodicTask reaper(
      "sandbox-reaper",
      std::chrono::milliseconds(std::clamp<int64_t>(config.idle_timeout_ms / 4, 250, 60'000)),
      [&] { engine_executors.front()->BlockOn(pool.Reap()); });

  // Resume turns that were running when the server last stopped, and drain stalled queues.
  if (auto recovered = runner.Recover(); !recovered) {
    log::Error("engine", "recovery failed").Field("error", recovered.error().ToString());
  }

  log::Info("server", "listening")
      .Field("host", config.host)
      .Field("port", (*server)->port())
      .Field("threads", static_cast<int64_t>((*server)->thread_count()))
      .Field("data_dir", config.data_dir)
      .Field("auth", !config.api_token.empty())
      .Field("version", PINCER_VERSION);
  if (config.api_token.empty() && config.host != "127.0.0.1" && config.host != "::1") {
    log::Warn("server", "auth is off while listening beyond loopback; set PINCER_API_TOKEN");
  }

  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("server", "shutting down").Field("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  // Turns in progress keep their state and resume on the next start.
  runner.Stop(std::chrono::milliseconds(config.shutdown_grace_ms));
  log::Info("server", "stopped");
  log::Flush();
  return 0;
}

}  // namespace
}  // namespace pincer

int main(int argc, char** argv) {
  using namespace pincer;
  CLI::App app{
      "Pincer: self-hosted managed agents.\n"
      "Every setting is read from its environment variable; a flag overrides it."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("pincer ") + PINCER_VERSION);

  std::map<std::string, std::string> flags;
  CLI::App* serve = app.add_subcommand("serve", "Run the API server");
  for (const auto& s : Settings()) {
    serve->add_option_function<std::string>(
        std::string("--") + s.flag, [&flags, env = s.env](const std::string& v) { flags[env] = v; },
        std::string(s.help) + " [" + s.env + "]");
  }
  CLI::App* version = app.add_subcommand("version", "Print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*version) {
    std::printf("pincer %s (commit %s)\n", PINCER_VERSION, PINCER_COMMIT);
    return 0;
  }
  auto config = LoadConfig([&flags](const std::string& env) -> std::optional<std::string> {
    if (auto it = flags.find(env); it != flags.end()) return it->second;
    if (const char* v = std::getenv(env.c_str())) return std::string(v);
    return std::nullopt;
  });
  if (!config) {
    std::fprintf(stderr, "pincer: invalid configuration: %s\n", config.error().message.c_str());
    return 2;
  }
  return Serve(*config);
}
