#include "engine/sessions.h"

#include <filesystem>

#include "common/ids.h"
#include "domain/validation.h"
#include "engine/conversation.h"
#include "engine/llm/retry.h"
#include "engine/quota.h"
#include "engine/session_events.h"

namespace pincer::engine {

namespace {

Error SessionNotFound() { return NotFound("session_not_found", "session not found"); }
Error AgentNotFound() { return NotFound("agent_not_found", "agent not found"); }

const std::vector<std::string> kThinkingLevels = {"off", "low", "medium", "high", "xhigh"};

// Validates a user.message body into the stored payload {content, model?, thinking_level?}.
Result<json::object> ParseUserMessage(const json::object& body) {
  domain::FieldErrors errors;
  domain::Checker c(body, errors);
  json::object payload;
  if (auto content = c.String("content", 1, 1 << 20, /*required=*/true)) payload["content"] = *content;
  if (!c.IsNull("model")) {
    if (auto model = c.String("model", 1, 256)) payload["model"] = *model;
  }
  if (!c.IsNull("thinkingLevel")) {
    if (auto level = c.Enum("thinkingLevel", kThinkingLevels)) payload["thinking_level"] = *level;
  }
  if (!errors.empty()) return errors.ToError();
  return payload;
}

}  // namespace

Sessions::Sessions(store::Store& store, AuditLog& audit, EventBus& bus, Runner& runner,
                   llm::Registry& models, Clock& clock, metrics::Registry& metrics,
                   sandbox::SandboxPool* pool)
    : store_(store), audit_(audit), bus_(bus), runner_(runner), models_(models), clock_(clock),
      quota_rejections_(metrics.AddCounter("quota_rejections_total",
                                           "Turns refused by an agent quota.", {"kind"})),
      events_posted_(metrics.AddCounter("session_events_total", "User events posted.", {"type"})),
      pool_(pool) {}

Task<Result<domain::Session>> Sessions::Create(const CallContext& ctx, const json::value& body,
                                               std::string id, bool ephemeral) {
  domain::FieldErrors errors;
  std::optional<std::string> agent_id, env_id, vault_id;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + domain::JsonKindName(body));
  } else {
    domain::Checker c(body.get_object(), errors);
    agent_id = c.String("agentId", 1, 64, /*required=*/true);
    if (!c.IsNull("environmentId")) env_id = c.String("environmentId", 1, 64);
    if (!c.IsNull("vaultId")) vault_id = c.String("vaultId", 1, 64);
  }
  if (!errors.empty()) co_return co_await audit_.Reject(ctx, "session.create", "", errors.ToError());

  domain::Session s;
  s.id = id.empty() ? NewId(domain::kSessionIdPrefix) : std::move(id);
  s.agent_id = *agent_id;
  s.environment_id = env_id;
  s.vault_id = vault_id;
  s.ephemeral = ephemeral;
  s.created_at = clock_.NowMs();
  auto r = co_await audit_.Mutate(ctx, "session.create", s.id, [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
    ASSIGN_OR_RETURN(auto agent, w.GetAgent(s.agent_id));
    if (!agent) return AgentNotFound();
    if (agent->archived_at) return Conflict("agent_archived", "archived agents cannot start new sessions");
    s.agent_version = agent->version;
    if (s.environment_id) {
      ASSIGN_OR_RETURN(auto env, w.GetEnvironment(*s.environment_id));
      if (!env) return NotFound("environment_not_found", "environment " + *s.environment_id + " not found");
    }
    if (s.vault_id) return NotFound("vault_not_found", "vault " + *s.vault_id + " not found");
    ASSIGN_OR_RETURN(auto existing, w.GetSession(s.id));
    if (existing) return Conflict("session_exists", "session " + s.id + " already exists");
    entry.metadata["agent_id"] = s.agent_id;
    entry.metadata["environment_id"] = s.environment_id ? json::value(*s.environment_id) : json::value(nullptr);
    return w.InsertSession(s);
  });
  if (!r) co_return std::move(r).error();
  co_return s;
}

