#pragma once

// SandboxdClient: calls into one pincer-sandboxd over a LineConnection, with many requests in
// flight. A dropped connection fails every pending call with kUnavailable "sandbox_lost" (the
// pool then discards the sandbox and the next call gets a fresh one).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "common/cancel.h"
#include "common/json.h"
#include "common/result.h"
#include "common/task.h"
#include "http/line_client.h"

namespace pincer::sandbox {

class SandboxdClient : public std::enable_shared_from_this<SandboxdClient> {
 public:
  // Connects (retrying until `timeout`) and performs the hello handshake.
  static Task<Result<std::shared_ptr<SandboxdClient>>> Connect(http::LineTransport& transport,
                                                               std::string endpoint,
                                                               std::string token,
                                                               std::chrono::milliseconds timeout);
  ~SandboxdClient();

  // Sends `request` (an op object; the id is assigned) and resolves with the final reply's
  // fields. `on_event` receives streamed {"event","data"} messages (on the transport thread).
  // A reply with ok:false becomes an Error whose wire_code is the sandbox error code.
  // Cancelling answers the call at once (kCancelled) and asks sandboxd to kill an exec's
  // process group; the connection and the sandbox stay usable.
  Task<Result<json::object>> Call(json::object request,
                                  std::function<void(const json::object&)> on_event = {},
                                  CancelToken* cancel = nullptr);
  bool alive() const { return !lost_.load(); }
  void Close();

 private:
  struct Pending {
    UniqueFunction<void(Result<json::object>)> done;
    std::function<void(const json::object&)> on_event;
  };
  void CancelCall(int64_t id);
  void OnLine(std::string_view line);
  void OnClose(const Error& why);

  std::shared_ptr<http::LineConnection> conn_;
  std::mutex mu_;
  std::map<int64_t, Pending> pending_;
  int64_t next_id_ = 1;
  std::atomic<bool> lost_{false};
};

}  // namespace pincer::sandbox
