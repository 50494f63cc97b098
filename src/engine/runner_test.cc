// The agent loop end to end on a real SQLite store, with a scripted provider and test tools.

#include "engine/runner.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>

#include "common/ids.h"
#include "common/thread_executor.h"
#include "engine/agents.h"
#include "engine/audit_log.h"
#include "engine/session_events.h"
#include "engine/sessions.h"

namespace pincer::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Answers each call with the next scripted step; records every request. A step may block
// until Release() (or the call's cancellation).
class ScriptedProvider final : public llm::Provider {
 public:
  struct Step {
    std::optional<llm::Response> response;
    std::optional<Error> error;
    bool block = false;
  };
  void Push(Step s) {
    std::lock_guard lock(mu_);
    steps_.push_back(std::move(s));
  }
  void Release() { release_.Notify(); }
  std::vector<llm::Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Blocks until `n` calls have been made (at most `timeout`); true when they have.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return called_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  Task<Result<llm::Response>> Complete(const llm::Request& req, const llm::StreamHandler& stream,
                                       CancelToken* cancel) override {
    Step step;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
      called_.notify_all();
      if (steps_.empty())
        co_return Error(ErrorCode::kInvalidArgument, "provider_bad_request", "script exhausted");
      step = std::move(steps_.front());
      steps_.pop_front();
    }
    if (step.block) {
      CancelToken::Registration reg;
      if (cancel) reg = cancel->OnCancel([this] { release_.Notify(); });
      co_await release_.Wait(10s);
      if (cancel && cancel->cancelled())
        co_return Error(ErrorCode::kCancelled, "cancelled", cancel->reason());
    }
    if (step.error) co_return *step.error;
    if (stream.on_text && !step.response->text.empty()) stream.on_text(step.response->text);
    co_return *step.response;
  }

 private:
  std::mutex mu_;
  std::condition_variable called_;
  std::deque<Step> steps_;
  std::vector<llm::Request> requests_;
  AsyncSignal release_;
};

ScriptedProvider::Step Text(std::string text, int64_t in = 10, int64_t out = 5) {
  llm::Response r;
  r.text = std::move(text);
  r.usage.input = in;
  r.usage.output = out;
  r.stop_reason = "end_turn";
  return {r, std::nullopt, false};
}

ScriptedProvider::Step ToolCall(std::string tool, json::object args, std::string id = "call_1") {
  llm::Response r;
  r.tool_calls.push_back({std::move(id), std::move(tool), std::move(args), ""});
  r.usage.input = 20;
  r.usage.output = 3;
  r.stop_reason = "tool_use";
  return {r, std::nullopt, false};
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pincer-runner-" + NewId("t"));
    Open();
  }
  void Open(RunnerOptions opts = {}) {
    sessions_.reset();
    runner_.reset();
    store_.reset();
    auto s = store::OpenSqliteStore({(dir_ / "db").string()});
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    audit_ = std::make_unique<AuditLog>(*store_, clock_);
    agents_ = std::make_unique<Agents>(*store_, *audit_, clock_);
    client_ = http::MakeHttpClient();
    models_ = std::make_unique<llm::Registry>(
        *client_, [](const std::string&) { return std::nullopt; }, llm::LlmSettings{});
    auto provider = std::make_unique<ScriptedProvider>();
    provider_ = provider.get();
    models_->Override("fake", std::move(provider));
    if (tools_.ForAgent({}).empty()) {
      for (auto& t : tools::MakeTestTools()) tools_.Add(std::move(t));
    }
    opts.retry.base_delay = 1ms;
    runner_ = std::make_unique<Runner>(*store_, bus_, *models_, tools_, llm::PriceTable::Default(),
                                       clock_, std::vector<Executor*>{&executor_}, metrics_, opts);
    sessions_ =
        std::make_unique<Sessions>(*store_, *audit_, bus_, *runner_, *models_, clock_, metrics_);
  }
  void TearDown() override {
    sessions_.reset();
    runner_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string NewSession(std::string agent_body = R"({"model":"fake/m","instructions":"sys"})") {
    auto agent = SyncWait(agents_->Create(ctx_, *ParseJson(agent_body)));
    EXPECT_TRUE(agent.has_value());
    auto s = SyncWait(sessions_->Create(ctx_, json::object{{"agentId", agent->id}}));
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s->id;
  }
  Result<json::object> Post(const std::string& sid, std::string content) {
    return SyncWait(
        sessions_->PostEvent(ctx_, sid, json::object{{"content", content}}, std::nullopt));
  }
  // Waits (event-driven, via the bus) until the session reaches `status`.
  bool WaitStatus(const std::string& sid, const std::string& status,
                  std::unique_ptr<Subscription>& sub) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (sessions_->Get(sid)->status == status && runner_->active() == 0) return true;
      AwaitBusSignal(sub.get());
      for (const auto& f : sub->Drain()) {
        if (f->status == status && sessions_->Get(sid)->status == status) {
          // The driver finishes right after its last write.
          return runner_->WaitIdle(1s);
        }
      }
    }
    return false;
  }
  static Task<void> Wait(Subscription* sub, std::promise<void>* woke) {
    co_await sub->signal().Wait(200ms);
    woke->set_value();
  }
  std::vector<domain::Event> Events(const std::string& sid) {
    return *sessions_->Events(sid, 0, 0);
  }
  static std::vector<std::string> Types(const std::vector<domain::Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.type);
    return out;
  }

 public:
  engine::Sessions* SessionsService() { return sessions_.get(); }
  // Blocks until `sub` is signalled (a frame arrived) or 200 ms passed.
  void AwaitBusSignal(Subscription* sub) {
    std::promise<void> woke;
    executor_.Post([&] { Spawn(Wait(sub, &woke)); });
    woke.get_future().wait();
  }
  // The session's event types, for failure messages.
  std::string LogTypes(const std::string& sid) {
    std::string types;
    for (const auto& e : Events(sid)) types += e.type + " ";
    return types;
  }

 protected:
  fs::path dir_;
  FakeClock clock_;
  CallContext ctx_{"req_t", "anonymous"};
  metrics::Registry metrics_;
  ThreadExecutor executor_;
  EventBus bus_;
  tools::ToolRegistry tools_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Agents> agents_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<llm::Registry> models_;
  ScriptedProvider* provider_ = nullptr;
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<Sessions> sessions_;
};

