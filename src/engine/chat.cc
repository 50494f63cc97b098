#include "engine/chat.h"

#include <regex>

#include "common/ids.h"

namespace pincer::engine {
namespace {

Error Invalid(std::string message) {
  return InvalidArgument(std::move(message), "invalid_request_error");
}

bool IsStatus(const Frame& f) { return !f.status.empty() && f.seq > 0; }

}  // namespace

std::string MessageText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (!part.is_object()) continue;
      const auto& p = part.get_object();
      const auto* type = p.if_contains("type");
      const auto* text = p.if_contains("text");
      if (type && type->is_string() && type->get_string() == "text" && text && text->is_string()) {
        out += text->get_string();
      }
    }
  }
  return out;
}

std::string ChatTextStream::Emit(std::string text) {
  if (text.empty()) return "";
  std::string out =
      step_sent_.empty() && !sent_.empty() ? std::string(kStepSeparator) + text : text;
  step_sent_ += text;
  sent_ += out;
  return out;
}

std::string ChatTextStream::Feed(const Frame& frame) {
  if (frame.event == "agent.stream_reset") {
    attempt_.clear();
    return "";
  }
  bool delta = frame.event == "agent.message.delta";
  bool message = !delta && frame.seq > 0 && frame.event == domain::event_type::kAgentMessage;
  if (!delta && !message) return "";
  auto data = ParseJson(frame.data);
  if (!data || !data->is_object()) return "";
  const auto* text = data->get_object().if_contains(delta ? "delta" : "content");
  if (!text || !text->is_string()) return "";
  std::string out;
  if (delta) {
    attempt_ += text->get_string();
    if (attempt_.size() > step_sent_.size()) out = Emit(attempt_.substr(step_sent_.size()));
  } else {
    // The response is complete: send what its deltas did not, then start the next one.
    std::string_view content = text->get_string();
    if (content.size() > step_sent_.size() && content.substr(0, step_sent_.size()) == step_sent_) {
      out = Emit(std::string(content.substr(step_sent_.size())));
    }
    step_sent_.clear();
    attempt_.clear();
  }
  return out;
}

std::string ChatTextStream::Rest(const std::string& content) const {
  if (content.size() <= sent_.size() || content.compare(0, sent_.size(), sent_) != 0) return "";
  return content.substr(sent_.size());
}

Task<Result<ChatTurn>> ChatCompletions::Start(const CallContext& ctx, ChatRequest request,
                                              bool deltas) {
  if (request.agent_id.empty()) co_return Invalid("missing x-openclaw-agent-id header");
  auto agent = agents_.Get(request.agent_id);
  if (!agent) co_return std::move(agent).error();
  if (agent->archived_at) co_return Conflict("agent_archived", "archived agents cannot run");
  if (!request.body.is_object()) co_return Invalid("the body must be a JSON object");
  const json::object& body = request.body.get_object();
  const auto* messages = body.if_contains("messages");
  if (!messages || !messages->is_array() || messages->get_array().empty()) {
    co_return Invalid("messages: must be a non-empty array");
  }
  const json::array& msgs = messages->get_array();
  // The turn's input: the last user message with text.
  std::optional<size_t> last_user;
  for (size_t i = msgs.size(); i-- > 0;) {
    if (!msgs[i].is_object()) continue;
    const auto* role = msgs[i].get_object().if_contains("role");
    const auto* content = msgs[i].get_object().if_contains("content");
    if (role && role->is_string() && role->get_string() == "user" && content &&
        !MessageText(*content).empty()) {
      last_user = i;
      break;
    }
  }
  if (!last_user)
    co_return Invalid("no user message with non-empty string content found in messages[]");
  std::string input = MessageText(msgs[*last_user].get_object().at("content"));

  std::optional<std::string> key = request.session_key;
  if (!key) {
    if (const auto* user = body.if_contains("user");
        user && user->is_string() && !user->get_string().empty()) {
      key = std::string(user->get_string());
    }
  }
  ChatTurn turn;
  turn.model = agent->spec.model;
  if (key) {
    static const std::regex kKey("^[A-Za-z0-9_-]{1,128}$");
    if (!std::regex_match(*key, kKey))
      co_return Invalid("session key must match ^[A-Za-z0-9_-]{1,128}$");
    auto existing = store_.Read()->GetSession(*key);
    if (!existing) co_return std::move(existing).error();
    if (*existing) {
      if ((*existing)->agent_id != request.agent_id) {
        co_return Conflict("session_agent_mismatch",
                           "session " + *key + " belongs to agent " + (*existing)->agent_id);
      }
    } else {
      json::value create = json::object{{"agentId", request.agent_id}};
      auto made = co_await sessions_.Create(ctx, create, *key);
      // Another request with the same new key created it first: use it (its turn makes this
      // one session_busy below), unless it was made for another agent.
      if (!made && made.error().wire_code != "session_exists") co_return std::move(made).error();
      if (!made) {
        auto raced = sessions_.Get(*key);
        if (!raced) co_return std::move(raced).error();
        if (raced->agent_id != request.agent_id) {
          co_return Conflict("session_agent_mismatch",
                             "session " + *key + " belongs to agent " + raced->agent_id);
        }
      }
    }
    turn.session_id = *key;
  } else {
    json::value create = json::object{{"agentId", request.agent_id}};
    auto made = co_await sessions_.Create(ctx, create, "", /*ephemeral=*/true);
    if (!made) co_return std::move(made).error();
    turn.session_id = made->id;
    turn.ephemeral = true;
    // Everything before the last user message becomes the session's history.
    std::string system;
    std::vector<std::pair<std::string, std::string>> history;
    for (size_t i = 0; i < *last_user; ++i) {
      if (!msgs[i].is_object()) continue;
      const auto& m = msgs[i].get_object();
      const auto* role = m.if_contains("role");
      const auto* content = m.if_contains("content");
      if (!role || !role->is_string() || !content) continue;
      std::string text = MessageText(*content);
      std::string r(role->get_string());
      if (r == "system" || r == "developer") {
        system += (system.empty() ? "" : "\n\n") + text;
      } else if ((r == "user" || r == "assistant") && !text.empty()) {
        history.emplace_back(r, std::move(text));
      }
    }
    if (!system.empty() || !history.empty()) {
      auto seeded = co_await sessions_.SeedHistory(turn.session_id, system, std::move(history));
      if (!seeded) {
        co_await Cleanup(ctx, turn);
        co_return std::move(seeded).error();
      }
    }
  }
  auto session = sessions_.Get(turn.session_id);
  if (!session) co_return std::move(session).error();
  turn.after_seq = session->next_seq - 1;
  turn.subscription = bus_.Subscribe(turn.session_id, deltas);
  json::value message = json::object{{"content", input}};
  auto posted = co_await sessions_.PostEvent(ctx, turn.session_id, message, std::nullopt,
                                             /*reject_if_busy=*/true);
  if (!posted) {
    turn.subscription.reset();
    co_await Cleanup(ctx, turn);
    co_return std::move(posted).error();
  }
  co_return turn;
}