void Sessions::Decorate(domain::Session& s) const {
  if (pool_ == nullptr) return;
  auto a = pool_->Attached(s.id);
  if (!a) return;
  s.boot_ms = a->boot_ms;
  s.pool_source = a->source;
  s.container_id = a->info.id;
  s.container_name = a->info.name;
}

Result<domain::Session> Sessions::Get(std::string_view id) {
  ASSIGN_OR_RETURN(auto s, store_.Read()->GetSession(id));
  if (!s) return SessionNotFound();
  Decorate(*s);
  return std::move(*s);
}

Result<store::Page<domain::Session>> Sessions::List(const store::PageRequest& page) {
  ASSIGN_OR_RETURN(auto p, store_.Read()->ListSessions(page));
  for (auto& s : p.items) Decorate(s);
  return p;
}

Task<Result<std::string>> Sessions::Logs(std::string id, int tail) {
  CO_ASSIGN_OR_RETURN(auto s, store_.Read()->GetSession(id));
  if (!s) co_return SessionNotFound();
  auto a = pool_ ? pool_->Attached(id) : std::nullopt;
  if (!a) co_return Error(ErrorCode::kInternal, "no_active_container", "session " + id + " has no running sandbox");
  co_return co_await pool_->runtime().Logs(a->info.id, tail);
}

Task<Result<void>> Sessions::Warm(std::string agent_id) {
  auto agent = store_.Read()->GetAgent(agent_id);
  if (!agent) co_return std::move(agent).error();
  if (!*agent) co_return AgentNotFound();
  if (pool_ == nullptr) co_return Ok();
  sandbox::EnvironmentSpec env;
  co_return co_await pool_->Warm(env);
}

Task<Result<void>> Sessions::Delete(const CallContext& ctx, std::string id) {
  auto r = co_await audit_.Mutate(ctx, "session.delete", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
    ASSIGN_OR_RETURN(bool deleted, w.DeleteSession(id));
    if (!deleted) return SessionNotFound();
    // Live streams of this session end with a final frame.
    w.OnCommit([this, id, now = clock_.NowMs()] { bus_.Publish(id, TransientStatusFrame(id, "deleted", now)); });
    return Ok();
  });
  if (r) {
    runner_.Abort(id, "session deleted");
    if (pool_ != nullptr) {
      co_await pool_->Evict(id, "session deleted");
      std::error_code ec;
      std::filesystem::remove_all(pool_->WorkspaceDir(id), ec);
    }
  }
  co_return r;
}

Task<Result<json::object>> Sessions::PostEvent(const CallContext& ctx, std::string id,
                                               const json::value& body,
                                               std::optional<std::string> idempotency_key,
                                               bool reject_if_busy) {
  (void)ctx;
  if (!body.is_object()) {
    co_return InvalidArgument(std::string("body: expected a JSON object, got ") + domain::JsonKindName(body));
  }
  const json::object& o = body.get_object();
  std::string type = "user.message";
  if (const auto* t = o.if_contains("type"); t && !t->is_null()) {
    if (!t->is_string()) co_return InvalidArgument("type: expected string");
    type = t->get_string();
  }
  if (type == "user.tool_confirmation") co_return co_await Confirm(id, o);
  if (type != "user.message") {
    co_return InvalidArgument("type: must be one of user.message, user.tool_confirmation");
  }
  CO_ASSIGN_OR_RETURN(json::object payload, ParseUserMessage(o));
  if (idempotency_key && (idempotency_key->empty() || idempotency_key->size() > 256)) {
    co_return InvalidArgument("Idempotency-Key: must be 1..256 characters");
  }

  json::object reply;
  bool started = false;
  std::string quota_kind;
  int64_t now = clock_.NowMs();
  auto r = co_await store_.Write([&](store::Writer& w) -> Result<void> {
    if (idempotency_key) {
      ASSIGN_OR_RETURN(auto prior, w.GetIdempotentReply(id, *idempotency_key));
      if (prior) {
        auto parsed = ParseJson(prior->second);
        if (parsed && parsed->is_object()) {
          reply = std::move(parsed->get_object());
          return Ok();
        }
      }
    }
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    ASSIGN_OR_RETURN(auto agent, w.GetAgentVersion(s.agent_id, s.agent_version));
    if (!agent) return AgentNotFound();
    RETURN_IF_ERROR(CheckQuota(s, agent->spec, now, &quota_kind));
    if (s.in_flight() && reject_if_busy) {
      return Conflict("session_busy", "session " + s.id + " is already running a turn");
    }
    s.turns += 1;
    if (s.in_flight()) {
      RETURN_IF_ERROR(w.Enqueue(s.id, payload, now));
      reply = json::object{{"session_id", s.id}, {"session_status", s.status}, {"queued", true}};
    } else {
      s.status = "starting";
      s.error.reset();
      s.run_id += 1;
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, UserMessageEvent(payload, now)));
      w.OnCommit([this, sid = s.id, now] { bus_.Publish(sid, TransientStatusFrame(sid, "starting", now)); });
      reply = json::object{{"session_id", s.id}, {"session_status", "starting"}, {"queued", false}};
      started = true;
    }
    RETURN_IF_ERROR(w.UpdateSession(s));
    if (idempotency_key) {
      RETURN_IF_ERROR(w.PutIdempotentReply(s.id, *idempotency_key, 200, ToJson(reply), now));
    }
    return Ok();
  });
  if (!r) {
    if (r.error().wire_code == "quota_exceeded") quota_rejections_.With({quota_kind}).Inc();
    co_return std::move(r).error();
  }
  events_posted_.With({type}).Inc();
  if (started) runner_.Kick(id);
  co_return reply;
}