TEST_F(RunnerTest, RunsAToolCallingTurnAndRollsUpUsage) {
  std::string sid = NewSession();
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push(ToolCall("test_echo", {{"text", "pong"}}));
  provider_->Push(Text("final answer", 30, 7));
  auto posted = Post(sid, "ping");
  ASSERT_TRUE(posted.has_value()) << posted.error().ToString();
  EXPECT_EQ(posted->at("session_status").as_string(), "starting");
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  auto events = Events(sid);
  EXPECT_EQ(Types(events), (std::vector<std::string>{"user.message", "session.status_running",
                                                     "agent.tool_use", "agent.tool_result",
                                                     "agent.message", "session.status_idle"}));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(events[3].payload.at("content").as_string(), "pong");
  auto s = *sessions_->Get(sid);
  EXPECT_EQ(s.usage.input, 50);
  EXPECT_EQ(s.usage.output, 10);
  EXPECT_EQ(s.output, "final answer");
  EXPECT_EQ(s.turns, 1);
  auto reqs = provider_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].system, "sys");
  EXPECT_EQ(reqs[0].model, "m");
  EXPECT_EQ(reqs[0].tools.size(), 3u);  // every test tool: the agent lists none
  ASSERT_EQ(reqs[1].messages.size(), 3u);
  EXPECT_EQ(reqs[1].messages[2].role, llm::Message::Role::kTool);
  EXPECT_EQ(reqs[1].messages[2].tool_call_id, "call_1");
}

