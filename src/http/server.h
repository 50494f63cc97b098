#pragma once

// HTTP/1.1 server on Boost.Beast with C++20 coroutines.
//
// One event loop per I/O thread; the acceptor hands connections out round-robin. Each loop is
// wrapped in an Executor installed as its thread's current executor, so handlers (Task
// coroutines) that await foreign threads resume on the connection's own thread.
//
// Transport limits are enforced here: a body over `max_body_bytes` gets 413, a header block
// over `max_header_bytes` gets 431, a malformed request 400; a request must arrive within
// `read_timeout` and an idle keep-alive connection is closed after `keepalive_timeout`, so a
// slow client cannot hold a thread. Shutdown() stops accepting, lets in-flight requests finish
// (responses then carry "Connection: close"), closes idle connections, and returns when all
// connections are gone or `shutdown_grace` has passed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/executor.h"
#include "common/result.h"
#include "common/task.h"
#include "http/message.h"

namespace pincer::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port; see Server::port()
  int threads = 0;  // 0 = hardware concurrency
  int64_t max_body_bytes = 1 << 20;
  int64_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds keepalive_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  // Per-request body limit (e.g. larger uploads on a files route); max_body_bytes when unset.
  std::function<int64_t(std::string_view method, std::string_view target)> body_limit;
  // Renders transport-level errors (400, 413, 431, 500) in the API's error format.
  std::function<Response(int status, std::string code, std::string message)> error_response;
};

// The application entry point: every parsed request goes here.
using RequestHandler = std::function<Task<Response>(Request&)>;

class Server {
 public:
  virtual ~Server() = default;

  // Binds, listens and starts the I/O threads. Fails (kUnavailable) when the address cannot
  // be bound, naming host and port.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, RequestHandler handler);

  // The bound port (useful with port 0).
  virtual int port() const = 0;
  // Number of I/O threads.
  virtual size_t thread_count() const = 0;
  // The executor of I/O thread `i` (< thread_count()).
  virtual Executor& executor(size_t i) = 0;
  // True once Shutdown() has begun.
  virtual bool draining() const = 0;

  // Graceful stop as described above; idempotent; blocks until the threads have exited.
  virtual void Shutdown() = 0;
};

}  // namespace pincer::http
