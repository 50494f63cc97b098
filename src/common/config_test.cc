#include "common/config.h"

#include <gtest/gtest.h>

#include <map>

namespace pincer {
namespace {

Result<Config> Load(std::map<std::string, std::string> values) {
  return LoadConfig([&](const std::string& k) -> std::optional<std::string> {
    auto it = values.find(k);
    if (it == values.end()) return std::nullopt;
    return it->second;
  });
}

TEST(Config, DefaultsMatchTheDocs) {
  auto c = Load({});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->rate_limit_rpm, 120);
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(c->audit_retention_days, 30);
  EXPECT_TRUE(c->api_token.empty());
}

TEST(Config, ReadsValues) {
  auto c = Load({{"PINCER_PORT", "0"},
                 {"PINCER_API_TOKEN", "  tok  "},
                 {"PINCER_LOG_FORMAT", "pretty"},
                 {"PINCER_TRUST_FORWARDED_FOR", "false"}});
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->port, 0);
  EXPECT_EQ(c->api_token, "tok");
  EXPECT_EQ(c->log_format, "pretty");
  EXPECT_FALSE(c->trust_forwarded_for);
}

TEST(Config, InvalidValuesNameTheSettingAndFlag) {
  auto c = Load({{"PINCER_PORT", "80x"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message, "PINCER_PORT (--port) must be an integer in 0..65535, got \"80x\"");
  c = Load({{"PINCER_PORT", "70000"}});
  ASSERT_FALSE(c.has_value());
  c = Load({{"PINCER_LOG_FORMAT", "xml"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message,
            "PINCER_LOG_FORMAT (--log-format) must be one of json | pretty, got \"xml\"");
  c = Load({{"PINCER_RATE_LIMIT_RPM", "-1"}});
  ASSERT_FALSE(c.has_value());
  c = Load({{"PINCER_DATA_DIR", ""}});
  ASSERT_FALSE(c.has_value());
}

}  // namespace
}  // namespace pincer
