#include "engine/runner.h"

#include <functional>

#include "common/ids.h"
#include "common/log.h"
#include "engine/conversation.h"
#include "engine/quota.h"
#include "engine/session_events.h"

namespace pincer::engine {

namespace et = domain::event_type;
using store::Writer;

struct Runner::Driver {
  bool kicked = false;
  std::shared_ptr<CancelToken> cancel;
};

Runner::Runner(store::Store& store, EventBus& bus, llm::Registry& models,
               tools::ToolRegistry& tools, const llm::PriceTable& prices, Clock& clock,
               std::vector<Executor*> executors, metrics::Registry& metrics, RunnerOptions options)
    : store_(store),
      bus_(bus),
      models_(models),
      tools_(tools),
      prices_(prices),
      clock_(clock),
      executors_(std::move(executors)),
      options_(options),
      run_failures_(metrics.AddCounter("session_run_failures_total", "Turns that ended failed.")),
      llm_calls_(metrics.AddCounter("llm_requests_total", "Provider calls (after retries).",
                                    {"provider", "outcome"})),
      llm_seconds_(metrics.AddHistogram(
          "llm_request_duration_seconds", "Provider call latency including retries.", {"provider"},
          {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 600})),
      turn_seconds_(metrics.AddHistogram("session_run_duration_seconds", "Turn duration.", {},
                                         {0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600})),
      tool_calls_(metrics.AddCounter("tool_calls_total", "Tool calls by tool and outcome.",
                                     {"tool", "outcome"})) {}

Runner::~Runner() { Stop(std::chrono::milliseconds(2000)); }

size_t Runner::active() const {
  std::lock_guard lock(mu_);
  return drivers_.size();
}

void Runner::Kick(const std::string& session_id) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto [it, inserted] = drivers_.try_emplace(session_id);
    if (!inserted) {
      it->second->kicked = true;
      return;
    }
    it->second = std::make_shared<Driver>();
  }
  Executor* ex = executors_[std::hash<std::string>{}(session_id) % executors_.size()];
  ex->Post([this, session_id] { Spawn(Drive(session_id)); });
}

bool Runner::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return drained_.wait_for(lock, timeout, [this] { return drivers_.empty(); });
}

void Runner::Abort(const std::string& session_id, const std::string& reason) {
  std::shared_ptr<CancelToken> token;
  {
    std::lock_guard lock(mu_);
    auto it = drivers_.find(session_id);
    if (it == drivers_.end()) return;
    token = it->second->cancel;
  }
  if (token) token->Cancel(reason);
}

void Runner::Stop(std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  stopping_ = true;
  for (auto& [sid, d] : drivers_) {
    if (d->cancel) d->cancel->Cancel("server shutting down");
  }
  drained_.wait_for(lock, grace, [this] { return drivers_.empty(); });
}

bool Runner::FinishDriver(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = drivers_.find(session_id);
  if (it == drivers_.end()) return true;
  if (it->second->kicked && !stopping_) {
    it->second->kicked = false;
    return false;
  }
  drivers_.erase(it);
  drained_.notify_all();
  return true;
}

Result<void> Runner::Recover() {
  auto active = store_.Read()->ListActiveSessions();
  if (!active) return active.error();
  for (const auto& sid : *active) Kick(sid);
  auto stalled = store_.Read()->ListStalledQueues();
  if (!stalled) return stalled.error();
  int64_t now = clock_.NowMs();
  for (const auto& sid : *stalled) {
    bool started = false;
    auto r = store_.WriteSync([&](Writer& w) -> Result<void> {
      ASSIGN_OR_RETURN(auto got, w.GetSession(sid));
      if (!got || got->in_flight()) return Ok();
      domain::Session s = *got;
      ASSIGN_OR_RETURN(auto msg, w.PopQueue(sid));
      if (!msg) return Ok();
      s.status = "starting";
      s.error.reset();
      s.run_id += 1;
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, UserMessageEvent(msg->payload, now)));
      started = true;
      return w.UpdateSession(s);
    });
    if (!r) return r;
    if (started) Kick(sid);
  }
  log::Info("engine", "recovered sessions")
      .Field("resumed", static_cast<int64_t>(active->size()))
      .Field("queues_drained", static_cast<int64_t>(stalled->size()));
  return Ok();
}

