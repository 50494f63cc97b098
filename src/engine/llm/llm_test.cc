#include <gtest/gtest.h>

#include <deque>

#include "common/thread_executor.h"
#include "engine/llm/anthropic_messages.h"
#include "engine/llm/openai_chat.h"
#include "engine/llm/pricing.h"
#include "engine/llm/provider_errors.h"
#include "engine/llm/registry.h"
#include "engine/llm/retry.h"
#include "engine/llm/sse_parser.h"

namespace pincer::llm {
namespace {

TEST(SseParser, HandlesSplitChunksCrLfAndMultilineData) {
  std::vector<std::pair<std::string, std::string>> got;
  SseParser p([&](std::string_view ev, std::string_view data) { got.emplace_back(ev, data); });
  p.Feed("event: a\r\nda");
  p.Feed("ta: x\r\ndata: y\r\n\r\n: comment\n\ndata: z\n");
  p.Finish();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "a");
  EXPECT_EQ(got[0].second, "x\ny");
  EXPECT_EQ(got[1].first, "");
  EXPECT_EQ(got[1].second, "z");
}

TEST(OpenAiDecoder, AssemblesTextToolCallsAndUsage) {
  std::string streamed;
  StreamHandler h;
  h.on_text = [&](std::string_view t) { streamed += t; };
  OpenAiStreamDecoder d("openai", h);
  d.OnData(
      R"({"model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]})");
  d.OnData(R"({"choices":[{"index":0,"delta":{"content":"lo"}}]})");
  d.OnData(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"test_echo","arguments":""}}]}}]})");
  d.OnData(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"te"}}]}}]})");
  d.OnData(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"xt\":\"hi\"}"}}]}}]})");
  d.OnData(R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})");
  d.OnData(
      R"({"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":40},"cost":0.5}})");
  d.OnData("[DONE]");
  auto r = d.Finish();
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->text, "Hello");
  EXPECT_EQ(streamed, "Hello");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].id, "call_1");
  EXPECT_EQ(r->tool_calls[0].arguments.at("text").as_string(), "hi");
  EXPECT_EQ(r->stop_reason, "tool_use");
  EXPECT_EQ(r->usage.input, 60);
  EXPECT_EQ(r->usage.cache_read, 40);
  EXPECT_EQ(r->usage.output, 7);
  EXPECT_TRUE(r->cost_reported);
  EXPECT_EQ(r->usage.cost_usd, 0.5);
  EXPECT_EQ(r->model, "gpt-x");
}

TEST(OpenAiDecoder, ErrorInsideTheStreamIsRetryable) {
  StreamHandler h;
  OpenAiStreamDecoder d("openrouter", h);
  d.OnData(R"({"error":{"type":"server_error","message":"upstream died"}})");
  auto r = d.Finish();
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(IsRetryable(r.error()));
  EXPECT_NE(r.error().message.find("upstream died"), std::string::npos);
}

TEST(OpenAiBody, MapsMessagesToolsAndReasoning) {
  Request req;
  req.model = "gpt-5.5";
  req.system = "be brief";
  req.thinking_level = "xhigh";
  Message u{Message::Role::kUser, "hi"};
  Message a;
  a.role = Message::Role::kAssistant;
  a.tool_calls.push_back({"call_1", "test_echo", json::object{{"text", "x"}}, ""});
  Message t;
  t.role = Message::Role::kTool;
  t.tool_call_id = "call_1";
  t.text = "x";
  req.messages = {u, a, t};
  req.tools.push_back({"test_echo", "echo", json::object{{"type", "object"}}});
  OpenAiChatOptions opt;
  opt.max_completion_tokens = true;
  auto body = OpenAiChatBody(req, opt);
  EXPECT_EQ(
      ToJson(body.at("messages")),
      R"([{"role":"system","content":"be brief"},{"role":"user","content":"hi"},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"test_echo","arguments":"{\"text\":\"x\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_1","content":"x"}])");
  EXPECT_EQ(body.at("reasoning_effort").as_string(), "high");
  EXPECT_TRUE(body.contains("max_completion_tokens"));
  EXPECT_EQ(
      body.at("tools").as_array()[0].as_object().at("function").as_object().at("name").as_string(),
      "test_echo");
}

