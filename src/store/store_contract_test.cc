// The store contract: every Store implementation must pass these tests. Add a factory to
// Backends() when a new engine arrives.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include "common/ids.h"
#include "store/store.h"

namespace pincer::store {
namespace {

namespace fs = std::filesystem;

struct Backend {
  std::string name;
  std::function<Result<std::unique_ptr<Store>>(const std::string& dir)> open;
};

std::vector<Backend> Backends() {
  return {{"sqlite", [](const std::string& dir) {
             return OpenSqliteStore(SqliteOptions{dir + "/pincer.db"});
           }}};
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pincer-store-" + NewId("t"));
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = GetParam().open(dir_.string());
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  static domain::Agent MakeAgent(std::string model = "m", int64_t ts = 1000) {
    domain::Agent a;
    a.id = NewId("agt");
    a.spec.model = std::move(model);
    a.created_at = a.updated_at = ts;
    return a;
  }
  Result<void> Write(std::function<Result<void>(Writer&)> fn) {
    return store_->WriteSync([fn](Writer& w) { return fn(w); });
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, AgentRoundTripAndVersions) {
  auto a = MakeAgent("openai/gpt-5.5");
  a.spec.tools = {"bash"};
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertAgent(a); }).has_value());
  auto got = store_->Read()->GetAgent(a.id);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->spec.model, "openai/gpt-5.5");
  EXPECT_EQ((*got)->spec.tools, std::vector<std::string>{"bash"});

  auto b = **got;
  b.version = 2;
  b.spec.model = "anthropic/claude-sonnet-4-6";
  b.updated_at = 2000;
  ASSERT_TRUE(Write([&](Writer& w) { return w.UpdateAgent(b); }).has_value());
  auto versions = store_->Read()->ListAgentVersions(a.id);
  ASSERT_TRUE(versions.has_value());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].spec.model, "openai/gpt-5.5");
  EXPECT_EQ((*versions)[1].spec.model, "anthropic/claude-sonnet-4-6");
  EXPECT_EQ((*versions)[1].updated_at, 2000);
  EXPECT_EQ((*versions)[1].created_at, 2000);
  EXPECT_EQ((*versions)[0].created_at, 1000);

  ASSERT_TRUE(Write([&](Writer& w) { return w.ArchiveAgent(a.id, 3000); }).has_value());
  EXPECT_EQ((*store_->Read()->GetAgent(a.id))->archived_at, 3000);

  Result<bool> deleted = false;
  ASSERT_TRUE(Write([&](Writer& w) {
                deleted = w.DeleteAgent(a.id);
                return Ok();
              }).has_value());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(store_->Read()->GetAgent(a.id)->has_value());
  EXPECT_TRUE(store_->Read()->ListAgentVersions(a.id)->empty());
}

TEST_P(StoreContract, DuplicateVersionIsRejectedAndRolledBack) {
  auto a = MakeAgent();
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertAgent(a); }).has_value());
  auto again = a;
  again.spec.model = "changed";
  auto r = Write([&](Writer& w) { return w.UpdateAgent(again); });  // version 1 exists
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ((*store_->Read()->GetAgent(a.id))->spec.model, "m");  // the UPDATE rolled back
}

TEST_P(StoreContract, FailedWriteLeavesNoPartialRowsButNeighboursCommit) {
  auto ok1 = MakeAgent("first");
  auto bad = MakeAgent("bad");
  auto ok2 = MakeAgent("second");
  std::vector<std::thread> threads;
  std::vector<Result<void>> results(3, Ok());
  auto run = [&](int i, std::function<Result<void>(Writer&)> fn) {
    threads.emplace_back([&, i, fn] { results[i] = Write(fn); });
  };
  run(0, [&](Writer& w) { return w.InsertAgent(ok1); });
  run(1, [&](Writer& w) -> Result<void> {
    RETURN_IF_ERROR(w.InsertAgent(bad));
    return InvalidArgument("validation failed after the insert");
  });
  run(2, [&](Writer& w) { return w.InsertAgent(ok2); });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(results[0].has_value());
  EXPECT_FALSE(results[1].has_value());
  EXPECT_TRUE(results[2].has_value());
  EXPECT_TRUE(store_->Read()->GetAgent(ok1.id)->has_value());
  EXPECT_FALSE(store_->Read()->GetAgent(bad.id)->has_value());
  EXPECT_TRUE(store_->Read()->ListAgentVersions(bad.id)->empty());
  EXPECT_TRUE(store_->Read()->GetAgent(ok2.id)->has_value());
}

