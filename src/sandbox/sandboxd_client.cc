#include "sandbox/sandboxd_client.h"

namespace pincer::sandbox {

Task<Result<std::shared_ptr<SandboxdClient>>> SandboxdClient::Connect(
    http::LineTransport& transport, std::string endpoint, std::string token,
    std::chrono::milliseconds timeout) {
  auto client = std::shared_ptr<SandboxdClient>(new SandboxdClient());
  std::weak_ptr<SandboxdClient> weak = client;
  http::LineHandlers handlers;
  handlers.on_line = [weak](std::string_view line) {
    if (auto c = weak.lock()) c->OnLine(line);
  };
  handlers.on_close = [weak](const Error& why) {
    if (auto c = weak.lock()) c->OnClose(why);
  };
  auto conn = co_await transport.Connect(std::move(endpoint), std::move(handlers), timeout);
  if (!conn) co_return std::move(conn).error();
  client->conn_ = std::move(*conn);
  json::object hello{{"op", "hello"}};
  if (!token.empty()) hello["token"] = token;
  auto r = co_await client->Call(std::move(hello));
  if (!r) co_return std::move(r).error();
  co_return client;
}

SandboxdClient::~SandboxdClient() {
  if (conn_) conn_->Close();
}

void SandboxdClient::Close() {
  if (conn_) conn_->Close();
}

Task<Result<json::object>> SandboxdClient::Call(json::object request,
                                                std::function<void(const json::object&)> on_event,
                                                CancelToken* cancel) {
  if (lost_) co_return Error(ErrorCode::kUnavailable, "sandbox_lost", "the sandbox is gone");
  int64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
  }
  request["id"] = id;
  std::string line = ToJson(request);
  CancelToken::Registration reg;
  if (cancel) {
    reg = cancel->OnCancel([weak = weak_from_this(), id] {
      if (auto self = weak.lock()) self->CancelCall(id);
    });
  }
  auto self = shared_from_this();
  auto start = [self, id, &line, &on_event,
                cancel](UniqueFunction<void(Result<json::object>)> done) {
    if (cancel && cancel->cancelled()) {  // before it was sent: nothing to stop
      done(Error(ErrorCode::kCancelled, "cancelled", cancel->reason()));
      return;
    }
    {
      std::lock_guard lock(self->mu_);
      if (self->lost_) {
        done(Error(ErrorCode::kUnavailable, "sandbox_lost", "the sandbox is gone"));
        return;
      }
      self->pending_.emplace(id, Pending{std::move(done), std::move(on_event)});
    }
    self->conn_->Send(std::move(line));
    // A cancel that came between the check above and the registration of the call found
    // nothing to cancel: do it now (CancelCall acts once).
    if (cancel && cancel->cancelled()) self->CancelCall(id);
  };
  auto result = co_await AwaitCallback<Result<json::object>>(start);
  if (!result && cancel && cancel->cancelled()) {
    co_return Error(ErrorCode::kCancelled, "cancelled", cancel->reason());
  }
  co_return result;
}

void SandboxdClient::CancelCall(int64_t id) {
  Pending p;
  int64_t cancel_id;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // already answered
    p = std::move(it->second);
    pending_.erase(it);
    cancel_id = next_id_++;
  }
  // Fire and forget: sandboxd kills the exec's process group; the late replies (to the exec
  // and to this) match nothing pending and are dropped. Other ops finish at once anyway.
  conn_->Send(ToJson(json::object{{"op", "cancel"}, {"id", cancel_id}, {"target", id}}));
  p.done(Error(ErrorCode::kCancelled, "cancelled", "the call was cancelled"));
}

void SandboxdClient::OnLine(std::string_view line) {
  auto v = ParseJson(line, 64);
  if (!v || !v->is_object()) return;
  json::object& o = v->get_object();
  const auto* idv = o.if_contains("id");
  if (!idv || !idv->is_int64()) return;
  int64_t id = idv->get_int64();
  if (o.contains("event")) {
    std::function<void(const json::object&)> cb;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(id);
      if (it != pending_.end()) cb = it->second.on_event;
    }
    if (cb) cb(o);
    return;
  }
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    p = std::move(it->second);
    pending_.erase(it);
  }
  const auto* ok = o.if_contains("ok");
  if (ok && ok->is_bool() && ok->get_bool()) {
    p.done(std::move(o));
    return;
  }
  std::string code = "sandbox_error", message = "sandbox call failed";
  if (const auto* e = o.if_contains("error"); e && e->is_object()) {
    if (const auto* c = e->get_object().if_contains("code"); c && c->is_string())
      code = c->get_string();
    if (const auto* m = e->get_object().if_contains("message"); m && m->is_string())
      message = m->get_string();
  }
  ErrorCode ec = code == "not_found" ? ErrorCode::kNotFound
                 : code == "invalid_path" || code == "bad_request" || code == "no_match" ||
                         code == "ambiguous" || code == "invalid_argument" ||
                         code == "is_a_directory"
                     ? ErrorCode::kInvalidArgument
                     : ErrorCode::kInternal;
  p.done(Error(ec, code, message));
}

void SandboxdClient::OnClose(const Error& why) {
  std::map<int64_t, Pending> failed;
  {
    std::lock_guard lock(mu_);
    lost_ = true;
    failed.swap(pending_);
  }
  for (auto& [id, p] : failed) {
    p.done(Error(ErrorCode::kUnavailable, "sandbox_lost", "the sandbox went away: " + why.message));
  }
}

}  // namespace pincer::sandbox