TEST(AnthropicDecoder, AssemblesThinkingTextAndToolUse) {
  std::string thinking_seen;
  StreamHandler h;
  h.on_thinking = [&](std::string_view t) { thinking_seen += t; };
  AnthropicStreamDecoder d("anthropic", h);
  d.OnEvent(
      "message_start",
      R"({"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":50,"cache_read_input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":1}}})");
  d.OnEvent("content_block_start",
            R"({"index":0,"content_block":{"type":"thinking","thinking":""}})");
  d.OnEvent("content_block_delta",
            R"({"index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}})");
  d.OnEvent("content_block_delta",
            R"({"index":0,"delta":{"type":"signature_delta","signature":"sig"}})");
  d.OnEvent("content_block_start", R"({"index":1,"content_block":{"type":"text","text":""}})");
  d.OnEvent("content_block_delta", R"({"index":1,"delta":{"type":"text_delta","text":"ok"}})");
  d.OnEvent(
      "content_block_start",
      R"({"index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"test_echo","input":{}}})");
  d.OnEvent("content_block_delta",
            R"({"index":2,"delta":{"type":"input_json_delta","partial_json":"{\"text\":"}})");
  d.OnEvent("content_block_delta",
            R"({"index":2,"delta":{"type":"input_json_delta","partial_json":"\"y\"}"}})");
  d.OnEvent("message_delta",
            R"({"delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":33}})");
  d.OnEvent("message_stop", R"({"type":"message_stop"})");
  auto r = d.Finish();
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->thinking, "hmm");
  EXPECT_EQ(thinking_seen, "hmm");
  EXPECT_EQ(r->thinking_signature, "sig");
  EXPECT_EQ(r->text, "ok");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].arguments.at("text").as_string(), "y");
  EXPECT_EQ(r->usage.input, 50);
  EXPECT_EQ(r->usage.cache_read, 10);
  EXPECT_EQ(r->usage.cache_write, 5);
  EXPECT_EQ(r->usage.output, 33);
  EXPECT_EQ(r->stop_reason, "tool_use");
}

TEST(AnthropicDecoder, StreamWithoutMessageStopIsAnError) {
  StreamHandler h;
  AnthropicStreamDecoder d("anthropic", h);
  d.OnEvent("message_start", R"({"message":{"usage":{}}})");
  EXPECT_FALSE(d.Finish().has_value());
  AnthropicStreamDecoder e("anthropic", h);
  e.OnEvent("error", R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})");
  auto r = e.Finish();
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(IsRetryable(r.error()));
}

TEST(AnthropicBody, MergesToolResultsAndSetsThinkingBudget) {
  Request req;
  req.model = "claude-x";
  req.thinking_level = "medium";
  req.max_tokens = 1000;
  Message a;
  a.role = Message::Role::kAssistant;
  a.thinking = "t";
  a.thinking_signature = "s";
  a.tool_calls = {{"toolu_1", "a", {}, ""}, {"toolu_2", "b", {}, ""}};
  Message r1;
  r1.role = Message::Role::kTool;
  r1.tool_call_id = "toolu_1";
  r1.text = "one";
  Message r2 = r1;
  r2.tool_call_id = "toolu_2";
  r2.is_error = true;
  req.messages = {Message{Message::Role::kUser, "go"}, a, r1, r2};
  auto body = AnthropicBody(req);
  const auto& msgs = body.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 3u);  // user, assistant, user(tool results merged)
  EXPECT_EQ(msgs[2].as_object().at("content").as_array().size(), 2u);
  EXPECT_EQ(msgs[1].as_object().at("content").as_array()[0].as_object().at("type").as_string(),
            "thinking");
  EXPECT_EQ(body.at("thinking").as_object().at("budget_tokens").as_int64(), 8192);
  EXPECT_GT(body.at("max_tokens").as_int64(), 8192);
}

TEST(ProviderErrors, NormalisesStatuses) {
  http::Headers h;
  h.Set("retry-after", "2");
  auto auth =
      ProviderHttpError("openai", 401, R"({"error":{"message":"bad key"}})", {}, "OPENAI_API_KEY");
  EXPECT_EQ(auth.wire_code, "provider_auth");
  EXPECT_NE(auth.message.find("OPENAI_API_KEY"), std::string::npos);
  EXPECT_FALSE(IsRetryable(auth));
  auto limited = ProviderHttpError("openai", 429, "{}", h, "K");
  EXPECT_TRUE(IsRetryable(limited));
  EXPECT_EQ(limited.details_json, R"({"retry_after_ms":2000})");
  auto overflow = ProviderHttpError(
      "openai", 400, R"({"error":{"code":"context_length_exceeded","message":"too long"}})", {},
      "K");
  EXPECT_EQ(overflow.wire_code, "context_overflow");
  EXPECT_TRUE(IsRetryable(ProviderHttpError("anthropic", 529, "{}", {}, "K")));
}

// A provider that fails `failures` times with `error`, then answers.
class FlakyProvider final : public Provider {
 public:
  FlakyProvider(int failures, Error error) : failures_(failures), error_(std::move(error)) {}
  Task<Result<Response>> Complete(const Request&, const StreamHandler&, CancelToken*) override {
    ++calls;
    if (failures_-- > 0) co_return error_;
    Response r;
    r.text = "ok";
    co_return r;
  }
  int calls = 0;

