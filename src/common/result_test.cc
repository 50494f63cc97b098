#include "common/result.h"

#include <gtest/gtest.h>

namespace pincer {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Result<void> CheckEven(int x) {
  RETURN_IF_ERROR(Half(x));
  return Ok();
}

TEST(Result, CarriesValueOrError) {
  auto ok = Half(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 4);
  auto bad = Half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().wire_code, "invalid_request");
  EXPECT_EQ(bad.error().ToString(), "invalid_request: odd: 3");
}

TEST(Result, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "odd: 3");
  EXPECT_TRUE(CheckEven(4).has_value());
  EXPECT_FALSE(CheckEven(5).has_value());
}

TEST(Result, SysErrorNamesTheCallAndErrno) {
  Error e = SysError("open(/nope)", ENOENT);
  EXPECT_EQ(e.message, "open(/nope): No such file or directory");
}

}  // namespace
}  // namespace pincer
