#include "engine/agents.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/ids.h"
#include "engine/environments.h"

namespace pincer::engine {
namespace {

namespace fs = std::filesystem;

class AgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pincer-engine-" + NewId("t"));
    auto s = store::OpenSqliteStore({(dir_ / "db").string()});
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    audit_ = std::make_unique<AuditLog>(*store_, clock_);
    agents_ = std::make_unique<Agents>(*store_, *audit_, clock_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  static json::value J(std::string_view s) { return *ParseJson(s); }
  domain::Agent MustCreate(std::string_view body) {
    auto a = SyncWait(agents_->Create(ctx_, J(body)));
    EXPECT_TRUE(a.has_value()) << a.error().ToString();
    return *a;
  }
  std::vector<domain::AuditEvent> Audit() { return audit_->List({})->items; }

  fs::path dir_;
  FakeClock clock_;
  CallContext ctx_{"req_1", "ip:127.0.0.1"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Agents> agents_;
};

TEST_F(AgentsTest, CreateStoresVersionOneAndAudits) {
  auto a = MustCreate(R"({"model":"openai/gpt-5.5"})");
  EXPECT_TRUE(IsValidId(a.id, "agt"));
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.created_at, clock_.NowMs());
  EXPECT_EQ(agents_->Get(a.id)->spec.model, "openai/gpt-5.5");
  auto audit = Audit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "agent.create");
  EXPECT_EQ(audit[0].target, a.id);
  EXPECT_EQ(audit[0].outcome, "ok");
  EXPECT_EQ(audit[0].request_id, "req_1");
  EXPECT_EQ(audit[0].actor, "ip:127.0.0.1");
}

TEST_F(AgentsTest, InvalidCreateIsAuditedAndStoresNothing) {
  auto r = SyncWait(agents_->Create(ctx_, J(R"({"tools":[]})")));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().wire_code, "invalid_request");
  EXPECT_TRUE(agents_->List({})->items.empty());
  auto audit = Audit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].outcome, "invalid_request");
}

TEST_F(AgentsTest, UpdateMakesANewVersionAndChecksTheExpectedOne) {
  auto a = MustCreate(R"({"model":"m1","name":"x"})");
  clock_.AdvanceMs(10);
  auto u = SyncWait(agents_->Update(ctx_, a.id, J(R"({"version":1,"model":"m2"})")));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->version, 2);
  EXPECT_EQ(u->spec.model, "m2");
  EXPECT_EQ(u->spec.name, "x");
  EXPECT_EQ(u->updated_at, a.created_at + 10);
  EXPECT_EQ(u->created_at, a.created_at);

  auto stale = SyncWait(agents_->Update(ctx_, a.id, J(R"({"version":1,"model":"m3"})")));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().wire_code, "version_conflict");
  EXPECT_EQ(stale.error().message, "expected version 2, got 1");

  auto noop = SyncWait(agents_->Update(ctx_, a.id, J(R"({"version":2,"model":"m2"})")));
  ASSERT_TRUE(noop.has_value());
  EXPECT_EQ(noop->version, 2);
  EXPECT_EQ(noop->updated_at, u->updated_at);

  auto versions = agents_->Versions(a.id);
  ASSERT_TRUE(versions.has_value());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].spec.model, "m1");
}

TEST_F(AgentsTest, ArchivedAgentsRejectUpdates) {
  auto a = MustCreate(R"({"model":"m"})");
  auto archived = SyncWait(agents_->Archive(ctx_, a.id));
  ASSERT_TRUE(archived.has_value());
  EXPECT_TRUE(archived->archived_at.has_value());
  auto u = SyncWait(agents_->Update(ctx_, a.id, J(R"({"version":1,"model":"z"})")));
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().wire_code, "agent_archived");
  // A bad body is reported before the archived state.
  auto bad = SyncWait(agents_->Update(ctx_, a.id, J(R"({"model":"z"})")));
  EXPECT_EQ(bad.error().wire_code, "invalid_request");
}

TEST_F(AgentsTest, DeleteRemovesEverythingAndUnknownIdsAre404) {
  auto a = MustCreate(R"({"model":"m"})");
  ASSERT_TRUE(SyncWait(agents_->Delete(ctx_, a.id)).has_value());
  EXPECT_EQ(agents_->Get(a.id).error().wire_code, "agent_not_found");
  EXPECT_EQ(agents_->Versions(a.id).error().wire_code, "agent_not_found");
  EXPECT_EQ(SyncWait(agents_->Delete(ctx_, a.id)).error().wire_code, "agent_not_found");
  EXPECT_EQ(agents_->Get("../../etc/passwd").error().wire_code, "agent_not_found");
  auto audit = Audit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "agent.delete");
  EXPECT_EQ(audit[0].outcome, "agent_not_found");
  EXPECT_EQ(audit[1].outcome, "ok");
}

TEST_F(AgentsTest, AuditRetentionDeletesOldRows) {
  MustCreate(R"({"model":"m"})");
  clock_.AdvanceMs(31LL * 86'400'000);
  MustCreate(R"({"model":"m"})");
  EXPECT_EQ(*audit_->Cleanup(0), 0);
  EXPECT_EQ(*audit_->Cleanup(30), 1);
  EXPECT_EQ(Audit().size(), 1u);
}

TEST_F(AgentsTest, EnvironmentsCreateGetDelete) {
  Environments envs(*store_, *audit_, clock_);
  auto e = SyncWait(envs.Create(ctx_, J(R"({"name":"dev","networking":{"type":"none"}})")));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(envs.Get(e->id)->networking.type, "none");
  ASSERT_TRUE(SyncWait(envs.Delete(ctx_, e->id)).has_value());
  EXPECT_EQ(envs.Get(e->id).error().wire_code, "environment_not_found");
  EXPECT_EQ(Audit()[0].action, "environment.delete");
}

}  // namespace
}  // namespace pincer::engine
