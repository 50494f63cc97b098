// Sessions: the client's answers to a parked turn (tool confirmations, custom tool results),
// interrupts, and the metadata operations (update, archive).

#include "domain/validation.h"
#include "engine/session_events.h"
#include "engine/sessions.h"

namespace pincer::engine {
namespace {

Error SessionNotFound() { return NotFound("session_not_found", "session not found"); }

std::string Str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// True when an event after the request answers `key` in `field`.
bool Answered(const std::vector<domain::Event>& after, const char* type, const char* field,
              const std::string& key) {
  for (const auto& e : after) {
    if (e.type == type && Str(e.payload, field) == key) return true;
  }
  return false;
}

// True when the turn that made the request (the first of `after`) has ended since: a later
// turn may be running, but nothing waits for this answer any more.
bool TurnEnded(const std::vector<domain::Event>& after) {
  for (const auto& e : after) {
    if (e.type == domain::event_type::kStatusIdle || e.type == domain::event_type::kStatusFailed)
      return true;
  }
  return false;
}

}  // namespace

Task<Result<json::object>> Sessions::ConfirmNative(std::string id, const json::object& body) {
  domain::FieldErrors errors;
  domain::Checker c(body, errors);
  auto tool_use = c.String("toolUseId", 1, 64, /*required=*/true);
  auto result = c.Enum("result", {"allow", "deny"}, /*required=*/true);
  std::optional<std::string> deny_message;
  if (!c.IsNull("denyMessage")) deny_message = c.String("denyMessage", 0, 4096);
  if (!errors.empty()) co_return errors.ToError();
  CO_ASSIGN_OR_RETURN(
      auto e, co_await Confirm(id, *tool_use, *result == "allow", deny_message.value_or("")));
  (void)e;
  co_return json::object{{"session_id", id}, {"confirmed", true}};
}

Task<Result<domain::Event>> Sessions::Confirm(std::string id, std::string tool_use_id, bool allow,
                                              std::string deny_message) {
  domain::Event event;
  std::string approval;
  auto not_found = [&] {
    return NotFound("approval_not_found",
                    "no tool confirmation " + tool_use_id + " in session " + id);
  };
  auto r = co_await store_.Write([&](store::Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    ASSIGN_OR_RETURN(auto seq, w.FindEventSeq(id, tool_use_id));
    if (!seq) return not_found();
    ASSIGN_OR_RETURN(auto after, w.ListEvents(id, *seq - 1, 0));
    if (after.empty()) return not_found();
    if (after.front().type == domain::event_type::kAgentToolUse) {
      // Addressed by the tool_use event (Anthropic dialect): find the request that asked.
      for (const auto& e : after) {
        if (e.type == "agent.tool_confirmation_request" &&
            Str(e.payload, "tool_use_event_id") == tool_use_id) {
          approval = e.id;
          break;
        }
      }
      // Not asked yet: a later call of the same step that the policy will ask about (the turn
      // asks one at a time). The answer is kept; the runner takes it instead of asking.
      if (approval.empty() && Str(after.front().payload, "evaluated_permission") != "ask") {
        return Error(ErrorCode::kInvalidArgument, "tool_use_not_awaiting_confirmation",
                     "tool use " + tool_use_id + " does not wait for a confirmation");
      }
    } else if (after.front().type == "agent.tool_confirmation_request") {
      approval = tool_use_id;
    } else {
      return not_found();
    }
    if ((!approval.empty() && Answered(after, "user.tool_confirmation", "approval_id", approval)) ||
        (approval != tool_use_id &&
         Answered(after, "user.tool_confirmation", "tool_use_id", tool_use_id))) {
      return Conflict("approval_already_answered",
                      "tool confirmation " + tool_use_id + " was already answered");
    }
    if (!s.in_flight() || TurnEnded(after)) {
      return Conflict("session_not_running",
                      "the turn that asked for " + tool_use_id + " is no longer running");
    }
    event.type = "user.tool_confirmation";
    event.created_at = clock_.NowMs();
    if (!approval.empty()) event.payload["approval_id"] = approval;
    event.payload["tool_use_id"] = tool_use_id;
    event.payload["result"] = allow ? "allow" : "deny";
    if (!deny_message.empty()) event.payload["deny_message"] = deny_message;
    ASSIGN_OR_RETURN(event, EmitEvent(w, bus_, s, std::move(event)));
    return w.UpdateSession(s);
  });
  if (!r) co_return std::move(r).error();
  events_posted_.With({"user.tool_confirmation"}).Inc();
  if (!approval.empty()) runner_.NotifyApproval(approval);
  co_return event;
}

Task<Result<json::object>> Sessions::CustomToolResultNative(std::string id,
                                                            const json::object& body) {
  domain::FieldErrors errors;
  domain::Checker c(body, errors);
  auto use = c.String("customToolUseId", 1, 64, /*required=*/true);
  auto content = c.String("content", 0, 1 << 20);
  auto is_error = c.Bool("isError");
  if (!errors.empty()) co_return errors.ToError();
  CO_ASSIGN_OR_RETURN(auto e, co_await CustomToolResult(id, *use, content.value_or(""),
                                                        is_error.value_or(false), {}));
  co_return json::object{{"session_id", id}, {"event_id", e.id}, {"accepted", true}};
}

Task<Result<domain::Event>> Sessions::CustomToolResult(std::string id, std::string use_id,
                                                       std::string content, bool is_error,
                                                       json::array blocks) {
  domain::Event event;
  auto r = co_await store_.Write([&](store::Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    ASSIGN_OR_RETURN(auto seq, w.FindEventSeq(id, use_id));
    std::vector<domain::Event> after;
    if (seq) {
      ASSIGN_OR_RETURN(after, w.ListEvents(id, *seq - 1, 0));
    }
    if (after.empty() || after.front().type != "agent.custom_tool_use") {
      return NotFound("custom_tool_use_not_found",
                      "no custom tool use " + use_id + " in session " + id);
    }
    if (Answered(after, "user.custom_tool_result", "custom_tool_use_id", use_id)) {
      return Conflict("custom_tool_use_already_answered",
                      "custom tool use " + use_id + " was already answered");
    }
    if (!s.in_flight() || TurnEnded(after)) {
      return Conflict("session_not_running",
                      "the turn that called " + use_id + " is no longer running");
    }
    event.type = "user.custom_tool_result";
    event.created_at = clock_.NowMs();
    event.payload["custom_tool_use_id"] = use_id;
    event.payload["tool_call_id"] = Str(after.front().payload, "tool_call_id");
    event.payload["content"] = content;
    event.payload["is_error"] = is_error;
    if (!blocks.empty()) event.payload["content_blocks"] = std::move(blocks);
    ASSIGN_OR_RETURN(event, EmitEvent(w, bus_, s, std::move(event)));
    return w.UpdateSession(s);
  });
  if (!r) co_return std::move(r).error();
  events_posted_.With({"user.custom_tool_result"}).Inc();
  runner_.NotifyApproval(use_id);
  co_return event;
}

Task<Result<domain::Event>> Sessions::Interrupt(const CallContext& ctx, std::string id) {
  domain::Event event;
  bool was_running = false;
  auto r = co_await audit_.Mutate(
      ctx, "session.interrupt", id, [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetSession(id));
        if (!got) return SessionNotFound();
        domain::Session s = std::move(*got);
        if (s.archived_at) return Conflict("session_archived", "session " + id + " is archived");
        int64_t now = clock_.NowMs();
        event.type = "user.interrupt";
        event.created_at = now;
        ASSIGN_OR_RETURN(event, EmitEvent(w, bus_, s, std::move(event)));
        was_running = s.in_flight();
        entry.metadata["was_running"] = was_running;
        if (was_running) {
          ASSIGN_OR_RETURN(int64_t dropped, w.ClearQueue(id));
          entry.metadata["queued_dropped"] = dropped;
          s.status = "idle";
          s.error.reset();
          RETURN_IF_ERROR(EmitEvent(w, bus_, s, StatusEvent("idle", now, "interrupted")));
        }
        return w.UpdateSession(s);
      });
  if (!r) co_return std::move(r).error();
  events_posted_.With({"user.interrupt"}).Inc();
  if (was_running) runner_.Abort(id, "interrupted by the user");
  co_return event;
}

