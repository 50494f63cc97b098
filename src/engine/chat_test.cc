// ChatTextStream: what a streaming chat client is sent, frame by frame.

#include "engine/chat.h"

#include <gtest/gtest.h>

namespace pincer::engine {
namespace {

Frame Delta(const std::string& text) {
  return Frame{"agent.message.delta", 0,
               R"({"type":"agent.message.delta","delta":)" + ToJson(json::value(text)) + "}", true,
               ""};
}
Frame Message(int64_t seq, const std::string& content) {
  return Frame{"agent.message", seq,
               R"({"type":"agent.message","content":)" + ToJson(json::value(content)) + "}", false,
               ""};
}
Frame Reset() { return Frame{"agent.stream_reset", 0, "{}", true, ""}; }

std::string FeedAll(ChatTextStream& s, const std::vector<Frame>& frames) {
  std::string out;
  for (const auto& f : frames) out += s.Feed(f);
  return out;
}

TEST(ChatTextStream, DeltasThenTheMessageSendEachCharacterOnce) {
  ChatTextStream s;
  EXPECT_EQ(FeedAll(s, {Delta("Hel"), Delta("lo"), Message(3, "Hello")}), "Hello");
  EXPECT_EQ(s.Rest("Hello"), "");
}

TEST(ChatTextStream, ARetriedAttemptRepeatsNothingAlreadySent) {
  ChatTextStream s;
  std::string out = FeedAll(s, {Delta("hel"), Delta("lo w"), Reset(), Delta("he"), Delta("llo"),
                                Delta(" world"), Message(4, "hello world")});
  EXPECT_EQ(out, "hello world");
}

TEST(ChatTextStream, StepsAreSeparatedAndMissedTextComesFromTheMessage) {
  ChatTextStream s;
  // The first step's deltas were partly missed; the second step streamed nothing.
  std::string out =
      FeedAll(s, {Delta("Let me "), Message(3, "Let me look."), Message(6, "It is 42.")});
  EXPECT_EQ(out, std::string("Let me look.") + std::string(kStepSeparator) + "It is 42.");
  EXPECT_EQ(s.Rest(out), "");
}

TEST(ChatTextStream, RestSendsWhatTheLogHasBeyondTheStream) {
  ChatTextStream s;
  EXPECT_EQ(FeedAll(s, {Delta("par")}), "par");
  EXPECT_EQ(s.Rest("partial reply"), "tial reply");
  EXPECT_EQ(s.Rest("something else"), "");  // diverged: nothing sensible to add
}

TEST(ChatTextStream, OtherFramesAreIgnored) {
  ChatTextStream s;
  EXPECT_EQ(s.Feed(Frame{"agent.tool_use", 2, R"({"content":"bash"})", false, ""}), "");
  EXPECT_EQ(s.Feed(Frame{"agent.message", 0, R"({"content":"transient"})", false, ""}), "");
  EXPECT_EQ(s.Feed(Frame{"agent.message.delta", 0, "not json", true, ""}), "");
}

}  // namespace
}  // namespace pincer::engine
