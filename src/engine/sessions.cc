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
  if (auto content = c.String("content", 1, 1 << 20, /*required=*/true))
    payload["content"] = *content;
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
    : store_(store),
      audit_(audit),
      bus_(bus),
      runner_(runner),
      models_(models),
      clock_(clock),
      quota_rejections_(metrics.AddCounter("quota_rejections_total",
                                           "Turns refused by an agent quota.", {"kind"})),
      events_posted_(metrics.AddCounter("session_events_total", "User events posted.", {"type"})),
      pool_(pool) {}

Task<Result<domain::Session>> Sessions::Create(const CallContext& ctx, const json::value& body,
                                               std::string id, bool ephemeral) {
  domain::FieldErrors errors;
  SessionRequest request;
  if (!body.is_object()) {
    errors.Add("", std::string("expected a JSON object, got ") + domain::JsonKindName(body));
  } else {
    domain::Checker c(body.get_object(), errors);
    if (auto agent = c.String("agentId", 1, 64, /*required=*/true)) request.agent_id = *agent;
    if (!c.IsNull("environmentId")) request.environment_id = c.String("environmentId", 1, 64);
    if (!c.IsNull("vaultId")) request.vault_id = c.String("vaultId", 1, 64);
  }
  if (!errors.empty())
    co_return co_await audit_.Reject(ctx, "session.create", "", errors.ToError());
  co_return co_await CreateFrom(ctx, std::move(request), std::move(id), ephemeral);
}

