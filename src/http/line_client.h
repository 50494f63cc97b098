#pragma once

// Newline-delimited message connections over unix or TCP stream sockets — the transport for
// pincer-sandboxd. Connections run on the transport's own I/O thread; received lines and the
// close notification are delivered on that thread (handlers must be quick and thread-safe).

#include <sys/un.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/task.h"

namespace pincer::http {

// The longest unix socket path plus its NUL (sun_path); longer endpoints fail to connect with
// a clear error instead of an exception.
inline constexpr size_t kMaxUnixPath = sizeof(sockaddr_un{}.sun_path);

class LineConnection {
 public:
  virtual ~LineConnection() = default;
  // Queues `line` (a '\n' is appended). Thread-safe; ignored once closed.
  virtual void Send(std::string line) = 0;
  // Closes the socket; on_close runs once (with kCancelled).
  virtual void Close() = 0;
  virtual bool closed() const = 0;
};

struct LineHandlers {
  std::function<void(std::string_view line)> on_line;
  std::function<void(const Error& why)> on_close;  // peer closed, I/O error, or Close()
};

class LineTransport {
 public:
  virtual ~LineTransport() = default;
  // endpoint: "unix:/path/to.sock" or "tcp:HOST:PORT". Fails with kUnavailable
  // "connection_failed" when nothing accepts within `timeout`.
  virtual Task<Result<std::shared_ptr<LineConnection>>> Connect(
      std::string endpoint, LineHandlers handlers, std::chrono::milliseconds timeout) = 0;
};

std::unique_ptr<LineTransport> MakeLineTransport();

}  // namespace pincer::http
