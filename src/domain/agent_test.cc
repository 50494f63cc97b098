#include "domain/agent.h"

#include <gtest/gtest.h>

namespace pincer::domain {
namespace {

json::value J(std::string_view s) { return *ParseJson(s); }

TEST(AgentCreate, AppliesSeedDefaults) {
  auto spec = ParseAgentCreate(J(R"({"model":"openai/gpt-5.5"})"));
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  Agent a{"agt_000000000000", *spec, 1, 5, 5, std::nullopt};
  auto o = AgentToJson(a);
  EXPECT_EQ(
      ToJson(o),
      R"({"agent_id":"agt_000000000000","model":"openai/gpt-5.5","tools":[],"instructions":"",)"
      R"("permission_policy":{"type":"always_allow"},"callable_agents":[],"max_subagent_depth":0,)"
      R"("mcp_servers":{},"thinking_level":"off","channels":{"telegram":{"enabled":false}},)"
      R"("version":1,"created_at":5,"updated_at":5,"archived_at":null})");
}

TEST(AgentCreate, EchoesEveryField) {
  auto spec = ParseAgentCreate(J(R"({
    "model":"anthropic/claude-sonnet-4-6","tools":["bash","read"],"instructions":"be brief",
    "name":"helper","permissionPolicy":{"type":"always_ask","tools":["bash"]},
    "thinkingLevel":"high","callableAgents":["agt_aaaaaaaaaaaa"],"maxSubagentDepth":2,
    "mcpServers":{"gh":{"url":"https://mcp.example.com/x","headers":{"X":"1"},"extra":true},
                  "fs":{"command":"mcp-fs","args":["--root","/w"],"env":{"A":1,"B":"x","C":true}}},
    "quota":{"maxCostUsdPerSession":1.5,"maxTokensPerSession":1000,"maxWallDurationMs":60000},
    "channels":{"telegram":{"enabled":true,"botToken":"t"}}})"));
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->tools.size(), 2u);
  EXPECT_EQ(spec->permission_policy.type, "always_ask");
  EXPECT_EQ(spec->quota->max_tokens_per_session, 1000);
  EXPECT_TRUE(spec->mcp_servers.at("gh").as_object().at("extra").as_bool());
  // Storage round trip keeps everything.
  auto back = AgentSpecFromStorage(AgentSpecToStorage(*spec));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(SameSpec(*spec, *back));
  EXPECT_EQ(back->name, "helper");
  EXPECT_EQ(back->quota->max_cost_usd_per_session, 1.5);
}

struct BadCase {
  const char* body;
  const char* message;
};

class AgentCreateRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(AgentCreateRejects, NamingTheField) {
  auto r = ParseAgentCreate(J(GetParam().body));
  ASSERT_FALSE(r.has_value()) << GetParam().body;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().wire_code, "invalid_request");
  EXPECT_EQ(r.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AgentCreateRejects,
    ::testing::Values(
        BadCase{R"({})", "model: required"},
        BadCase{R"([])", "body: expected a JSON object, got array"},
        BadCase{R"({"model":""})", "model: must not be empty"},
        BadCase{R"({"model":42})", "model: expected string, got number"},
        BadCase{R"({"model":"m","tools":"bash"})", "tools: expected array of strings, got string"},
        BadCase{R"({"model":"m","tools":["bash",1]})", "tools.1: expected string, got number"},
        BadCase{R"({"model":"m","thinkingLevel":"max"})",
                "thinkingLevel: must be one of off, low, medium, high, xhigh"},
        BadCase{R"({"model":"m","permissionPolicy":{"type":"sometimes"}})",
                "permissionPolicy.type: must be one of always_allow, deny, always_ask"},
        BadCase{R"({"model":"m","permissionPolicy":{"type":"deny"}})",
                "permissionPolicy.tools: deny needs at least one tool"},
        BadCase{R"({"model":"m","permissionPolicy":{"type":"deny","tools":[]}})",
                "permissionPolicy.tools: deny needs at least one tool"},
        BadCase{R"({"model":"m","maxSubagentDepth":-1})", "maxSubagentDepth: must be at least 0"},
        BadCase{R"({"model":"m","maxSubagentDepth":1.5})",
                "maxSubagentDepth: expected integer, got fraction"},
        BadCase{R"({"model":"m","quota":{"maxCostUsdPerSession":0}})",
                "quota.maxCostUsdPerSession: must be greater than 0"},
        BadCase{R"({"model":"m","quota":{"maxTokens":5}})", "quota.maxTokens: unrecognized key"},
        BadCase{R"({"model":"m","mcpServers":{"x":{"url":"not a url"}}})",
                "mcpServers.x.url: must be a URL"},
        BadCase{R"({"model":"m","mcpServers":{"x":{"env":{"A":[1]}}}})",
                "mcpServers.x.env.A: expected string, number or boolean"},
        BadCase{R"({"model":"m","channels":{"telegram":{"enabled":"yes"}}})",
                "channels.telegram.enabled: expected boolean, got string"},
        BadCase{R"({"model":null})", "model: must not be null"},
        BadCase{R"({"thinkingLevel":"x"})",
                "model: required; thinkingLevel: must be one of off, low, medium, high, xhigh"}));

TEST(AgentCreate, DetailsTreeIsZodShaped) {
  auto r = ParseAgentCreate(J(R"({"permissionPolicy":{"type":"deny"}})"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().details_json,
            R"({"_errors":[],"model":{"_errors":["required"]},"permissionPolicy":{"_errors":[],)"
            R"("tools":{"_errors":["deny needs at least one tool"]}}})");
}

TEST(AgentUpdate, RequiresVersionAndPatches) {
  auto base = *ParseAgentCreate(
      J(R"({"model":"m","tools":["a"],"name":"n","quota":{"maxTokensPerSession":5}})"));
  auto missing = ParseAgentUpdate(J(R"({"model":"x"})"), base);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "version: required");

  auto u = ParseAgentUpdate(
      J(R"({"version":1,"instructions":"hi","tools":null,"name":null,"quota":null})"), base);
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->expected_version, 1);
  EXPECT_EQ(u->spec.model, "m");
  EXPECT_EQ(u->spec.instructions, "hi");
  EXPECT_TRUE(u->spec.tools.empty());
  EXPECT_FALSE(u->spec.name.has_value());
  EXPECT_FALSE(u->spec.quota.has_value());
  EXPECT_FALSE(SameSpec(u->spec, base));

  auto noop = ParseAgentUpdate(J(R"({"version":1,"model":"m"})"), base);
  ASSERT_TRUE(noop.has_value());
  EXPECT_TRUE(SameSpec(noop->spec, base));

  auto bad_null = ParseAgentUpdate(J(R"({"version":1,"model":null})"), base);
  ASSERT_FALSE(bad_null.has_value());
  EXPECT_EQ(bad_null.error().message, "model: must not be null");
}

}  // namespace
}  // namespace pincer::domain