Task<Result<void>> Sessions::SeedHistory(std::string id, std::string system,
                                         std::vector<std::pair<std::string, std::string>> history) {
  co_return co_await store_.Write([&](store::Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    int64_t now = clock_.NowMs();
    if (!system.empty()) {
      domain::Event e;
      e.type = "session.context";
      e.created_at = now;
      e.payload["_system"] = system;
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
    }
    int64_t step = 0;
    for (auto& [role, text] : history) {
      domain::Event e;
      e.created_at = now;
      e.payload["content"] = text;
      if (role == "assistant") {
        e.type = domain::event_type::kAgentMessage;
        e.payload["_step"] = ++step;
        s.output = text;
      } else {
        e.type = domain::event_type::kUserMessage;
      }
      RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
    }
    return w.UpdateSession(s);
  });
}

Task<Result<json::object>> Sessions::Confirm(std::string id, const json::object& body) {
  domain::FieldErrors errors;
  domain::Checker c(body, errors);
  auto approval = c.String("toolUseId", 1, 64, /*required=*/true);
  auto result = c.Enum("result", {"allow", "deny"}, /*required=*/true);
  std::optional<std::string> deny_message;
  if (!c.IsNull("denyMessage")) deny_message = c.String("denyMessage", 0, 4096);
  if (!errors.empty()) co_return errors.ToError();
  auto r = co_await store_.Write([&](store::Writer& w) -> Result<void> {
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    ASSIGN_OR_RETURN(auto seq, w.FindEventSeq(id, *approval));
    if (!seq) return NotFound("approval_not_found", "no tool confirmation " + *approval + " in session " + id);
    ASSIGN_OR_RETURN(auto after, w.ListEvents(id, *seq - 1, 0));
    if (after.empty() || after.front().type != "agent.tool_confirmation_request") {
      return NotFound("approval_not_found", "no tool confirmation " + *approval + " in session " + id);
    }
    for (const auto& e : after) {
      if (e.type != "user.tool_confirmation") continue;
      const auto* a = e.payload.if_contains("approval_id");
      if (a && a->is_string() && a->get_string() == *approval) {
        return Conflict("approval_already_answered", "tool confirmation " + *approval + " was already answered");
      }
    }
    if (!s.in_flight()) {
      return Conflict("session_not_running", "the turn that asked for " + *approval + " is no longer running");
    }
    domain::Event e;
    e.type = "user.tool_confirmation";
    e.created_at = clock_.NowMs();
    e.payload["approval_id"] = *approval;
    e.payload["result"] = *result;
    if (deny_message && !deny_message->empty()) e.payload["deny_message"] = *deny_message;
    RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
    return w.UpdateSession(s);
  });
  if (!r) co_return std::move(r).error();
  events_posted_.With({"user.tool_confirmation"}).Inc();
  runner_.NotifyApproval(*approval);
  co_return json::object{{"session_id", id}, {"confirmed", true}};
}