TEST_F(RunnerTest, QueuedMessagesDrainInOrder) {
  std::string sid = NewSession();
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push({Text("first").response, std::nullopt, /*block=*/true});
  provider_->Push(Text("second"));
  provider_->Push(Text("third"));
  ASSERT_TRUE(Post(sid, "one").has_value());
  auto q2 = Post(sid, "two");
  auto q3 = Post(sid, "three");
  ASSERT_TRUE(q2.has_value() && q3.has_value());
  EXPECT_TRUE(q2->at("queued").as_bool());
  EXPECT_TRUE(q3->at("queued").as_bool());
  provider_->Release();
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  std::vector<std::string> users, answers;
  for (const auto& e : Events(sid)) {
    if (e.type == "user.message") users.push_back(std::string(e.payload.at("content").as_string()));
    if (e.type == "agent.message")
      answers.push_back(std::string(e.payload.at("content").as_string()));
  }
  EXPECT_EQ(users, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(answers, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(sessions_->Get(sid)->turns, 3);
}

TEST_F(RunnerTest, CancelAbortsTheProviderCallAtOnce) {
  std::string sid = NewSession();
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push({Text("never").response, std::nullopt, /*block=*/true});
  ASSERT_TRUE(Post(sid, "go").has_value());
  // Wait until the call is in flight.
  ASSERT_TRUE(provider_->WaitForRequests(1, 5s));
  ASSERT_EQ(provider_->requests().size(), 1u);
  auto start = std::chrono::steady_clock::now();
  auto c = SyncWait(sessions_->Cancel(ctx_, sid));
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  auto types = Types(Events(sid));
  EXPECT_EQ(types.back(), "session.status_idle");
  EXPECT_EQ(std::count(types.begin(), types.end(), "agent.message"), 0);
  EXPECT_EQ(SyncWait(sessions_->Cancel(ctx_, sid)).error().wire_code, "session_not_running");
}

TEST_F(RunnerTest, StepCapFailsTheTurnAndFailedIsNotTerminal) {
  RunnerOptions opts;
  opts.max_steps = 2;
  Open(opts);
  std::string sid = NewSession();
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push(ToolCall("test_echo", {{"text", "a"}}, "c1"));
  provider_->Push(ToolCall("test_echo", {{"text", "b"}}, "c2"));
  ASSERT_TRUE(Post(sid, "loop").has_value());
  ASSERT_TRUE(WaitStatus(sid, "failed", sub));
  auto s = *sessions_->Get(sid);
  EXPECT_NE(s.error->find("PINCER_MAX_STEPS"), std::string::npos) << *s.error;
  provider_->Push(Text("recovered"));
  ASSERT_TRUE(Post(sid, "again").has_value());
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  EXPECT_FALSE(sessions_->Get(sid)->error.has_value());
  EXPECT_EQ(sessions_->Get(sid)->output, "recovered");
}

TEST_F(RunnerTest, ProviderErrorsFailTheSessionWithTheMessage) {
  std::string sid = NewSession();
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push({std::nullopt,
                   Error(ErrorCode::kUnauthenticated, "provider_auth",
                         "fake rejected the key (check FAKE_API_KEY)"),
                   false});
  ASSERT_TRUE(Post(sid, "hi").has_value());
  ASSERT_TRUE(WaitStatus(sid, "failed", sub));
  EXPECT_EQ(sessions_->Get(sid)->error, "fake rejected the key (check FAKE_API_KEY)");
  EXPECT_EQ(Types(Events(sid)).back(), "session.status_failed");
}

TEST_F(RunnerTest, RecoveryAnswersInterruptedToolsAndFinishesTheTurn) {
  std::string sid = NewSession();
  // Simulate a crash: the log ends with a tool call that never got its result.
  ASSERT_TRUE(store_
                  ->WriteSync([&](store::Writer& w) -> Result<void> {
                    ASSIGN_OR_RETURN(auto got, w.GetSession(sid));
                    domain::Session s = *got;
                    s.status = "running";
                    s.run_id = 1;
                    RETURN_IF_ERROR(
                        EmitEvent(w, bus_, s, UserMessageEvent(json::object{{"content", "x"}}, 1)));
                    llm::Response r;
                    r.tool_calls.push_back({"call_9", "test_sleep", json::object{{"ms", 1}}, ""});
                    for (auto& e : StepEvents(r, {}, "fake/m", 1, 2))
                      RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
                    return w.UpdateSession(s);
                  })
                  .has_value());
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push(Text("resumed"));
  ASSERT_TRUE(runner_->Recover().has_value());
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  auto events = Events(sid);
  EXPECT_EQ(Types(events),
            (std::vector<std::string>{"user.message", "agent.tool_use", "agent.tool_result",
                                      "agent.message", "session.status_idle"}));
  EXPECT_TRUE(events[2].payload.at("is_error").as_bool());
  EXPECT_NE(std::string(events[2].payload.at("content").as_string()).find("restarted"),
            std::string::npos);
  // The provider saw the error result; the tool itself never ran again.
  ASSERT_EQ(provider_->requests().size(), 1u);
  EXPECT_TRUE(provider_->requests()[0].messages.back().is_error);
}

// Waits (via the bus) for an approval request and returns its approval id.
std::string WaitForApproval(RunnerTest& t, std::unique_ptr<Subscription>& sub,
                            const std::string& sid);
std::optional<domain::Event> WaitForEvent(RunnerTest& t, std::unique_ptr<Subscription>& sub,
                                          const std::string& sid, const std::string& type);

TEST_F(RunnerTest, DenyPolicyRefusesTheToolWithoutRunningIt) {
  std::string sid =
      NewSession(R"({"model":"fake/m","permissionPolicy":{"type":"deny","tools":["test_echo"]}})");
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push(ToolCall("test_echo", {{"text", "should not run"}}));
  provider_->Push(Text("ok"));
  ASSERT_TRUE(Post(sid, "go").has_value());
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  auto events = Events(sid);
  ASSERT_EQ(events[3].type, "agent.tool_result");
  EXPECT_TRUE(events[3].payload.at("is_error").as_bool());
  EXPECT_NE(std::string(events[3].payload.at("content").as_string()).find("permission policy"),
            std::string::npos);
}

TEST_F(RunnerTest, AskPolicyParksTheTurnUntilAnswered) {
  std::string sid = NewSession(R"({"model":"fake/m","permissionPolicy":{"type":"always_ask"}})");
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push(ToolCall("test_echo", {{"text", "approved output"}}, "c1"));
  provider_->Push(ToolCall("test_echo", {{"text", "refused output"}}, "c2"));
  provider_->Push(Text("done"));
  ASSERT_TRUE(Post(sid, "go").has_value());

  std::string first = WaitForApproval(*this, sub, sid);
  auto unknown = SyncWait(sessions_->PostEvent(
      ctx_, sid,
      json::object{
          {"type", "user.tool_confirmation"}, {"toolUseId", "apv_nope"}, {"result", "allow"}},
      std::nullopt));
  EXPECT_EQ(unknown.error().wire_code, "approval_not_found");
  auto ok = SyncWait(sessions_->PostEvent(
      ctx_, sid,
      json::object{{"type", "user.tool_confirmation"}, {"toolUseId", first}, {"result", "allow"}},
      std::nullopt));
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  auto twice = SyncWait(sessions_->PostEvent(
      ctx_, sid,
      json::object{{"type", "user.tool_confirmation"}, {"toolUseId", first}, {"result", "deny"}},
      std::nullopt));
  EXPECT_EQ(twice.error().wire_code, "approval_already_answered");

  // The second call waits too; restart the server meanwhile: the ask survives.
  std::string second = WaitForApproval(*this, sub, sid);
  EXPECT_NE(first, second);
  sub.reset();
  Open();
  sub = bus_.Subscribe(sid, false);
  provider_->Push(Text("done"));
  ASSERT_TRUE(runner_->Recover().has_value());
  auto denied = SyncWait(sessions_->PostEvent(ctx_, sid,
                                              json::object{{"type", "user.tool_confirmation"},
                                                           {"toolUseId", second},
                                                           {"result", "deny"},
                                                           {"denyMessage", "not that"}},
                                              std::nullopt));
  ASSERT_TRUE(denied.has_value()) << denied.error().ToString();
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  std::vector<std::string> results;
  for (const auto& e : Events(sid)) {
    if (e.type == "agent.tool_result")
      results.push_back(std::string(e.payload.at("content").as_string()));
  }
  EXPECT_EQ(results, (std::vector<std::string>{"approved output", "denied by the user: not that"}));
}

std::string WaitForApproval(RunnerTest& t, std::unique_ptr<Subscription>& sub,
                            const std::string& sid) {
  for (int i = 0; i < 200; ++i) {
    auto log = *t.SessionsService()->Events(sid, 0, 0);
    for (const auto& e : log) {
      if (e.type != "agent.tool_confirmation_request") continue;
      bool answered = false;
      auto later = *t.SessionsService()->Events(sid, e.seq, 0);
      for (const auto& a : later) {
        if (a.type == "user.tool_confirmation" && a.payload.at("approval_id").as_string() == e.id)
          answered = true;
      }
      if (!answered) return e.id;
    }
    t.AwaitBusSignal(sub.get());
    sub->Drain();
  }
  ADD_FAILURE() << "no pending approval; log: " << t.LogTypes(sid) << " status "
                << t.SessionsService()->Get(sid)->status << " error "
                << t.SessionsService()->Get(sid)->error.value_or("");
  return "";
}

TEST_F(RunnerTest, CustomToolsWaitForTheClientsResultAcrossARestart) {
  domain::AgentSpec spec;
  spec.model = "fake/m";
  spec.tools = {domain::kNoBuiltinTools};
  spec.custom_tools.push_back(
      {"get_weather", "Weather for a city", json::object{{"type", "object"}}});
  auto agent = SyncWait(agents_->CreateSpec(ctx_, spec));
  ASSERT_TRUE(agent.has_value());
  auto created = SyncWait(sessions_->Create(ctx_, json::object{{"agentId", agent->id}}));
  ASSERT_TRUE(created.has_value());
  std::string sid = created->id;
  auto sub = bus_.Subscribe(sid, false);
  provider_->Push(ToolCall("get_weather", {{"city", "Oslo"}}, "w1"));
  provider_->Push(Text("it is sunny"));
  ASSERT_TRUE(Post(sid, "weather?").has_value());

  // The call is put to the client: agent.custom_tool_use, then session.requires_action.
  auto asked = WaitForEvent(*this, sub, sid, "session.requires_action");
  ASSERT_TRUE(asked.has_value());
  std::string use_id(asked->payload.at("event_ids").as_array()[0].as_string());
  auto log = Events(sid);
  EXPECT_EQ(Types(log),
            (std::vector<std::string>{"user.message", "session.status_running",
                                      "agent.custom_tool_use", "session.requires_action"}));
  EXPECT_EQ(log[2].id, use_id);
  EXPECT_TRUE(sessions_->AwaitingClient(*sessions_->Get(sid)));
  auto reqs = provider_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_EQ(reqs[0].tools.size(), 1u);  // no built-in tools, only the custom one
  EXPECT_EQ(reqs[0].tools[0].name, "get_weather");

  // A restart keeps the turn parked; the answer then completes it.
  sub.reset();
  Open();
  sub = bus_.Subscribe(sid, false);
  provider_->Push(Text("it is sunny"));
  ASSERT_TRUE(runner_->Recover().has_value());
  auto unknown = SyncWait(sessions_->CustomToolResult(sid, "evt_nope", "x", false, {}));
  EXPECT_EQ(unknown.error().wire_code, "custom_tool_use_not_found");
  auto answered = SyncWait(sessions_->CustomToolResult(sid, use_id, "sunny, 21C", false, {}));
  ASSERT_TRUE(answered.has_value()) << answered.error().ToString();
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  auto twice = SyncWait(sessions_->CustomToolResult(sid, use_id, "again", false, {}));
  EXPECT_FALSE(twice.has_value());
  reqs = provider_->requests();
  ASSERT_EQ(reqs.size(), 1u);  // the new provider after the restart
  ASSERT_GE(reqs[0].messages.size(), 3u);
  EXPECT_EQ(reqs[0].messages[2].role, llm::Message::Role::kTool);
  EXPECT_EQ(reqs[0].messages[2].text, "sunny, 21C");
  EXPECT_EQ(sessions_->Get(sid)->output, "it is sunny");
}

TEST_F(RunnerTest, ToolUseEventsCarryTheEvaluatedPermission) {
  std::string sid =
      NewSession(R"({"model":"fake/m","permissionPolicy":{"type":"deny","tools":["test_fail"]}})");
  auto sub = bus_.Subscribe(sid, false);
  llm::Response two;
  two.tool_calls.push_back({"a", "test_echo", json::object{{"text", "x"}}, ""});
  two.tool_calls.push_back({"b", "test_fail", json::object{{"message", "y"}}, ""});
  provider_->Push({two, std::nullopt, false});
  provider_->Push(Text("ok"));
  ASSERT_TRUE(Post(sid, "go").has_value());
  ASSERT_TRUE(WaitStatus(sid, "idle", sub));
  std::map<std::string, std::string> perms, ids;
  std::map<std::string, std::string> result_uses;
  for (const auto& e : Events(sid)) {
    if (e.type == "agent.tool_use") {
      std::string name(e.payload.at("tool_name").as_string());
      perms[name] = std::string(e.payload.at("evaluated_permission").as_string());
      ids[name] = e.id;
    }
    if (e.type == "agent.tool_result") {
      result_uses[std::string(e.payload.at("tool_name").as_string())] =
          std::string(e.payload.at("tool_use_event_id").as_string());
    }
  }
  EXPECT_EQ(perms["test_echo"], "allow");
  EXPECT_EQ(perms["test_fail"], "deny");
  EXPECT_EQ(result_uses, ids);
}

// Waits (woken by the bus) for the first event of `type` in the session's log.
std::optional<domain::Event> WaitForEvent(RunnerTest& t, std::unique_ptr<Subscription>& sub,
                                          const std::string& sid, const std::string& type) {
  for (int i = 0; i < 200; ++i) {
    auto log = *t.SessionsService()->Events(sid, 0, 0);
    for (const auto& e : log) {
      if (e.type == type) return e;
    }
    t.AwaitBusSignal(sub.get());
    sub->Drain();
  }
  ADD_FAILURE() << "no " << type << " event; log: " << t.LogTypes(sid);
  return std::nullopt;
}

}  // namespace
}  // namespace pincer::engine
