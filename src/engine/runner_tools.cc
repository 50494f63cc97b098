// Runner: tool dispatch under the agent's permission policy, approvals, and tool results.

#include "common/async.h"
#include "common/ids.h"
#include "common/log.h"
#include "engine/runner.h"
#include "engine/session_events.h"

namespace pincer::engine {

using store::Writer;

Task<std::optional<tools::ToolResult>> Runner::Dispatch(RunContext& rc, const llm::ToolCall& call,
                                                        const PendingApproval* existing) {
  tools::Tool* tool = nullptr;
  for (tools::Tool* t : rc.allowed) {
    if (t->spec().name == call.name) tool = t;
  }
  if (tool == nullptr) {
    std::string names;
    for (tools::Tool* t : rc.allowed) names += (names.empty() ? "" : ", ") + t->spec().name;
    tool_calls_.With({"unknown", "error"}).Inc();
    co_return tools::ToolResult{"unknown tool \"" + call.name + "\" (available: " + (names.empty() ? "none" : names) + ")", true};
  }
  PolicyDecision decision = DecidePolicy(rc.spec.permission_policy, call.name);
  if (decision == PolicyDecision::kDeny) {
    tool_calls_.With({call.name, "denied"}).Inc();
    co_return tools::ToolResult{"denied: the agent's permission policy does not allow the \"" + call.name + "\" tool", true};
  }
  if (decision == PolicyDecision::kAsk) {
    std::string approval_id;
    int64_t request_seq = 0;
    if (existing != nullptr) {
      approval_id = existing->approval_id;
      request_seq = existing->request_seq;
    } else {
      approval_id = NewId("apv");
      auto asked = co_await store_.Write([&](Writer& w) -> Result<void> {
        ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
        domain::Event e;
        e.id = approval_id;
        e.type = "agent.tool_confirmation_request";
        e.created_at = clock_.NowMs();
        e.payload["content"] = "The agent wants to run \"" + call.name + "\". Allow or deny?";
        e.payload["approval_id"] = approval_id;
        e.payload["tool_name"] = call.name;
        e.payload["tool_call_id"] = call.id;
        e.payload["tool_arguments"] = call.arguments;
        RETURN_IF_ERROR(EmitEvent(w, bus_, s, e));
        request_seq = s.next_seq - 1;
        return w.UpdateSession(s);
      });
      if (!asked) co_return std::nullopt;
    }
    auto answer = co_await AwaitApproval(rc, approval_id, request_seq);
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
  auto signal = approvals_.Get(approval_id);
  auto reg = rc.cancel.OnCancel([signal] { signal->Notify(); });
  int64_t deadline = options_.approval_timeout.count() > 0 ? clock_.NowMs() + options_.approval_timeout.count() : 0;
  std::optional<std::pair<bool, std::string>> answer;
  for (;;) {
    auto events = store_.Read()->ListEvents(rc.sid, request_seq, 0);
    if (events) {
      for (const auto& e : *events) {
        if (e.type != "user.tool_confirmation") continue;
        const auto* id = e.payload.if_contains("approval_id");
        if (!id || !id->is_string() || id->get_string() != approval_id) continue;
        const auto* result = e.payload.if_contains("result");
        const auto* msg = e.payload.if_contains("deny_message");
        answer = std::make_pair(result && result->is_string() && result->get_string() == "allow",
                                msg && msg->is_string() ? std::string(msg->get_string()) : std::string());
      }
    }
    if (answer || rc.cancel.cancelled()) break;
    int64_t now = clock_.NowMs();
    if (deadline > 0 && now >= deadline) {
      std::string why = "no answer within " + std::to_string(options_.approval_timeout.count()) +
                        " ms (PINCER_APPROVAL_TIMEOUT_MS)";
      auto timed_out = co_await store_.Write([&](Writer& w) -> Result<void> {
        ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
        domain::Event e;
        e.type = "user.tool_confirmation";
        e.created_at = now;
        e.payload["approval_id"] = approval_id;
        e.payload["result"] = "deny";
        e.payload["deny_message"] = why;
        e.payload["timed_out"] = true;
        RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
        return w.UpdateSession(s);
      });
      if (timed_out) answer = std::make_pair(false, why);
      break;
    }
    int64_t wait = deadline > 0 ? std::min<int64_t>(deadline - now, 60'000) : 60'000;
    co_await signal->Wait(std::chrono::milliseconds(wait));
  }
  approvals_.Forget(approval_id);
  if (rc.cancel.cancelled()) co_return std::nullopt;
  co_return answer;
}

Task<std::optional<llm::Message>> Runner::SaveToolResult(RunContext& rc, const llm::ToolCall& call,
                                                         tools::ToolResult result) {
  std::string content = result.content.empty() ? "(no output)" : TruncateToolOutput(std::move(result.content));
  auto saved = co_await store_.Write([&](Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(auto s, CurrentRun(w, rc.sid, rc.run_id));
    RETURN_IF_ERROR(EmitEvent(w, bus_, s, ToolResultEvent(call.name, call.id, content, result.is_error, clock_.NowMs())));
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