TEST_P(StoreContract, PaginatesInCreationOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto a = MakeAgent("m" + std::to_string(i));
    ids.push_back(a.id);
    ASSERT_TRUE(Write([a](Writer& w) { return w.InsertAgent(a); }).has_value());
  }
  auto all = store_->Read()->ListAgents({});
  ASSERT_EQ(all->items.size(), 5u);
  EXPECT_FALSE(all->has_more);
  std::vector<std::string> seen;
  PageRequest req{2, ""};
  for (int pages = 0; pages < 10; ++pages) {
    auto p = store_->Read()->ListAgents(req);
    ASSERT_TRUE(p.has_value());
    for (auto& a : p->items) seen.push_back(a.id);
    if (!p->has_more) break;
    EXPECT_EQ(p->next_after, p->items.back().id);
    req.after = p->next_after;
  }
  EXPECT_EQ(seen, ids);
  auto bad = store_->Read()->ListAgents({2, "agt_doesnotexist"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().wire_code, "invalid_cursor");
}

TEST_P(StoreContract, Environments) {
  domain::Environment e;
  e.id = NewId("env");
  e.name = "dev";
  e.networking.type = "limited";
  e.networking.allowed_hosts = {"api.github.com"};
  e.created_at = 5;
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertEnvironment(e); }).has_value());
  auto got = store_->Read()->GetEnvironment(e.id);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->networking.allowed_hosts, e.networking.allowed_hosts);
  EXPECT_EQ(store_->Read()->ListEnvironments({})->items.size(), 1u);
  Result<bool> deleted = false;
  ASSERT_TRUE(Write([&](Writer& w) {
                deleted = w.DeleteEnvironment(e.id);
                return Ok();
              }).has_value());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(store_->Read()->GetEnvironment(e.id)->has_value());
}

TEST_P(StoreContract, AuditFiltersAndOrder) {
  auto add = [&](int64_t ts, std::string action, std::string target) {
    domain::AuditEvent e;
    e.ts = ts;
    e.actor = "anonymous";
    e.action = std::move(action);
    e.target = std::move(target);
    e.outcome = "ok";
    e.metadata["n"] = ts;
    ASSERT_TRUE(Write([e](Writer& w) { return w.InsertAudit(e); }).has_value());
  };
  add(100, "agent.create", "agt_a");
  add(200, "agent.update", "agt_a");
  add(300, "environment.create", "env_b");
  add(400, "agent.delete", "agt_a");

  auto list = [&](AuditQuery q) {
    std::vector<int64_t> out;
    auto p = store_->Read()->ListAudit(q);
    EXPECT_TRUE(p.has_value());
    for (auto& e : p->items) out.push_back(e.ts);
    return out;
  };
  EXPECT_EQ(list({}), (std::vector<int64_t>{400, 300, 200, 100}));
  EXPECT_EQ(list({.since = 200, .until = 300}), (std::vector<int64_t>{300, 200}));
  EXPECT_EQ(list({.action = "agent.%"}), (std::vector<int64_t>{400, 200, 100}));
  EXPECT_EQ(list({.action = "agent.update"}), (std::vector<int64_t>{200}));
  EXPECT_EQ(list({.action = "agent."}), (std::vector<int64_t>{}));
  EXPECT_EQ(list({.target = "env_b"}), (std::vector<int64_t>{300}));
  EXPECT_EQ(list({.limit = 2}), (std::vector<int64_t>{400, 300}));
  auto page = store_->Read()->ListAudit({.limit = 2});
  EXPECT_TRUE(page->has_more);
  EXPECT_EQ(list({.limit = 2, .before_id = std::stoll(page->next_after)}),
            (std::vector<int64_t>{200, 100}));
  EXPECT_EQ(page->items[0].metadata.at("n").as_int64(), 400);

  Result<int64_t> removed = int64_t{0};
  ASSERT_TRUE(Write([&](Writer& w) {
                removed = w.DeleteAuditBefore(250);
                return Ok();
              }).has_value());
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(list({}), (std::vector<int64_t>{400, 300}));
}

TEST_P(StoreContract, DataSurvivesReopen) {
  auto a = MakeAgent("durable");
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertAgent(a); }).has_value());
  Reopen();
  Reopen();  // migrations are idempotent
  EXPECT_EQ((*store_->Read()->GetAgent(a.id))->spec.model, "durable");
}

TEST_P(StoreContract, ConcurrentWritersAllCommit) {
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto a = MakeAgent();
        if (!Write([a](Writer& w) { return w.InsertAgent(a); })) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->Read()->ListAgents({})->items.size(), size_t{kThreads * kPerThread});
}

