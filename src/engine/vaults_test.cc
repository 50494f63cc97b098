#include "engine/vaults.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/crypto.h"
#include "common/ids.h"

namespace pincer::engine {
namespace {

namespace fs = std::filesystem;

class VaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pincer-vaults-" + NewId("t"));
    auto s = store::OpenSqliteStore({(dir_ / "db").string()});
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    audit_ = std::make_unique<AuditLog>(*store_, clock_);
    Config config;
    config.data_dir = dir_.string();
    auto key = Vaults::LoadKey(config);
    ASSERT_TRUE(key) << key.error().ToString();
    vaults_ = std::make_unique<Vaults>(*store_, *audit_, clock_, *key);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  static json::value J(std::string_view s) { return *ParseJson(s); }

  fs::path dir_;
  FakeClock clock_;
  CallContext ctx_{"req_1", "ip:127.0.0.1"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Vaults> vaults_;
};

TEST_F(VaultsTest, SecretsAreSealedAtRestAndKeptAcrossPartialUpdates) {
  domain::Vault v;
  v.display_name = "team";
  auto vault = SyncWait(vaults_->Create(ctx_, v));
  ASSERT_TRUE(vault) << vault.error().ToString();
  auto cred = SyncWait(vaults_->AddCredential(
      ctx_, vault->id, {},
      J(R"({"type":"static_bearer","mcp_server_url":"https://mcp.example/","token":"tok-123"})")));
  ASSERT_TRUE(cred) << cred.error().ToString();
  auto stored = vaults_->GetCredential(vault->id, cred->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(ToJson(stored->auth).find("tok-123"), std::string::npos);
  EXPECT_EQ(stored->sealed.find(ToHex("tok-123")), std::string::npos);
  EXPECT_EQ(vaults_->Secrets(*stored)->at("token").as_string(), "tok-123");

  // The database file never holds the token in clear.
  store_.reset();
  std::string raw;
  for (const auto& f : fs::directory_iterator(dir_)) {
    if (f.path().filename().string().rfind("db", 0) != 0) continue;
    std::ifstream in(f.path(), std::ios::binary);
    raw.append(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(raw.find("mcp.example"), std::string::npos);
  EXPECT_EQ(raw.find("tok-123"), std::string::npos);
  auto s = store::OpenSqliteStore({(dir_ / "db").string()});
  ASSERT_TRUE(s);
  store_ = std::move(*s);
  audit_ = std::make_unique<AuditLog>(*store_, clock_);
  Config config;
  config.data_dir = dir_.string();
  vaults_ = std::make_unique<Vaults>(*store_, *audit_, clock_,
                                     *Vaults::LoadKey(config));  // same key file

  auto renamed = SyncWait(vaults_->ModifyCredential(
      ctx_, vault->id, cred->id,
      [](domain::Credential& c) -> Result<void> {
        c.display_name = "renamed";
        return Ok();
      },
      J(R"({"type":"static_bearer","mcp_server_url":"https://mcp2.example/"})")));
  ASSERT_TRUE(renamed) << renamed.error().ToString();
  EXPECT_EQ(renamed->auth.at("mcp_server_url").as_string(), "https://mcp2.example/");
  EXPECT_EQ(vaults_->Secrets(*renamed)->at("token").as_string(), "tok-123");

  auto wrong_type = SyncWait(vaults_->ModifyCredential(
      ctx_, vault->id, cred->id, [](domain::Credential&) -> Result<void> { return Ok(); },
      J(R"({"type":"environment_variable","secret_name":"X"})")));
  EXPECT_FALSE(wrong_type);

  EXPECT_FALSE(vaults_->GetCredential("vlt_other", cred->id));
  ASSERT_TRUE(SyncWait(vaults_->Delete(ctx_, vault->id)));
  EXPECT_FALSE(vaults_->GetCredential(vault->id, cred->id));
}

TEST_F(VaultsTest, ConfiguredKeyMustBeHex) {
  Config config;
  config.vault_key = std::string(64, 'a');
  auto key = Vaults::LoadKey(config);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 32u);
}

}  // namespace
}  // namespace pincer::engine
