#include "domain/vault.h"

#include <gtest/gtest.h>

#include "domain/validation.h"

namespace pincer::domain {
namespace {

json::value Parse(std::string_view s) { return *ParseJson(s); }

TEST(CredentialAuth, StaticBearerKeepsTheTokenOutOfThePublicPart) {
  auto split = SplitCredentialAuth(
      Parse(
          R"({"type":"static_bearer","mcp_server_url":"https://mcp.example.com/","token":"s3cret"})"),
      false);
  ASSERT_TRUE(split) << split.error().message;
  EXPECT_EQ(ToJson(split->public_part),
            R"({"type":"static_bearer","mcp_server_url":"https://mcp.example.com/"})");
  EXPECT_EQ(ToJson(split->secret), R"({"token":"s3cret"})");
}

TEST(CredentialAuth, OauthSecretsAreRemovedAtEveryDepth) {
  auto split =
      SplitCredentialAuth(Parse(R"({"type":"mcp_oauth","mcp_server_url":"https://m.example/",
      "access_token":"at","refresh":{"client_id":"c","refresh_token":"rt","token_endpoint":"https://t.example/",
      "token_endpoint_auth":{"type":"client_secret_post","client_secret":"cs"}}})"),
                          false);
  ASSERT_TRUE(split) << split.error().message;
  std::string pub = ToJson(split->public_part);
  for (const char* secret : {"\"at\"", "\"rt\"", "\"cs\""})
    EXPECT_EQ(pub.find(secret), std::string::npos) << pub;
  EXPECT_NE(pub.find("client_secret_post"), std::string::npos);
  EXPECT_EQ(split->secret.size(), 3u);
  EXPECT_EQ(split->secret.at("refresh.token_endpoint_auth.client_secret").as_string(), "cs");
}

TEST(CredentialAuth, RejectsMissingSecretsAndBadShapes) {
  auto missing = SplitCredentialAuth(
      Parse(R"({"type":"static_bearer","mcp_server_url":"https://x/"})"), false);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("auth.token: required"), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(SplitCredentialAuth(
      Parse(R"({"type":"static_bearer","mcp_server_url":"ftp://x","token":"t"})"), false));
  EXPECT_FALSE(SplitCredentialAuth(Parse(R"({"type":"other"})"), false));
  EXPECT_FALSE(SplitCredentialAuth(Parse(R"("x")"), false));
  EXPECT_FALSE(SplitCredentialAuth(
      Parse(R"({"type":"environment_variable","secret_name":"A B","secret_value":"v"})"), false));
  // Updates may omit secrets.
  EXPECT_TRUE(SplitCredentialAuth(
      Parse(R"({"type":"static_bearer","mcp_server_url":"https://x/"})"), true));
}

TEST(Metadata, PatchSetsAndDeletesKeysWithinLimits) {
  json::object m{{"a", "1"}, {"b", "2"}};
  FieldErrors errors;
  PatchMetadata(m, Parse(R"({"a":null,"c":"3"})"), "metadata", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(ToJson(m), R"({"b":"2","c":"3"})");
  PatchMetadata(m, Parse(R"({"d":7})"), "metadata", errors);
  EXPECT_FALSE(errors.empty());
  FieldErrors too_many;
  json::object big;
  for (int i = 0; i < 17; ++i) big[std::to_string(i)] = "v";
  EXPECT_FALSE(CheckMetadata(big, "metadata", too_many));
}

}  // namespace
}  // namespace pincer::domain