bool Sessions::AwaitingClient(const domain::Session& s) {
  if (!s.in_flight() || s.next_seq <= 1) return false;
  auto last = store_.Read()->ListEvents(s.id, s.next_seq - 2, 1);
  if (!last || last->empty()) return false;
  const std::string& t = last->front().type;
  return t == "agent.tool_confirmation_request" || t == "session.requires_action";
}

Task<Result<domain::Session>> Sessions::Modify(
    const CallContext& ctx, std::string id, std::function<Result<void>(domain::Session&)> apply) {
  domain::Session result;
  auto r = co_await audit_.Mutate(
      ctx, "session.update", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetSession(id));
        if (!got) return SessionNotFound();
        if (got->archived_at) return Conflict("session_archived", "session " + id + " is archived");
        result = std::move(*got);
        RETURN_IF_ERROR(apply(result));
        result.updated_at = clock_.NowMs();
        return w.UpdateSession(result);
      });
  if (!r) co_return std::move(r).error();
  Decorate(result);
  co_return result;
}

Task<Result<domain::Session>> Sessions::Archive(const CallContext& ctx, std::string id) {
  domain::Session result;
  bool was_running = false;
  auto r = co_await audit_.Mutate(
      ctx, "session.archive", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetSession(id));
        if (!got) return SessionNotFound();
        result = std::move(*got);
        if (result.archived_at) return Ok();
        int64_t now = clock_.NowMs();
        was_running = result.in_flight();
        if (was_running) {
          RETURN_IF_ERROR(w.ClearQueue(id));
          result.status = "idle";
          result.error.reset();
          RETURN_IF_ERROR(EmitEvent(w, bus_, result, StatusEvent("idle", now, "archived")));
        }
        result.archived_at = now;
        result.updated_at = now;
        return w.UpdateSession(result);
      });
  if (!r) co_return std::move(r).error();
  if (was_running) runner_.Abort(id, "session archived");
  Decorate(result);
  co_return result;
}

}  // namespace pincer::engine