 private:
  int failures_;
  Error error_;
};

TEST(Retry, RetriesRetryableErrorsThenSucceeds) {
  ThreadExecutor ex;
  FlakyProvider p(2, Error(ErrorCode::kUnavailable, "provider_unavailable", "500"));
  std::promise<Result<Response>> done;
  Request req;  // the coroutine keeps references: these outlive it
  StreamHandler stream;
  int resets = 0;
  stream.on_retry = [&](int) { ++resets; };
  ex.Post([&] {
    Spawn<Result<Response>>(
        CompleteWithRetry(p, req, stream, nullptr, {3, std::chrono::milliseconds(1)}),
        [&](Result<Response> r) { done.set_value(std::move(r)); });
  });
  auto r = done.get_future().get();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(p.calls, 3);
  EXPECT_EQ(resets, 2);  // delta readers are told to drop each failed attempt's text
}

TEST(Retry, GivesUpAndSaysHowOften) {
  ThreadExecutor ex;
  FlakyProvider p(10, Error(ErrorCode::kResourceExhausted, "provider_rate_limited", "slow down"));
  std::promise<Result<Response>> done;
  Request req;
  StreamHandler stream;
  ex.Post([&] {
    Spawn<Result<Response>>(
        CompleteWithRetry(p, req, stream, nullptr, {2, std::chrono::milliseconds(1)}),
        [&](Result<Response> r) { done.set_value(std::move(r)); });
  });
  auto r = done.get_future().get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(p.calls, 3);
  EXPECT_NE(r.error().message.find("gave up after 3 attempts"), std::string::npos);
  FlakyProvider fatal(5, Error(ErrorCode::kUnauthenticated, "provider_auth", "no"));
  EXPECT_FALSE(
      SyncWait(CompleteWithRetry(fatal, req, stream, nullptr, {3, std::chrono::milliseconds(1)}))
          .has_value());
  EXPECT_EQ(fatal.calls, 1);
}

TEST(Registry, ResolvesPresetsAndNamesMissingKeys) {
  auto client = http::MakeHttpClient();
  std::map<std::string, std::string> env = {{"OPENAI_API_KEY", "k"},
                                            {"GOOGLE_API_KEY", "g"},
                                            {"DEEPSEEK_BASE_URL", "http://127.0.0.1:1/v1/"}};
  Registry reg(*client,
               [&](const std::string& k) -> std::optional<std::string> {
                 auto it = env.find(k);
                 return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
               },
               {});
  auto ok = reg.Resolve("openai/gpt-5.5");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->model_id, "gpt-5.5");
  auto nested = reg.Resolve("gemini/models/gemini-2.5-pro");
  ASSERT_TRUE(nested.has_value()) << nested.error().ToString();
  EXPECT_EQ(nested->model_id, "models/gemini-2.5-pro");
  auto missing = reg.Resolve("anthropic/claude-sonnet-4-6");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message,
            "ANTHROPIC_API_KEY is not set; cannot call anthropic/claude-sonnet-4-6");
  EXPECT_EQ(reg.Resolve("deepseek/deepseek-chat").error().message,
            "DEEPSEEK_API_KEY is not set; cannot call deepseek/deepseek-chat");
  EXPECT_TRUE(reg.Resolve("ollama/llama3.2").has_value());  // local: no key needed
  EXPECT_NE(reg.Resolve("acme/x").error().message.find("unknown provider \"acme\""),
            std::string::npos);
  EXPECT_NE(reg.Resolve("gpt-4o").error().message.find("provider/model"), std::string::npos);
  EXPECT_NE(reg.Resolve("openai-compatible/x").error().message.find("OPENAI_COMPATIBLE_BASE_URL"),
            std::string::npos);
}

TEST(Pricing, DefaultTableParsesAndCostsUsage) {
  const auto& t = PriceTable::Default();
  EXPECT_FALSE(t.version().empty());
  EXPECT_GT(t.models().size(), 10u);
  auto custom = PriceTable::Parse(
      R"({"version":"t","models":{"p/m":{"input":2,"output":10,"cache_read":0.5}}})");
  ASSERT_TRUE(custom.has_value());
  domain::Usage u;
  u.input = 1'000'000;
  u.output = 500'000;
  u.cache_read = 2'000'000;
  u.cache_write = 1'000'000;  // defaults to the input price
  EXPECT_DOUBLE_EQ(custom->Cost("p/m", u), 2 + 5 + 1 + 2);
  EXPECT_EQ(custom->Cost("p/unknown", u), 0);
  EXPECT_FALSE(PriceTable::Parse("[]").has_value());
}

}  // namespace
}  // namespace pincer::llm