Task<void> Runner::Drive(std::string sid) {
  for (;;) {
    int64_t run_id = -1;
    auto prepared = co_await store_.Write([&](Writer& w) -> Result<void> {
      ASSIGN_OR_RETURN(auto got, w.GetSession(sid));
      if (!got || !got->in_flight()) return Ok();
      domain::Session s = *got;
      run_id = s.run_id;
      if (s.status != "starting") return Ok();
      s.status = "running";
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, StatusEvent("running", clock_.NowMs())));
      return w.UpdateSession(s);
    });
    if (!prepared) {
      log::Error("engine", "cannot start run")
          .Field("session_id", sid)
          .Field("error", prepared.error().ToString());
    } else if (run_id >= 0) {
      auto token = std::make_shared<CancelToken>();
      {
        std::lock_guard lock(mu_);
        drivers_[sid]->cancel = token;
        if (stopping_) token->Cancel("server shutting down");
      }
      int64_t started = clock_.MonotonicNs();
      co_await ExecuteRun(sid, run_id, *token);
      turn_seconds_.With({}).Observe(static_cast<double>(clock_.MonotonicNs() - started) / 1e9);
      std::lock_guard lock(mu_);
      drivers_[sid]->cancel.reset();
    }
    if (FinishDriver(sid)) co_return;
  }
}

