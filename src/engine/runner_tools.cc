// Runner: tool dispatch under the agent's permission policy, approvals, and tool results.

#include "common/async.h"
#include "common/ids.h"
#include "common/log.h"
#include "engine/runner.h"
#include "engine/session_events.h"

namespace pincer::engine {

using store::Writer;

namespace {

bool IsCustom(const domain::AgentSpec& spec, const std::string& name) {
  for (const auto& t : spec.custom_tools) {
    if (t.name == name) return true;
  }
  return false;
}

std::string Str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

void Runner::AnnotateToolUses(RunContext& rc, std::vector<domain::Event>& events) const {
  for (auto& e : events) {
    if (e.type != domain::event_type::kAgentToolUse) continue;
    std::string name = Str(e.payload, "tool_name");
    if (e.id.empty()) e.id = NewId(domain::kEventIdPrefix);
    rc.use_events[Str(e.payload, "tool_call_id")] = e.id;
    if (IsCustom(rc.spec, name)) {
      e.type = "agent.custom_tool_use";
      continue;
    }
    switch (DecidePolicy(rc.spec.permission_policy, name)) {
      case PolicyDecision::kAllow:
        e.payload["evaluated_permission"] = "allow";
        break;
      case PolicyDecision::kDeny:
        e.payload["evaluated_permission"] = "deny";
        break;
      case PolicyDecision::kAsk:
        e.payload["evaluated_permission"] = "ask";
        break;
    }
  }
}

Task<std::optional<tools::ToolResult>> Runner::Dispatch(RunContext& rc, const llm::ToolCall& call,
                                                        const PendingApproval* existing) {
  if (IsCustom(rc.spec, call.name)) co_return co_await AwaitCustomTool(rc, call, false, 0);
  tools::Tool* tool = nullptr;
  for (tools::Tool* t : rc.allowed) {
    if (t->spec().name == call.name) tool = t;
  }
  if (tool == nullptr) {
    std::string names;
    for (tools::Tool* t : rc.allowed) names += (names.empty() ? "" : ", ") + t->spec().name;
    tool_calls_.With({"unknown", "error"}).Inc();
    co_return tools::ToolResult{
        "unknown tool \"" + call.name + "\" (available: " + (names.empty() ? "none" : names) + ")",
        true};
  }
  PolicyDecision decision = DecidePolicy(rc.spec.permission_policy, call.name);
  if (decision == PolicyDecision::kDeny) {
    tool_calls_.With({call.name, "denied"}).Inc();
    co_return tools::ToolResult{
        "denied: the agent's permission policy does not allow the \"" + call.name + "\" tool",
        true};
  }
  if (decision == PolicyDecision::kAsk) {
    std::string approval_id;
    int64_t request_seq = 0;
    std::optional<json::object> early;  // answered before it was asked (by tool use id)
    if (existing != nullptr) {
      approval_id = existing->approval_id;
      request_seq = existing->request_seq;
    } else {
      approval_id = NewId("apv");
      auto use = rc.use_events.find(call.id);
      auto asked = co_await store_.Write([&](Writer& w) -> Result<void> {
        ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
        if (use != rc.use_events.end()) {
          ASSIGN_OR_RETURN(auto use_seq, w.FindEventSeq(rc.sid, use->second));
          if (use_seq) {
            ASSIGN_OR_RETURN(auto since, w.ListEvents(rc.sid, *use_seq, 0));
            for (const auto& e : since) {
              if (e.type == "user.tool_confirmation" &&
                  Str(e.payload, "tool_use_id") == use->second) {
                early = e.payload;
                return Ok();
              }
            }
          }
        }
        domain::Event e;
        e.id = approval_id;
        e.type = "agent.tool_confirmation_request";
        e.created_at = clock_.NowMs();
        e.payload["content"] = "The agent wants to run \"" + call.name + "\". Allow or deny?";
        e.payload["approval_id"] = approval_id;
        e.payload["tool_name"] = call.name;
        e.payload["tool_call_id"] = call.id;
        e.payload["tool_arguments"] = call.arguments;
        if (use != rc.use_events.end()) e.payload["tool_use_event_id"] = use->second;
        RETURN_IF_ERROR(EmitEvent(w, bus_, s, e));
        request_seq = s.next_seq - 1;
        return w.UpdateSession(s);
      });
      if (!asked) co_return std::nullopt;
    }
    std::optional<std::pair<bool, std::string>> answer;
    if (early) {
      answer = std::make_pair(Str(*early, "result") == "allow", Str(*early, "deny_message"));
    } else {
      answer = co_await AwaitApproval(rc, approval_id, request_seq);
    }
    if (!answer) co_return std::nullopt;
    if (!answer->first) {
      tool_calls_.With({call.name, "denied"}).Inc();
      std::string why = answer->second.empty() ? "" : ": " + answer->second;
      co_return tools::ToolResult{"denied by the user" + why, true};
    }
  }
  auto result = co_await tool->Run(call.arguments, rc.tool_ctx);
  tool_calls_.With({call.name, result.is_error ? "error" : "ok"}).Inc();
  if (rc.cancel.cancelled()) co_return std::nullopt;
  co_return result;
}

Task<std::optional<std::pair<bool, std::string>>> Runner::AwaitApproval(RunContext& rc,
                                                                        std::string approval_id,
                                                                        int64_t request_seq) {
  domain::Event on_timeout;
  on_timeout.type = "user.tool_confirmation";
  on_timeout.payload["approval_id"] = approval_id;
  on_timeout.payload["result"] = "deny";
  on_timeout.payload["deny_message"] = "no answer within " +
                                       std::to_string(options_.approval_timeout.count()) +
                                       " ms (PINCER_APPROVAL_TIMEOUT_MS)";
  on_timeout.payload["timed_out"] = true;
  auto answer = co_await AwaitAnswer(rc, approval_id, request_seq, "user.tool_confirmation",
                                     "approval_id", std::move(on_timeout));
  if (!answer) co_return std::nullopt;
  co_return std::make_pair(Str(*answer, "result") == "allow", Str(*answer, "deny_message"));
}

Task<std::optional<tools::ToolResult>> Runner::AwaitCustomTool(RunContext& rc,
                                                               const llm::ToolCall& call,
                                                               bool asked, int64_t after_seq) {
  std::string use_id = rc.use_events.count(call.id) ? rc.use_events[call.id] : std::string();
  if (use_id.empty()) co_return tools::ToolResult{"custom tool call without its event", true};
  if (!asked) {
    auto r = co_await store_.Write([&](Writer& w) -> Result<void> {
      ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
      domain::Event e;
      e.type = "session.requires_action";
      e.created_at = clock_.NowMs();
      e.payload["event_ids"] = json::array{json::value(use_id)};
      e.payload["tool_call_id"] = call.id;
      e.payload["tool_name"] = call.name;
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
      after_seq = s.next_seq - 1;
      return w.UpdateSession(s);
    });
    if (!r) co_return std::nullopt;
  }
  domain::Event on_timeout;
  on_timeout.type = "user.custom_tool_result";
  on_timeout.payload["custom_tool_use_id"] = use_id;
  on_timeout.payload["tool_call_id"] = call.id;
  on_timeout.payload["content"] = "no result from the client within " +
                                  std::to_string(options_.approval_timeout.count()) +
                                  " ms (PINCER_APPROVAL_TIMEOUT_MS)";
  on_timeout.payload["is_error"] = true;
  on_timeout.payload["timed_out"] = true;
  auto answer = co_await AwaitAnswer(rc, use_id, after_seq, "user.custom_tool_result",
                                     "custom_tool_use_id", std::move(on_timeout));
  if (!answer) co_return std::nullopt;
  const auto* err = answer->if_contains("is_error");
  tool_calls_.With({"custom", err && err->is_bool() && err->get_bool() ? "error" : "ok"}).Inc();
  co_return tools::ToolResult{Str(*answer, "content"), err && err->is_bool() && err->get_bool()};
}

Task<std::optional<json::object>> Runner::AwaitAnswer(RunContext& rc, std::string key,
                                                      int64_t after_seq, std::string type,
                                                      std::string field, domain::Event on_timeout) {
  auto signal = approvals_.Get(key);
  auto reg = rc.cancel.OnCancel([signal] { signal->Notify(); });
  int64_t deadline = options_.approval_timeout.count() > 0
                         ? clock_.NowMs() + options_.approval_timeout.count()
                         : 0;
  std::optional<json::object> answer;
  for (;;) {
    auto events = store_.Read()->ListEvents(rc.sid, after_seq, 0);
    if (events) {
      for (const auto& e : *events) {
        if (e.type == type && Str(e.payload, field) == key) {
          answer = e.payload;
          break;
        }
      }
    }
    if (answer || rc.cancel.cancelled()) break;
    int64_t now = clock_.NowMs();
    if (deadline > 0 && now >= deadline) {
      on_timeout.created_at = now;
      auto timed_out = co_await store_.Write([&](Writer& w) -> Result<void> {
        ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
        RETURN_IF_ERROR(EmitEvent(w, bus_, s, on_timeout));
        return w.UpdateSession(s);
      });
      if (timed_out) answer = on_timeout.payload;
      break;
    }
    int64_t wait = deadline > 0 ? std::min<int64_t>(deadline - now, 60'000) : 60'000;
    co_await signal->Wait(std::chrono::milliseconds(wait));
  }
  approvals_.Forget(key);
  if (rc.cancel.cancelled()) co_return std::nullopt;
  co_return answer;
}

Task<std::optional<llm::Message>> Runner::SaveToolResult(RunContext& rc, const llm::ToolCall& call,
                                                         tools::ToolResult result) {
  std::string content =
      result.content.empty() ? "(no output)" : TruncateToolOutput(std::move(result.content));
  auto saved = co_await store_.Write([&](Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
    domain::Event e = ToolResultEvent(call.name, call.id, content, result.is_error, clock_.NowMs());
    if (auto use = rc.use_events.find(call.id); use != rc.use_events.end())
      e.payload["tool_use_event_id"] = use->second;
    if (IsCustom(rc.spec, call.name)) e.payload["custom"] = true;
    RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
    return w.UpdateSession(s);
  });
  if (!saved) co_return std::nullopt;
  llm::Message m;
  m.role = llm::Message::Role::kTool;
  m.tool_call_id = call.id;
  m.tool_name = call.name;
  m.text = std::move(content);
  m.is_error = result.is_error;
  co_return m;
}

}  // namespace pincer::engine