Task<Result<domain::Session>> Sessions::CreateFrom(const CallContext& ctx, SessionRequest request,
                                                   std::string id, bool ephemeral) {
  domain::Session s;
  s.id = id.empty() ? NewId(domain::kSessionIdPrefix) : std::move(id);
  s.agent_id = std::move(request.agent_id);
  s.environment_id = std::move(request.environment_id);
  s.vault_id = std::move(request.vault_id);
  s.title = std::move(request.title);
  s.metadata = std::move(request.metadata);
  s.vault_ids = std::move(request.vault_ids);
  s.ephemeral = ephemeral;
  s.created_at = clock_.NowMs();
  s.updated_at = s.created_at;
  auto r = co_await audit_.Mutate(
      ctx, "session.create", s.id, [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
        ASSIGN_OR_RETURN(auto agent, w.GetAgent(s.agent_id));
        if (!agent) return AgentNotFound();
        if (agent->archived_at)
          return Conflict("agent_archived", "archived agents cannot start new sessions");
        s.agent_version = agent->version;
        if (request.agent_version && *request.agent_version != agent->version) {
          ASSIGN_OR_RETURN(auto pinned, w.GetAgentVersion(s.agent_id, *request.agent_version));
          if (!pinned) {
            return NotFound("agent_version_not_found", "agent " + s.agent_id + " has no version " +
                                                           std::to_string(*request.agent_version));
          }
          s.agent_version = *request.agent_version;
        }
        if (s.environment_id) {
          ASSIGN_OR_RETURN(auto env, w.GetEnvironment(*s.environment_id));
          if (!env)
            return NotFound("environment_not_found",
                            "environment " + *s.environment_id + " not found");
          if (env->archived_at) {
            return Conflict("environment_archived",
                            "environment " + *s.environment_id + " is archived");
          }
        }
        std::vector<std::string> vaults = s.vault_ids;
        if (s.vault_id) vaults.push_back(*s.vault_id);
        for (const auto& v : vaults) {
          ASSIGN_OR_RETURN(auto vault, w.GetVault(v));
          if (!vault) return NotFound("vault_not_found", "vault " + v + " not found");
          if (vault->archived_at) return Conflict("vault_archived", "vault " + v + " is archived");
        }
        ASSIGN_OR_RETURN(auto existing, w.GetSession(s.id));
        if (existing) return Conflict("session_exists", "session " + s.id + " already exists");
        entry.metadata["agent_id"] = s.agent_id;
        entry.metadata["environment_id"] =
            s.environment_id ? json::value(*s.environment_id) : json::value(nullptr);
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
  if (!a)
    co_return Error(ErrorCode::kInternal, "no_active_container",
                    "session " + id + " has no running sandbox");
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
  auto r = co_await audit_.Mutate(ctx, "session.delete", id,
                                  [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
                                    ASSIGN_OR_RETURN(bool deleted, w.DeleteSession(id));
                                    if (!deleted) return SessionNotFound();
                                    // Live streams of this session end with a final frame.
                                    w.OnCommit([this, id, now = clock_.NowMs()] {
                                      bus_.Publish(id, TransientStatusFrame(id, "deleted", now));
                                    });
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
  if (!body.is_object()) {
    co_return InvalidArgument(std::string("body: expected a JSON object, got ") +
                              domain::JsonKindName(body));
  }
  const json::object& o = body.get_object();
  std::string type = "user.message";
  if (const auto* t = o.if_contains("type"); t && !t->is_null()) {
    if (!t->is_string()) co_return InvalidArgument("type: expected string");
    type = t->get_string();
  }
  if (type == "user.tool_confirmation") co_return co_await ConfirmNative(id, o);
  if (type == "user.custom_tool_result") co_return co_await CustomToolResultNative(id, o);
  if (type == "user.interrupt") {
    CO_ASSIGN_OR_RETURN(auto e, co_await Interrupt(ctx, id));
    co_return json::object{{"session_id", id}, {"event_id", e.id}, {"interrupted", true}};
  }
  if (type != "user.message") {
    co_return InvalidArgument(
        "type: must be one of user.message, user.tool_confirmation, user.custom_tool_result, "
        "user.interrupt");
  }
  CO_ASSIGN_OR_RETURN(json::object payload, ParseUserMessage(o));
  CO_ASSIGN_OR_RETURN(auto posted,
                      co_await PostMessage(ctx, std::move(id), std::move(payload),
                                           std::move(idempotency_key), reject_if_busy));
  co_return json::object{{"session_id", posted.event.session_id},
                         {"session_status", posted.session_status},
                         {"queued", posted.queued}};
}

Task<Result<PostedEvent>> Sessions::PostMessage(const CallContext& ctx, std::string id,
                                                json::object payload,
                                                std::optional<std::string> idempotency_key,
                                                bool reject_if_busy) {
  (void)ctx;
  if (idempotency_key && (idempotency_key->empty() || idempotency_key->size() > 256)) {
    co_return InvalidArgument("Idempotency-Key: must be 1..256 characters");
  }
  if (!payload.contains("_event_id")) payload["_event_id"] = NewId(domain::kEventIdPrefix);
  PostedEvent posted;
  bool started = false;
  std::string quota_kind;
  int64_t now = clock_.NowMs();
  auto r = co_await store_.Write([&](store::Writer& w) -> Result<void> {
    if (idempotency_key) {
      ASSIGN_OR_RETURN(auto prior, w.GetIdempotentReply(id, *idempotency_key));
      if (prior) {
        auto parsed = ParseJson(prior->second);
        if (parsed && parsed->is_object()) {
          const auto& o = parsed->get_object();
          posted.event.session_id = id;
          if (const auto* st = o.if_contains("session_status"); st && st->is_string())
            posted.session_status = st->get_string();
          if (const auto* q = o.if_contains("queued"); q && q->is_bool())
            posted.queued = q->get_bool();
          if (const auto* e = o.if_contains("event_id"); e && e->is_string())
            posted.event.id = e->get_string();
          posted.event.type = domain::event_type::kUserMessage;
          return Ok();
        }
      }
    }
    ASSIGN_OR_RETURN(auto got, w.GetSession(id));
    if (!got) return SessionNotFound();
    domain::Session s = std::move(*got);
    if (s.archived_at) return Conflict("session_archived", "session " + s.id + " is archived");
    ASSIGN_OR_RETURN(auto agent, w.GetAgentVersion(s.agent_id, s.agent_version));
    if (!agent) return AgentNotFound();
    RETURN_IF_ERROR(CheckQuota(s, agent->spec, now, &quota_kind));
    if (s.in_flight() && reject_if_busy) {
      return Conflict("session_busy", "session " + s.id + " is already running a turn");
    }
    s.turns += 1;
    domain::Event event = UserMessageEvent(payload, now);
    event.session_id = s.id;
    if (s.in_flight()) {
      RETURN_IF_ERROR(w.Enqueue(s.id, payload, now));
      posted.queued = true;
      posted.session_status = s.status;
    } else {
      s.status = "starting";
      s.error.reset();
      s.run_id += 1;
      ASSIGN_OR_RETURN(event, EmitEvent(w, bus_, s, std::move(event)));
      w.OnCommit([this, sid = s.id, now] {
        bus_.Publish(sid, TransientStatusFrame(sid, "starting", now));
      });
      posted.session_status = "starting";
      started = true;
    }
    posted.event = std::move(event);
    RETURN_IF_ERROR(w.UpdateSession(s));
    if (idempotency_key) {
      json::object reply{{"session_id", s.id},
                         {"session_status", posted.session_status},
                         {"queued", posted.queued},
                         {"event_id", posted.event.id}};
      RETURN_IF_ERROR(w.PutIdempotentReply(s.id, *idempotency_key, 200, ToJson(reply), now));
    }
    return Ok();
  });
  if (!r) {
    if (r.error().wire_code == "quota_exceeded") quota_rejections_.With({quota_kind}).Inc();
    co_return std::move(r).error();
  }
  events_posted_.With({"user.message"}).Inc();
  if (started) runner_.Kick(id);
  co_return posted;
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

Task<Result<json::object>> Sessions::Cancel(const CallContext& ctx, std::string id) {
  auto r = co_await audit_.Mutate(
      ctx, "session.cancel", id, [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetSession(id));
        if (!got) return SessionNotFound();
        domain::Session s = std::move(*got);
        if (!s.in_flight())
          return Conflict("session_not_running", "session " + id + " has no running turn");
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
    co_return co_await audit_.Reject(
        ctx, "session.compact", id,
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
      co_return co_await audit_.Reject(
          ctx, "session.compact", id,
          Error(ErrorCode::kUnavailable, "compact_failed", resolved.error().message));
    }
    llm::Request req;
    req.model = resolved->model_id;
    req.system =
        "You summarise conversations between a user and an AI agent so the agent can "
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
      co_return co_await audit_.Reject(
          ctx, "session.compact", id,
          Error(ErrorCode::kUnavailable, "compact_failed", resp.error().message));
    }
    summary = resp->text;
  }
  int64_t expected_next = session->next_seq;
  std::string status;
  auto r = co_await audit_.Mutate(
      ctx, "session.compact", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
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
