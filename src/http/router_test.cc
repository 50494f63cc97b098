#include "http/router.h"

#include <gtest/gtest.h>

namespace pincer::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) -> Task<Response> { co_return Response::Text(200, name, "text/plain"); };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    r.Add("GET", "/v1/agents", Named("list"));
    r.Add("POST", "/v1/agents", Named("create"));
    r.Add("GET", "/v1/agents/:agentId", Named("get"));
    r.Add("PATCH", "/v1/agents/:agentId", Named("patch"));
    r.Add("GET", "/v1/agents/:agentId/versions", Named("versions"));
    r.Add("GET", "/v1/agents/:agentId/files/*path", Named("file"));
    r.Add("GET", "/", Named("root"));
  }
  Router r;
};

TEST_F(RouterTest, MatchesLiteralsAndParams) {
  auto m = r.Find("GET", "/v1/agents/agt_abc");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.pattern, "/v1/agents/:agentId");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "agentId");
  EXPECT_EQ(m.params[0].second, "agt_abc");
  EXPECT_EQ(r.Find("GET", "/v1/agents").pattern, "/v1/agents");
  EXPECT_EQ(r.Find("GET", "/").pattern, "/");
  EXPECT_EQ(r.Find("GET", "/v1/agents/x/versions").pattern, "/v1/agents/:agentId/versions");
}

TEST_F(RouterTest, WildcardCapturesTheRest) {
  auto m = r.Find("GET", "/v1/agents/a/files/dir/sub/f.txt");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.back().second, "dir/sub/f.txt");
}

TEST_F(RouterTest, DistinguishesNotFoundFromMethodNotAllowed) {
  EXPECT_EQ(r.Find("GET", "/v1/nope").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/agents/a/b/c").outcome, Router::Outcome::kNotFound);
  auto m = r.Find("DELETE", "/v1/agents");
  ASSERT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
  EXPECT_EQ(m.pattern, "/v1/agents");
}

TEST_F(RouterTest, RejectsTraversalAndNul) {
  EXPECT_EQ(r.Find("GET", "/v1/agents/%00").outcome, Router::Outcome::kBadPath);
  EXPECT_EQ(r.Find("GET", "/v1/agents/%zz").outcome, Router::Outcome::kBadPath);
  EXPECT_EQ(r.Find("GET", "/v1/agents/..").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/agents/%2e%2e").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/agents/a%2Fb").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/agents/").outcome, Router::Outcome::kNotFound);
}

TEST_F(RouterTest, ListsRoutes) { EXPECT_EQ(r.Routes().size(), 7u); }

}  // namespace
}  // namespace pincer::http