Task<Result<ChatResult>> ChatCompletions::Finish(ChatTurn& turn,
                                                 std::chrono::milliseconds timeout) {
  int64_t deadline = clock_.NowMs() + timeout.count();
  for (;;) {
    bool ended = false;
    for (const auto& f : turn.subscription->Drain()) {
      if (IsStatus(*f) && f->seq > turn.after_seq && (f->status == "idle" || f->status == "failed"))
        ended = true;
      if (f->status == "deleted") ended = true;
    }
    if (!ended) {
      // The turn may have ended before we drained (or the subscriber was dropped): ask the log.
      auto s = sessions_.Get(turn.session_id);
      if (!s) co_return std::move(s).error();
      ended = !s->in_flight();
    }
    if (ended) co_return Collect(turn);
    int64_t now = clock_.NowMs();
    if (now >= deadline) {
      co_return Error(ErrorCode::kDeadlineExceeded, "timeout",
                      "the turn did not finish within " + std::to_string(timeout.count()) + " ms");
    }
    co_await turn.subscription->signal().Wait(
        std::chrono::milliseconds(std::min<int64_t>(deadline - now, 1000)));
  }
}

Result<ChatResult> ChatCompletions::Collect(const ChatTurn& turn) {
  ASSIGN_OR_RETURN(auto events, store_.Read()->ListEvents(turn.session_id, turn.after_seq, 0));
  ChatResult r;
  for (const auto& e : events) {
    if (const auto* tokens = e.payload.if_contains("tokens"); tokens && tokens->is_object()) {
      const auto& t = tokens->get_object();
      if (const auto* in = t.if_contains("input"); in && in->is_int64())
        r.prompt_tokens += in->get_int64();
      if (const auto* out = t.if_contains("output"); out && out->is_int64())
        r.completion_tokens += out->get_int64();
    }
    if (e.type == domain::event_type::kAgentMessage) {
      const auto* c = e.payload.if_contains("content");
      if (c && c->is_string() && !c->get_string().empty()) {
        if (!r.content.empty()) r.content += kStepSeparator;
        r.content += c->get_string();
      }
      r.event_id = e.id;
      r.created_ms = e.created_at;
    }
    if (e.type == domain::event_type::kStatusFailed) {
      const auto* err = e.payload.if_contains("error");
      r.error = err && err->is_string() ? std::string(err->get_string()) : "the turn failed";
      const auto* code = e.payload.if_contains("error_code");
      r.error_code = code && code->is_string() && !code->get_string().empty()
                         ? std::string(code->get_string())
                         : "run_failed";
    }
    if (e.type == domain::event_type::kStatusIdle) {
      const auto* reason = e.payload.if_contains("stop_reason");
      // Cancelled, interrupted or archived: the turn stopped before its answer.
      if (reason && reason->is_string() && reason->get_string() != "end_turn") {
        r.error_code = std::string(reason->get_string());
        r.error = "the turn was " + r.error_code;
      }
    }
  }
  if (r.created_ms == 0) r.created_ms = clock_.NowMs();
  return r;
}

Task<void> ChatCompletions::Cleanup(const CallContext& ctx, const ChatTurn& turn) {
  if (!turn.ephemeral) co_return;
  (void)co_await sessions_.Delete(ctx, turn.session_id);
}

Task<void> ChatCompletions::Abort(const CallContext& ctx, const ChatTurn& turn) {
  (void)co_await sessions_.Cancel(ctx, turn.session_id);
}

}  // namespace pincer::engine
