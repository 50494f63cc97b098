// pincer-mock-llm: a scriptable stand-in for the OpenAI and Anthropic APIs, for tests and
// benchmarks. See README.md.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "common/log.h"
#include "http/server.h"
#include "mock_server.h"
#include "script_store.h"

int main(int argc, char** argv) {
  using namespace pincer;
  CLI::App app{
      "pincer-mock-llm: a scriptable mock of the OpenAI Chat Completions and Anthropic "
      "Messages APIs"};
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 1;
  size_t record_limit = 10'000;
  size_t record_max_mb = 256;
  int64_t max_body_mb = 64;
  bool lenient = false;
  std::string log_level = "warn";
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port (0 picks a free one; the chosen port is printed)")
      ->capture_default_str();
  app.add_option("--threads", threads, "I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--record-limit", record_limit,
                 "Most recent requests kept for GET /_mock/requests (0 = none)")
      ->capture_default_str();
  app.add_option("--record-max-mb", record_max_mb, "Cap on recorded request bodies, MiB")
      ->capture_default_str();
  app.add_option("--max-body-mb", max_body_mb, "Largest request body accepted, MiB")
      ->capture_default_str();
  app.add_flag("--lenient", lenient,
               "Skip the real APIs' request checks (auth/version headers, tool pairing, "
               "thinking signatures)");
  app.add_option("--log-level", log_level, "debug|info|warn|error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  log::Init(log::Format::kJson, log_level == "debug"   ? log::Level::kDebug
                                : log_level == "info"  ? log::Level::kInfo
                                : log_level == "error" ? log::Level::kError
                                                       : log::Level::kWarn);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  mock::ScriptStore store({record_limit, record_max_mb << 20});
  mock::MockServer mock(store, mock::MockOptions{.strict = !lenient});

  http::ServerOptions options;
  options.host = host;
  options.port = port;
  options.threads = threads;
  options.max_body_bytes = max_body_mb << 20;
  options.max_header_bytes = 64 << 10;
  options.shutdown_grace = std::chrono::milliseconds(3000);
  options.error_response = [](int status, std::string code, std::string message) {
    return mock::MockServer::TransportError(status, code, message);
  };
  auto server = http::Server::Start(options, [&mock](http::Request& r) { return mock.Handle(r); });
  if (!server) {
    std::fprintf(stderr, "pincer-mock-llm: %s\n", server.error().message.c_str());
    return 2;
  }
  std::printf("{\"msg\":\"listening\",\"port\":%d}\n", (*server)->port());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  mock.Stop();
  (*server)->Shutdown();
  log::Flush();
  return 0;
}
