#include "api/auth.h"

#include <gtest/gtest.h>

namespace pincer::api {
namespace {

http::Request Req(std::string path, std::string auth = "", std::string query = "") {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  r.peer = "10.0.0.9";
  if (!auth.empty()) r.headers.Add("Authorization", std::move(auth));
  return r;
}

std::string Message(const Result<void>& r) { return r ? "ok" : r.error().message; }

TEST(Auth, DisabledWithoutToken) {
  Authenticator a("");
  EXPECT_FALSE(a.enabled());
  EXPECT_TRUE(a.Check(Req("/v1/agents")).has_value());
}

TEST(Auth, AcceptsBearerCaseInsensitiveOrQueryToken) {
  Authenticator a("s3cret");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "Bearer s3cret"))), "ok");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "bEaReR   s3cret  "))), "ok");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "", "token=s3cret"))), "ok");
}

TEST(Auth, RejectsWithTheSeedMessages) {
  Authenticator a("s3cret");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents"))),
            "missing Authorization header (expected: Bearer <token>)");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "Basic abc"))),
            "Authorization header must use Bearer scheme");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "Bearer  "))), "empty bearer token");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "Bearer wrong"))), "invalid token");
  EXPECT_EQ(Message(a.Check(Req("/v1/agents", "", "token=wrong"))), "invalid token");
  EXPECT_EQ(a.Check(Req("/v1/agents")).error().code, ErrorCode::kUnauthenticated);
}

TEST(Auth, AcceptsTheAnthropicApiKeyHeader) {
  Authenticator a("s3cret");
  auto r = Req("/anthropic/v1/agents");
  r.headers.Add("x-api-key", "s3cret");
  EXPECT_EQ(Message(a.Check(r)), "ok");
  EXPECT_EQ(Actor(r, true), Actor(Req("/v1/agents", "Bearer s3cret"), true));
  EXPECT_EQ(RateLimitKey(r, true), RateLimitKey(Req("/v1/agents", "Bearer s3cret"), true));
  auto wrong = Req("/anthropic/v1/agents");
  wrong.headers.Add("x-api-key", "nope");
  EXPECT_EQ(Message(a.Check(wrong)), "invalid token");
  auto empty = Req("/anthropic/v1/agents");
  empty.headers.Add("x-api-key", " ");
  EXPECT_FALSE(a.Check(empty).has_value());
}

TEST(Auth, BypassListNeedsNoToken) {
  Authenticator a("s3cret");
  for (const char* p : {"/", "/healthz", "/metrics"}) EXPECT_TRUE(a.Check(Req(p)).has_value()) << p;
  EXPECT_FALSE(a.Check(Req("/healthz/x")).has_value());
}

TEST(Auth, RateLimitKeysAndActors) {
  auto r = Req("/v1/agents", "Bearer abc");
  EXPECT_EQ(RateLimitKey(r, true), "t:ba7816bf8f01cfea");
  EXPECT_EQ(Actor(r, true), "token:ba7816bf");
  auto ip = Req("/v1/agents");
  ip.headers.Add("X-Forwarded-For", " 1.2.3.4 , 5.6.7.8");
  EXPECT_EQ(RateLimitKey(ip, true), "i:1.2.3.4");
  EXPECT_EQ(RateLimitKey(ip, false), "i:10.0.0.9");
  EXPECT_EQ(Actor(ip, true), "ip:1.2.3.4");
  auto real = Req("/v1/agents");
  real.headers.Add("X-Real-IP", "9.9.9.9");
  EXPECT_EQ(RateLimitKey(real, true), "i:9.9.9.9");
  auto none = Req("/v1/agents");
  none.peer = "";
  EXPECT_EQ(RateLimitKey(none, true), "");
  EXPECT_EQ(Actor(none, true), "anonymous");
}

}  // namespace
}  // namespace pincer::api
