#include "engine/conversation.h"

#include <algorithm>

namespace pincer::engine {
namespace {

using domain::Event;
namespace et = domain::event_type;

std::string Str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->get_int64() : 0;
}

class Builder {
 public:
  TurnState Run(const std::vector<Event>& events) {
    for (const Event& e : events) Apply(e);
    Flush(/*end_of_log=*/true);
    return std::move(state_);
  }

 private:
  void Apply(const Event& e) {
    const std::string& t = e.type;
    if (t == et::kAgentThinking || t == et::kAgentMessage || t == et::kAgentToolUse ||
        t == "agent.custom_tool_use") {
      int64_t step = Int(e.payload, "_step");
      if (!assistant_ || step != assistant_step_) {
        Flush(false);
        assistant_.emplace();
        assistant_->role = llm::Message::Role::kAssistant;
        assistant_step_ = step;
        state_.steps += 1;
        state_.turn_complete = false;
        state_.last_step = std::max(state_.last_step, step);
      }
      if (t == et::kAgentThinking) {
        assistant_->thinking += Str(e.payload, "content");
        assistant_->thinking_signature = Str(e.payload, "_signature");
      } else if (t == et::kAgentMessage) {
        assistant_->text += Str(e.payload, "content");
      } else {
        llm::ToolCall call;
        call.id = Str(e.payload, "tool_call_id");
        call.name = Str(e.payload, "tool_name");
        if (const auto* a = e.payload.if_contains("tool_arguments"); a && a->is_object()) {
          call.arguments = a->get_object();
        }
        assistant_->tool_calls.push_back(std::move(call));
        pending_.push_back(e);
      }
      return;
    }
    if (t == "session.requires_action") {
      state_.client_asked.insert(Str(e.payload, "tool_call_id"));
      return;
    }
    if (t == "agent.tool_confirmation_request") {
      PendingApproval a;
      a.approval_id = Str(e.payload, "approval_id");
      a.tool_call_id = Str(e.payload, "tool_call_id");
      a.request_seq = e.seq;
      state_.approvals[a.tool_call_id] = std::move(a);
      return;
    }
    if (t == "user.tool_confirmation") {
      std::string id = Str(e.payload, "approval_id");
      for (auto& [tcid, a] : state_.approvals) {
        if (a.approval_id == id) {
          a.allow = Str(e.payload, "result") == "allow";
          a.deny_message = Str(e.payload, "deny_message");
        }
      }
      return;
    }
    if (t == et::kAgentToolResult) {
      Flush(false);
      llm::Message m;
      m.role = llm::Message::Role::kTool;
      m.tool_call_id = Str(e.payload, "tool_call_id");
      m.tool_name = Str(e.payload, "tool_name");
      m.text = Str(e.payload, "content");
      const auto* err = e.payload.if_contains("is_error");
      m.is_error = err && err->is_bool() && err->get_bool();
      std::erase_if(pending_, [&](const Event& p) {
        return Str(p.payload, "tool_call_id") == m.tool_call_id;
      });
      state_.messages.push_back(std::move(m));
      return;
    }
    if (t == et::kUserMessage) {
      Flush(false);
      CloseDangling();
      llm::Message m;
      m.role = llm::Message::Role::kUser;
      m.text = Str(e.payload, "content");
      state_.messages.push_back(std::move(m));
      state_.turn_open = true;
      state_.turn_complete = false;
      state_.steps = 0;
      state_.model = Str(e.payload, "model");
      state_.thinking_level = Str(e.payload, "thinking_level");
      state_.approvals.clear();
      state_.client_asked.clear();
      return;
    }
    if (t == et::kStatusIdle || t == et::kStatusFailed) {
      Flush(false);
      CloseDangling();
      state_.turn_open = false;
      state_.turn_complete = false;
      return;
    }
    if (t == "session.context") {
      std::string extra = Str(e.payload, "_system");
      if (!extra.empty())
        state_.extra_system += (state_.extra_system.empty() ? "" : "\n\n") + extra;
      return;
    }
    if (t == "session.compaction") {
      Flush(false);
      CloseDangling();
      state_.messages.clear();
      llm::Message m;
      m.role = llm::Message::Role::kUser;
      m.text = "Summary of the conversation so far:\n" + Str(e.payload, "content");
      state_.messages.push_back(std::move(m));
      llm::Message ack;
      ack.role = llm::Message::Role::kAssistant;
      ack.text = "Understood. I will continue from that summary.";
      state_.messages.push_back(std::move(ack));
    }
  }

  void Flush(bool end_of_log) {
    if (!assistant_) return;
    bool called_tools = !assistant_->tool_calls.empty();
    state_.messages.push_back(std::move(*assistant_));
    assistant_.reset();
    if (end_of_log || !called_tools) state_.turn_complete = state_.turn_open && !called_tools;
  }

  // Tool calls of an earlier turn that never got a result: answer them so the conversation
  // stays valid for the provider (nothing is persisted here).
  void CloseDangling() {
    for (const Event& p : pending_) {
      llm::Message m;
      m.role = llm::Message::Role::kTool;
      m.tool_call_id = Str(p.payload, "tool_call_id");
      m.tool_name = Str(p.payload, "tool_name");
      m.text = "tool call did not complete";
      m.is_error = true;
      state_.messages.push_back(std::move(m));
    }
    pending_.clear();
  }

 public:
  std::vector<Event> TakePending() { return std::move(pending_); }

 private:
  TurnState state_;
  std::optional<llm::Message> assistant_;
  int64_t assistant_step_ = -1;
  std::vector<Event> pending_;
};

}  // namespace

TurnState ReplayLog(const std::vector<domain::Event>& events) {
  Builder b;
  TurnState s = b.Run(events);
  s.dangling_tool_uses = b.TakePending();
  if (!s.turn_open) s.dangling_tool_uses.clear();
  return s;
}

}  // namespace pincer::engine