Task<void> Runner::ExecuteRun(const std::string& sid, int64_t run_id, CancelToken& cancel) {
  // Ends the run as failed (and drops the queue, as the seed does).
  // `code` is the error's wire code (e.g. provider_rate_limited), kept as error_code.
  auto fail = [this, &sid, run_id](std::string message, std::string code = "") -> Task<void> {
    run_failures_.With({}).Inc();
    auto r = co_await store_.Write([&](Writer& w) -> Result<void> {
      ASSIGN_OR_RETURN(auto s, CurrentRun(w, sid, run_id));
      s.status = "failed";
      s.error = message;
      RETURN_IF_ERROR(w.ClearQueue(sid));
      domain::Event e = StatusEvent("failed", clock_.NowMs(), "", message);
      if (!code.empty()) e.payload["error_code"] = code;
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
      return w.UpdateSession(s);
    });
    if (r) log::Warn("engine", "turn failed").Field("session_id", sid).Field("error", message);
  };

  auto session = store_.Read()->GetSession(sid);
  if (!session || !*session) co_return;
  auto agent = store_.Read()->GetAgentVersion((*session)->agent_id, (*session)->agent_version);
  if (!agent) co_return co_await fail("cannot load the agent: " + agent.error().message);
  if (!*agent) {
    co_return co_await fail("agent " + (*session)->agent_id + " (version " +
                            std::to_string((*session)->agent_version) + ") no longer exists");
  }
  const domain::AgentSpec& spec = (*agent)->spec;
  // The sandbox settings tools run with: the session's environment, or the defaults.
  std::string env_id, network = "unrestricted";
  if ((*session)->environment_id) {
    auto env = store_.Read()->GetEnvironment(*(*session)->environment_id);
    if (env && *env) {
      env_id = (*env)->id;
      // "limited" needs the egress proxy, which is not built yet: such sandboxes get no network.
      network = (*env)->networking.type == "unrestricted" ? "unrestricted" : "none";
    }
  }
  auto events = store_.Read()->ListEvents(sid, 0, 0);
  if (!events) co_return co_await fail("cannot read the event log: " + events.error().message);
  TurnState st = ReplayLog(*events);
  int64_t step_counter = st.last_step;

  std::vector<tools::Tool*> allowed = tools_.ForAgent(spec.tools);
  RunContext rc{
      sid,  run_id,  cancel,
      spec, allowed, tools::ToolContext{sid, (*session)->agent_id, &cancel, env_id, network, ""}};

  // Tool calls left without a result by a restart: one still waiting for (or refused by) the
  // user carries on; one that may have started gets an error result, never a silent re-run.
  // Calls run one after another, so only the first without a result can have started: the
  // later ones run now (asking first where the policy says so).
  bool first = true;
  for (const auto& use : st.dangling_tool_uses) {
    llm::ToolCall call;
    const auto& p = use.payload;
    if (const auto* v = p.if_contains("tool_call_id"); v && v->is_string())
      call.id = v->get_string();
    if (const auto* v = p.if_contains("tool_name"); v && v->is_string())
      call.name = v->get_string();
    if (const auto* v = p.if_contains("tool_arguments"); v && v->is_object())
      call.arguments = v->get_object();
    rc.use_events[call.id] = use.id;
    auto approval = st.approvals.find(call.id);
    std::optional<tools::ToolResult> result;
    if (use.type == "agent.custom_tool_use") {
      result = co_await AwaitCustomTool(rc, call, st.client_asked.count(call.id) > 0, use.seq);
      if (!result) co_return;
    } else if (approval != st.approvals.end() &&
               (!approval->second.allow || !*approval->second.allow)) {
      result = co_await Dispatch(rc, call, &approval->second);
      if (!result) co_return;
    } else if (!first ||
               (approval == st.approvals.end() &&
                DecidePolicy(spec.permission_policy, call.name) != PolicyDecision::kAllow)) {
      result =
          co_await Dispatch(rc, call, approval == st.approvals.end() ? nullptr : &approval->second);
      if (!result) co_return;
    } else {
      result = tools::ToolResult{
          "the server restarted while this tool call was running; it may or may "
          "not have completed and was not run again",
          true};
    }
    first = false;
    auto saved = co_await SaveToolResult(rc, call, std::move(*result));
    if (!saved) co_return;
    st.messages.push_back(std::move(*saved));
  }

  for (;;) {
    if (cancel.cancelled()) co_return;
    if (!st.turn_open || st.turn_complete) {
      // The turn is over: start the next queued message, or go idle.
      std::optional<domain::Event> next;
      auto r = co_await store_.Write([&](Writer& w) -> Result<void> {
        ASSIGN_OR_RETURN(auto s, CurrentRun(w, sid, run_id));
        int64_t now = clock_.NowMs();
        ASSIGN_OR_RETURN(auto queued, w.PopQueue(sid));
        if (queued) {
          std::string kind;
          if (auto quota = CheckQuota(s, spec, now, &kind); !quota) {
            RETURN_IF_ERROR(w.ClearQueue(sid));
            s.status = "failed";
            s.error = quota.error().message;
            domain::Event failed = StatusEvent("failed", now, "", *s.error);
            failed.payload["error_code"] = "quota_exceeded";
            RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(failed)));
            return w.UpdateSession(s);
          }
          domain::Event e = UserMessageEvent(queued->payload, now);
          RETURN_IF_ERROR(EmitEvent(w, bus_, s, e));
          next = std::move(e);
          return w.UpdateSession(s);
        }
        s.status = "idle";
        RETURN_IF_ERROR(EmitEvent(w, bus_, s, StatusEvent("idle", now, "end_turn")));
        return w.UpdateSession(s);
      });
      if (!r || !next) co_return;
      llm::Message m;
      m.role = llm::Message::Role::kUser;
      m.text = std::string(next->payload.at("content").as_string());
      st.messages.push_back(std::move(m));
      st.turn_open = true;
      st.turn_complete = false;
      st.steps = 0;
      const auto* model = next->payload.if_contains("model");
      st.model = model && model->is_string() ? std::string(model->get_string()) : "";
      const auto* level = next->payload.if_contains("thinking_level");
      st.thinking_level = level && level->is_string() ? std::string(level->get_string()) : "";
      continue;
    }
    if (st.steps >= options_.max_steps) {
      co_return co_await fail("turn stopped after " + std::to_string(options_.max_steps) +
                              " model responses (PINCER_MAX_STEPS)");
    }

    std::string model = st.model.empty() ? spec.model : st.model;
    auto resolved = models_.Resolve(model);
    if (!resolved) co_return co_await fail(resolved.error().message, resolved.error().wire_code);

    llm::Request req;
    req.model = resolved->model_id;
    req.system = spec.instructions;
    if (!st.extra_system.empty())
      req.system += (req.system.empty() ? "" : "\n\n") + st.extra_system;
    req.messages = st.messages;
    for (tools::Tool* t : allowed) req.tools.push_back(t->spec());
    for (const auto& t : spec.custom_tools)
      req.tools.push_back(llm::ToolSpec{t.name, t.description, t.input_schema});
    req.thinking_level = st.thinking_level.empty() ? spec.thinking_level : st.thinking_level;
    req.max_tokens = options_.max_output_tokens;

    llm::StreamHandler handler;
    // The step's agent.message gets this id, so its deltas can name it before it exists.
    const std::string message_id = NewId(domain::kEventIdPrefix);
    if (bus_.WantsDeltas(sid)) {
      handler.on_text = [this, &sid, &message_id](std::string_view t) {
        bus_.Publish(sid, DeltaFrame(sid, "agent.message.delta", t, message_id));
      };
      handler.on_thinking = [this, &sid](std::string_view t) {
        bus_.Publish(sid, DeltaFrame(sid, "agent.thinking.delta", t));
      };
      // Deltas of a failed attempt are void: tell delta readers to drop what they have.
      handler.on_retry = [this, &sid](int) {
        bus_.Publish(sid, DeltaFrame(sid, "agent.stream_reset", ""));
      };
    }
    int64_t t0 = clock_.MonotonicNs();
    auto resp =
        co_await llm::CompleteWithRetry(*resolved->provider, req, handler, &cancel, options_.retry);
    llm_seconds_.With({resolved->provider_name})
        .Observe(static_cast<double>(clock_.MonotonicNs() - t0) / 1e9);
    llm_calls_.With({resolved->provider_name, resp ? "ok" : resp.error().wire_code}).Inc();
    if (cancel.cancelled()) co_return;
    if (!resp) co_return co_await fail(resp.error().message, resp.error().wire_code);

    domain::Usage usage = resp->usage;
    if (!resp->cost_reported) usage.cost_usd = prices_.Cost(model, usage);
    int64_t step = ++step_counter;
    auto persisted = co_await store_.Write([&](Writer& w) -> Result<void> {
      ASSIGN_OR_RETURN(auto s, CurrentRun(w, sid, run_id));
      int64_t now = clock_.NowMs();
      auto step_events = StepEvents(*resp, usage, model, step, now);
      for (auto& e : step_events) {
        if (e.type == domain::event_type::kAgentMessage) e.id = message_id;
      }
      AnnotateToolUses(rc, step_events);
      for (auto& e : step_events) RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
      s.usage.Add(usage);
      if (!resp->text.empty()) s.output = resp->text;
      return w.UpdateSession(s);
    });
    if (!persisted) co_return;
    llm::Message assistant;
    assistant.role = llm::Message::Role::kAssistant;
    assistant.text = resp->text;
    assistant.thinking = resp->thinking;
    assistant.thinking_signature = resp->thinking_signature;
    assistant.tool_calls = resp->tool_calls;
    st.messages.push_back(std::move(assistant));
    st.steps += 1;
    if (resp->tool_calls.empty()) {
      st.turn_complete = true;
      continue;
    }

    for (const auto& call : resp->tool_calls) {
      auto result = co_await Dispatch(rc, call, nullptr);
      if (!result) co_return;
      auto saved = co_await SaveToolResult(rc, call, std::move(*result));
      if (!saved) co_return;
      st.messages.push_back(std::move(*saved));
    }
  }
}

}  // namespace pincer::engine