Task<Result<json::object>> Sessions::Cancel(const CallContext& ctx, std::string id) {
  auto r = co_await audit_.Mutate(ctx, "session.cancel", id, [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    if (!s.in_flight()) return Conflict("session_not_running", "session " + id + " has no running turn");
    ASSIGN_OR_RETURN(int64_t dropped, w.ClearQueue(id));
    entry.metadata["queued_dropped"] = dropped;
    s.status = "idle";
    s.error.reset();
    RETURN_IF_ERROR(EmitEvent(w, bus_, s, StatusEvent("idle", clock_.NowMs(), "cancelled")));
    return w.UpdateSession(s);
  });
  if (!r) co_return std::move(r).error();
  runner_.Abort(id, "cancelled by the user");
  co_return json::object{{"session_id", id}, {"session_status", "idle"}, {"cancelled", true}};
}

Task<Result<json::object>> Sessions::Compact(const CallContext& ctx, std::string id) {
  auto session = Get(id);
  if (!session) co_return co_await audit_.Reject(ctx, "session.compact", id, session.error());
  if (session->in_flight()) {
    co_return co_await audit_.Reject(ctx, "session.compact", id,
                                     Conflict("session_busy", "session " + id + " is running a turn"));
  }
  auto agent = store_.Read()->GetAgentVersion(session->agent_id, session->agent_version);
  if (!agent) co_return agent.error();
  if (!*agent) co_return co_await audit_.Reject(ctx, "session.compact", id, AgentNotFound());
  auto events = store_.Read()->ListEvents(id, 0, 0);
  if (!events) co_return events.error();
  TurnState st = ReplayLog(*events);
  std::string summary = "(nothing to summarise)";
  if (!st.messages.empty()) {
    auto resolved = models_.Resolve((*agent)->spec.model);
    if (!resolved) {
      co_return co_await audit_.Reject(ctx, "session.compact", id,
                                       Error(ErrorCode::kUnavailable, "compact_failed", resolved.error().message));
    }
    llm::Request req;
    req.model = resolved->model_id;
    req.system = "You summarise conversations between a user and an AI agent so the agent can "
                 "continue without the full history. Keep every fact, decision, open task, file "
                 "name and tool result that may matter later. Answer with the summary only.";
    req.messages = st.messages;
    llm::Message ask;
    ask.role = llm::Message::Role::kUser;
    ask.text = "Summarise the conversation so far.";
    req.messages.push_back(std::move(ask));
    llm::StreamHandler none;
    auto resp = co_await llm::CompleteWithRetry(*resolved->provider, req, none, nullptr, {});
    if (!resp) {
      co_return co_await audit_.Reject(ctx, "session.compact", id,
                                       Error(ErrorCode::kUnavailable, "compact_failed", resp.error().message));
    }
    summary = resp->text;
  }
  int64_t expected_next = session->next_seq;
  std::string status;
  auto r = co_await audit_.Mutate(ctx, "session.compact", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    if (s.in_flight() || s.next_seq != expected_next) {
      return Conflict("session_busy", "session " + id + " changed while compacting; retry");
    }
    domain::Event e;
    e.type = "session.compaction";
    e.created_at = clock_.NowMs();
    e.payload["content"] = summary;
    e.payload["events_before"] = expected_next - 1;
    RETURN_IF_ERROR(EmitEvent(w, bus_, s, std::move(e)));
    status = s.status;
    return w.UpdateSession(s);
  });
  if (!r) co_return std::move(r).error();
  co_return json::object{{"session_id", id}, {"session_status", status}, {"compacted", true}};
}

Result<std::vector<domain::Event>> Sessions::Events(std::string_view id, int64_t after_seq,
                                                    int64_t limit) {
  ASSIGN_OR_RETURN(auto s, store_.Read()->GetSession(id));
  if (!s) return SessionNotFound();
  return store_.Read()->ListEvents(id, after_seq, limit);
}

}  // namespace pincer::engine
