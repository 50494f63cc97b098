#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "common/crypto.h"

namespace pincer {
namespace {

TEST(Ids, HavePrefixAndTwelveLowercaseAlphanumerics) {
  std::string id = NewId("agt");
  EXPECT_EQ(id.size(), 16u);
  EXPECT_TRUE(IsValidId(id, "agt"));
  EXPECT_FALSE(IsValidId(id, "env"));
}

TEST(Ids, AreUniqueAndUseTheWholeAlphabet) {
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 5000; ++i) {
    std::string id = NewId("env");
    EXPECT_TRUE(seen.insert(id).second);
    for (char c : id.substr(4)) chars.insert(c);
  }
  EXPECT_EQ(chars.size(), 36u);
}

TEST(Ids, ValidationRejectsMalformed) {
  EXPECT_FALSE(IsValidId("agt_ABCDEFGHIJKL", "agt"));
  EXPECT_FALSE(IsValidId("agt_abc", "agt"));
  EXPECT_FALSE(IsValidId("agt-abcdefghijkl", "agt"));
  EXPECT_FALSE(IsValidId("agt_abcdefghij/.", "agt"));
  EXPECT_FALSE(IsValidId("", "agt"));
}

TEST(Ids, RequestIdsAreReqPlus16Hex) {
  std::string id = NewRequestId();
  ASSERT_EQ(id.size(), 20u);
  EXPECT_EQ(id.substr(0, 4), "req_");
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 4), std::string::npos);
}

TEST(Crypto, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace pincer

namespace pincer {
namespace {

TEST(Crypto, SealOpensWithTheSameKeyOnly) {
  std::string key(32, 'k');
  std::string sealed = Seal(key, "the secret token");
  EXPECT_EQ(sealed.find("secret"), std::string::npos);
  EXPECT_EQ(sealed.size(), 2 * (12 + 16 + 16));
  auto opened = Open(key, sealed);
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(*opened, "the secret token");
  EXPECT_NE(Seal(key, "the secret token"), sealed);  // fresh nonce each time

  EXPECT_FALSE(static_cast<bool>(Open(std::string(32, 'x'), sealed)));
  std::string tampered = sealed;
  tampered[30] = tampered[30] == '0' ? '1' : '0';
  EXPECT_FALSE(static_cast<bool>(Open(key, tampered)));
  EXPECT_FALSE(static_cast<bool>(Open(key, "zz")));
  EXPECT_FALSE(static_cast<bool>(Open(key, sealed.substr(0, 20))));
}

TEST(Crypto, HexRoundTrip) {
  std::string bytes("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(ToHex(bytes), "0001feff");
  EXPECT_EQ(*FromHex("0001FEff"), bytes);
  EXPECT_FALSE(static_cast<bool>(FromHex("abc")));
  EXPECT_FALSE(static_cast<bool>(FromHex("zz")));
}

}  // namespace
}  // namespace pincer

#include "common/clock.h"

namespace pincer {
namespace {

TEST(Rfc3339, FormatsAndParsesUtcMilliseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1775536060001), "2026-04-07T04:27:40.001Z");
  EXPECT_EQ(ParseRfc3339("2026-04-07T04:27:40.001Z"), 1775536060001);
  EXPECT_EQ(ParseRfc3339("2026-04-07T04:27:40Z"), 1775536060000);
  EXPECT_EQ(ParseRfc3339("2026-04-07T06:27:40.5+02:00"), 1775536060500);
  for (const char* bad :
       {"", "2026-04-07", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-07T04:27:40",
        "2026-04-07T04:27:40.Z", "2026-04-07T04:27:40Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  for (int64_t ms : {int64_t{1}, int64_t{951782400123}, int64_t{4102444799999}}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(ms)), ms);
  }
}

}  // namespace
}  // namespace pincer