TEST_P(StoreContract, SessionsEventsAndQueue) {
  domain::Session s;
  s.id = NewId("ses");
  s.agent_id = "agt_000000000000";
  s.created_at = 10;
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertSession(s); }).has_value());
  std::vector<int> committed;
  ASSERT_TRUE(Write([&](Writer& w) -> Result<void> {
                for (int i = 0; i < 3; ++i) {
                  domain::Event e;
                  e.type = "user.message";
                  e.created_at = 20 + i;
                  e.payload["content"] = "m" + std::to_string(i);
                  RETURN_IF_ERROR(w.AppendEvent(s, e));
                  w.OnCommit(
                      [&committed, seq = e.seq] { committed.push_back(static_cast<int>(seq)); });
                }
                s.status = "running";
                s.usage.output = 7;
                return w.UpdateSession(s);
              }).has_value());
  EXPECT_EQ(committed, (std::vector<int>{1, 2, 3}));
  auto got = *store_->Read()->GetSession(s.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, "running");
  EXPECT_EQ(got->next_seq, 4);
  EXPECT_EQ(got->last_event_at, 22);
  EXPECT_EQ(got->usage.output, 7);
  auto events = *store_->Read()->ListEvents(s.id, 1, 0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].seq, 2);
  EXPECT_EQ(events[0].payload.at("content").as_string(), "m1");
  EXPECT_EQ(*store_->Read()->FindEventSeq(s.id, events[1].id), 3);
  EXPECT_FALSE(store_->Read()->FindEventSeq("ses_other", events[1].id)->has_value());
  EXPECT_EQ(*store_->Read()->ListActiveSessions(), std::vector<std::string>{s.id});

  // A rolled-back write's hooks never run.
  auto failed = Write([&](Writer& w) -> Result<void> {
    w.OnCommit([&] { committed.push_back(99); });
    return Internal("no");
  });
  EXPECT_FALSE(failed.has_value());
  EXPECT_EQ(committed.size(), 3u);

  ASSERT_TRUE(Write([&](Writer& w) -> Result<void> {
                RETURN_IF_ERROR(w.Enqueue(s.id, json::object{{"content", "a"}}, 1));
                RETURN_IF_ERROR(w.Enqueue(s.id, json::object{{"content", "b"}}, 2));
                return w.PutIdempotentReply(s.id, "k1", 200, "{}", 5);
              }).has_value());
  EXPECT_EQ(*store_->Read()->QueueSize(s.id), 2);
  std::optional<QueuedMessage> first;
  ASSERT_TRUE(Write([&](Writer& w) -> Result<void> {
                ASSIGN_OR_RETURN(first, w.PopQueue(s.id));
                return Ok();
              }).has_value());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->payload.at("content").as_string(), "a");
  EXPECT_EQ((*store_->Read()->GetIdempotentReply(s.id, "k1"))->first, 200);

  s.status = "idle";
  ASSERT_TRUE(Write([&](Writer& w) { return w.UpdateSession(s); }).has_value());
  EXPECT_EQ(*store_->Read()->ListStalledQueues(), std::vector<std::string>{s.id});

  Result<bool> deleted = false;
  ASSERT_TRUE(Write([&](Writer& w) {
                deleted = w.DeleteSession(s.id);
                return Ok();
              }).has_value());
  EXPECT_TRUE(*deleted);
  EXPECT_TRUE(store_->Read()->ListEvents(s.id, 0, 0)->empty());
  EXPECT_EQ(*store_->Read()->QueueSize(s.id), 0);
  EXPECT_FALSE(store_->Read()->GetIdempotentReply(s.id, "k1")->has_value());
}

INSTANTIATE_TEST_SUITE_P(All, StoreContract, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

TEST(SqliteStore, RefusesADatabaseNewerThanTheBinary) {
  auto dir = fs::temp_directory_path() / ("pincer-store-" + NewId("t"));
  fs::create_directories(dir);
  std::string path = (dir / "pincer.db").string();
  ASSERT_TRUE(OpenSqliteStore({path}).has_value());
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future', 0)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenSqliteStore({path});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().wire_code, "store_too_new");
  fs::remove_all(dir);
}

TEST(SqliteStore, UnwritableDirectoryFailsWithTheFileName) {
  auto s = OpenSqliteStore({"/proc/pincer-nope/pincer.db"});
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("/proc/pincer-nope"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace pincer::store
