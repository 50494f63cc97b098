#include "domain/environment.h"

#include <gtest/gtest.h>

namespace pincer::domain {
namespace {

json::value J(std::string_view s) { return *ParseJson(s); }

TEST(Environment, DefaultsToUnrestrictedAndNullPackages) {
  auto e = ParseEnvironmentCreate(J(R"({"name":"dev"})"));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  e->id = "env_000000000000";
  e->created_at = 7;
  EXPECT_EQ(ToJson(EnvironmentToJson(*e)),
            R"({"environment_id":"env_000000000000","name":"dev","description":"",)"
            R"("packages":null,"networking":{"type":"unrestricted"},"created_at":7})");
}

TEST(Environment, LimitedNetworkingFillsDefaults) {
  auto e = ParseEnvironmentCreate(J(
      R"({"name":"n","packages":{"pip":["requests==2.31"],"apt":["jq"]},
          "networking":{"type":"limited","allowedHosts":["api.github.com","*.pypi.org"]}})"));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  auto o = EnvironmentToJson(*e);
  EXPECT_EQ(ToJson(o.at("networking")),
            R"({"type":"limited","allowedHosts":["api.github.com","*.pypi.org"],)"
            R"("allowMcpServers":false,"allowPackageManagers":false})");
  EXPECT_EQ(ToJson(o.at("packages")), R"({"apt":["jq"],"pip":["requests==2.31"]})");
  Environment back;
  ASSERT_TRUE(EnvironmentSpecFromStorage(EnvironmentSpecToStorage(*e), back).has_value());
  back.id = e->id;
  back.name = e->name;
  EXPECT_EQ(ToJson(EnvironmentToJson(back)), ToJson(o));
}

TEST(Environment, AllowedHostRules) {
  EXPECT_TRUE(IsValidAllowedHost("api.github.com"));
  EXPECT_TRUE(IsValidAllowedHost("*.example.com"));
  EXPECT_TRUE(IsValidAllowedHost("EXAMPLE.com"));
  EXPECT_TRUE(IsValidAllowedHost("a"));
  EXPECT_FALSE(IsValidAllowedHost("1.2.3.4"));
  EXPECT_FALSE(IsValidAllowedHost("10"));
  EXPECT_FALSE(IsValidAllowedHost("https://x.com"));
  EXPECT_FALSE(IsValidAllowedHost("x.com:443"));
  EXPECT_FALSE(IsValidAllowedHost("x.com/path"));
  EXPECT_FALSE(IsValidAllowedHost("10.0.0.0/8"));
  EXPECT_FALSE(IsValidAllowedHost("-x.com"));
  EXPECT_FALSE(IsValidAllowedHost("x.com."));
  EXPECT_FALSE(IsValidAllowedHost(std::string(254, 'a')));
}

TEST(Environment, RejectsBadInputNamingTheField) {
  auto msg = [](std::string_view body) {
    auto r = ParseEnvironmentCreate(J(body));
    return r.has_value() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(msg(R"({})"), "name: required");
  EXPECT_EQ(msg(R"({"name":""})"), "name: must not be empty");
  EXPECT_EQ(msg(R"({"name":"x","description":")" + std::string(501, 'd') + R"("})"),
            "description: must be at most 500 bytes");
  EXPECT_EQ(msg(R"({"name":"x","packages":{"brew":["x"]}})"), "packages.brew: unrecognized key");
  EXPECT_EQ(msg(R"({"name":"x","packages":{"apt":["x; rm -rf /"]}})"),
            "packages.apt.0: not a package name (no spaces, shell characters or leading '-')");
  EXPECT_EQ(msg(R"({"name":"x","networking":{"type":"open"}})"),
            "networking.type: must be one of unrestricted, limited, none");
  EXPECT_EQ(msg(R"({"name":"x","networking":{"type":"limited"}})"),
            "networking.allowedHosts: required when type is limited");
  EXPECT_EQ(msg(R"({"name":"x","networking":{"type":"limited","allowedHosts":[]}})"),
            "networking.allowedHosts: must have at least 1 host");
  EXPECT_EQ(msg(R"({"name":"x","networking":{"type":"limited","allowedHosts":["1.2.3.4"]}})"),
            "networking.allowedHosts.0: must be a host name or *.wildcard (no scheme, port, path, "
            "IP or CIDR)");
  EXPECT_EQ(msg(R"({"name":"x","networking":{"type":"none"}})"), "ok");
}

}  // namespace
}  // namespace pincer::domain
