#include "engine/conversation.h"

#include <gtest/gtest.h>

namespace pincer::engine {
namespace {

domain::Event E(std::string type, json::object payload) {
  domain::Event e;
  e.type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

TEST(ReplayLog, RebuildsAMultiStepTurn) {
  std::vector<domain::Event> log = {
      E("user.message", {{"content", "hi"}, {"model", "openai/x"}}),
      E("session.status_running", {}),
      E("agent.thinking", {{"content", "plan"}, {"_step", 1}, {"_signature", "s"}}),
      E("agent.tool_use", {{"tool_name", "t"},
                           {"tool_call_id", "c1"},
                           {"tool_arguments", json::object{{"a", 1}}},
                           {"_step", 1}}),
      E("agent.tool_result",
        {{"tool_name", "t"}, {"tool_call_id", "c1"}, {"content", "r"}, {"is_error", false}}),
      E("agent.message", {{"content", "done"}, {"_step", 2}}),
  };
  auto st = ReplayLog(log);
  ASSERT_EQ(st.messages.size(), 4u);
  EXPECT_EQ(st.messages[1].thinking_signature, "s");
  EXPECT_EQ(st.messages[1].tool_calls[0].arguments.at("a").as_int64(), 1);
  EXPECT_EQ(st.messages[2].role, llm::Message::Role::kTool);
  EXPECT_EQ(st.messages[3].text, "done");
  EXPECT_TRUE(st.turn_open);
  EXPECT_TRUE(st.turn_complete);
  EXPECT_EQ(st.steps, 2);
  EXPECT_EQ(st.last_step, 2);
  EXPECT_EQ(st.model, "openai/x");
  EXPECT_TRUE(st.dangling_tool_uses.empty());
}

TEST(ReplayLog, ReportsToolCallsCutByACrash) {
  std::vector<domain::Event> log = {
      E("user.message", {{"content", "hi"}}),
      E("agent.tool_use", {{"tool_name", "t"}, {"tool_call_id", "c1"}, {"_step", 1}}),
      E("agent.tool_use", {{"tool_name", "t"}, {"tool_call_id", "c2"}, {"_step", 1}}),
      E("agent.tool_result", {{"tool_name", "t"}, {"tool_call_id", "c1"}, {"content", "ok"}}),
  };
  auto st = ReplayLog(log);
  ASSERT_EQ(st.dangling_tool_uses.size(), 1u);
  EXPECT_EQ(st.dangling_tool_uses[0].payload.at("tool_call_id").as_string(), "c2");
  EXPECT_FALSE(st.turn_complete);
}

TEST(ReplayLog, ClosedTurnsAnswerLeftoverToolCallsAndCompactionResets) {
  std::vector<domain::Event> log = {
      E("user.message", {{"content", "one"}}),
      E("agent.tool_use", {{"tool_name", "t"}, {"tool_call_id", "c1"}, {"_step", 1}}),
      E("session.status_idle", {{"status", "idle"}}),  // cancelled mid-tool
      E("user.message", {{"content", "two"}}),
  };
  auto st = ReplayLog(log);
  ASSERT_EQ(st.messages.size(), 4u);  // user, assistant(tool call), synthetic tool result, user
  EXPECT_TRUE(st.messages[2].is_error);
  EXPECT_TRUE(st.dangling_tool_uses.empty());
  EXPECT_FALSE(st.turn_complete);

  log.push_back(E("agent.message", {{"content", "ok"}, {"_step", 2}}));
  log.push_back(E("session.status_idle", {}));
  log.push_back(E("session.compaction", {{"content", "we talked"}}));
  auto after = ReplayLog(log);
  ASSERT_EQ(after.messages.size(), 2u);
  EXPECT_NE(after.messages[0].text.find("we talked"), std::string::npos);
  EXPECT_FALSE(after.turn_open);
}

}  // namespace
}  // namespace pincer::engine
