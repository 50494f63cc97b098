#include "common/json.h"

#include <gtest/gtest.h>

namespace pincer {
namespace {

TEST(Json, ParsesObjects) {
  auto v = ParseJson(R"({"a":1,"b":[true,null]})");
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->as_object().at("a").as_int64(), 1);
}

TEST(Json, RejectsMalformedWithOffset) {
  auto v = ParseJson(R"({"a":1,})");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message.find("malformed JSON at byte"), std::string::npos)
      << v.error().message;
}

TEST(Json, RejectsEmptyBody) {
  auto v = ParseJson("  ");
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("empty"), std::string::npos);
}

TEST(Json, RejectsNestingBeyondLimitWithoutRecursing) {
  std::string deep(100000, '[');
  auto v = ParseJson(deep);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("deeper than 64"), std::string::npos) << v.error().message;
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(ParseJson(ok).has_value());
}

TEST(Json, RejectsInvalidUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong "/"
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  auto v = ParseJson("{\"a\":\"\xff\"}");
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("UTF-8"), std::string::npos);
}

TEST(Json, SerializesNumbersInTheirShortestForm) {
  json::object o{
      {"a", 2.0},    {"b", 0.1},         {"c", 1e-7},    {"d", int64_t{-3}},
      {"e", 0.0123}, {"s", "q\"\n\x01"}, {"n", nullptr}, {"l", json::array{true, false}}};
  EXPECT_EQ(
      ToJson(o),
      R"({"a":2,"b":0.1,"c":1e-07,"d":-3,"e":0.0123,"s":"q\"\n\u0001","n":null,"l":[true,false]})");
  auto back = ParseJson(ToJson(o));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->as_object().at("e").as_double(), 0.0123);
}

TEST(Json, FindFieldTreatsNullAsAbsent) {
  auto v = ParseJson(R"({"a":null,"b":2})");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(FindField(v->as_object(), "a"), nullptr);
  EXPECT_EQ(FindField(v->as_object(), "c"), nullptr);
  ASSERT_NE(FindField(v->as_object(), "b"), nullptr);
}

}  // namespace
}  // namespace pincer

namespace pincer {
namespace {

TEST(Json, RejectsNumbersADoubleCannotHold) {
  for (const char* text : {R"({"a":1e999})", R"([0,[-1e400]])", R"({"x":{"y":0e999}})"}) {
    auto v = ParseJson(text);
    ASSERT_FALSE(v) << text;
    EXPECT_NE(v.error().message.find("out of range"), std::string::npos) << v.error().message;
  }
  EXPECT_TRUE(ParseJson(R"({"a":1e308,"b":-2.5e-300})"));
}

}  // namespace
}  // namespace pincer
