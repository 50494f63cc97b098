// Every route the server serves is documented — native and OpenAI-compatible routes in
// openapi/openapi.yaml, the Anthropic dialect (served under /anthropic) in
// openapi/anthropic.yaml — and every operation the specs document is served.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "api/api.h"
#include "common/ids.h"
#include "common/thread_executor.h"
#include "http/client.h"

namespace pincer::api {
namespace {

namespace fs = std::filesystem;

// "METHOD /path/{param}" for each operation in the spec (paths at two spaces of indent,
// methods at four).
std::set<std::string> SpecOperations(const std::string& file, const std::string& prefix) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << file;
  std::set<std::string> ops;
  std::string line, path;
  bool in_paths = false;
  static const std::regex kPath(R"(^  (/[^:]*):\s*$)");
  static const std::regex kMethod(R"(^    (get|post|put|patch|delete):\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("paths:", 0) == 0) {
      in_paths = true;
      continue;
    }
    if (in_paths && !line.empty() && line[0] != ' ' && line[0] != '#') in_paths = false;
    if (!in_paths) continue;
    if (std::regex_match(line, m, kPath)) {
      path = m[1];
    } else if (!path.empty() && std::regex_match(line, m, kMethod)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(c));
      ops.insert(method + " " + prefix + path);
    }
  }
  return ops;
}

std::string ToSpecPath(const std::string& pattern) {
  // ":agentId" → "{agentId}", "*path" → "{path}"
  return std::regex_replace(pattern, std::regex(R"([:*]([A-Za-z0-9_]+))"), "{$1}");
}

TEST(OpenApi, DocumentsExactlyTheServedRoutes) {
  fs::path dir = fs::temp_directory_path() / ("pincer-openapi-" + NewId("t"));
  auto store = store::OpenSqliteStore({(dir / "db").string()});
  ASSERT_TRUE(store.has_value());
  FakeClock clock;
  Config config;
  metrics::Registry registry;
  engine::AuditLog audit(**store, clock);
  engine::Agents agents(**store, audit, clock);
  engine::Environments envs(**store, audit, clock);
  auto client = http::MakeHttpClient();
  llm::Registry models(*client, [](const std::string&) { return std::nullopt; }, {});
  engine::tools::ToolRegistry tools;
  ThreadExecutor executor;
  engine::EventBus bus;
  engine::Runner runner(**store, bus, models, tools, llm::PriceTable::Default(), clock, {&executor},
                        registry, {});
  engine::Sessions sessions(**store, audit, bus, runner, models, clock, registry);
  engine::Files files(**store, audit, (dir / "ws").string());
  engine::ChatCompletions chat(**store, agents, sessions, bus, clock);
  engine::Vaults vaults(**store, audit, clock, std::string(32, 'k'));
  Api api(ApiDeps{config, agents, envs, audit, sessions, files, vaults, chat, models,
                  llm::PriceTable::Default(), bus, registry, clock, 0, "test", "test"});

  std::set<std::string> served;
  for (const auto& r : api.router().Routes()) served.insert(r.method + " " + ToSpecPath(r.pattern));
  std::set<std::string> spec = SpecOperations(PINCER_OPENAPI_PATH, "");
  for (const auto& op : SpecOperations(PINCER_ANTHROPIC_OPENAPI_PATH, "/anthropic"))
    spec.insert(op);
  for (const auto& op : served) EXPECT_TRUE(spec.count(op)) << "served but not in the spec: " << op;
  for (const auto& op : spec) EXPECT_TRUE(served.count(op)) << "in the spec but not served: " << op;
  EXPECT_GE(served.size(), 15u);
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pincer::api
