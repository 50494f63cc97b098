#include "http/url.h"

#include <gtest/gtest.h>

namespace pincer::http {
namespace {

TEST(Url, PercentDecodes) {
  EXPECT_EQ(*PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("%e2%82%ac"), "\xe2\x82\xac");
}

TEST(Url, RejectsBadEscapesAndNul) {
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_FALSE(PercentDecode("%4").has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
  auto nul = PercentDecode("agt_%00");
  ASSERT_FALSE(nul.has_value());
  EXPECT_EQ(nul.error().wire_code, "invalid_path");
}

TEST(Url, QueryParams) {
  EXPECT_EQ(QueryParam("a=1&b=x%20y&c", "b"), "x y");
  EXPECT_EQ(QueryParam("a=1&b=2&a=3", "a"), "1");
  EXPECT_EQ(QueryParam("a=1&c", "c"), "");
  EXPECT_EQ(QueryParam("a=1", "z"), std::nullopt);
  EXPECT_EQ(QueryParam("action=agent.%25", "action"), "agent.%");
  EXPECT_EQ(QueryParam("a=%zz", "a"), std::nullopt);
}

}  // namespace
}  // namespace pincer::http
