#pragma once

// MockServer: the HTTP handler of pincer-mock-llm. Routes the provider endpoints
// (OpenAI Chat Completions, Anthropic Messages, model lists) and the /_mock control API,
// turns scripted steps / the auto config / the echo fallback into responses, and paces
// streams. Runs on http::Server's I/O threads; per-request state lives in the coroutine frame.

#include <atomic>
#include <cstdint>

#include "common/task.h"
#include "http/message.h"
#include "http/router.h"
#include "script_store.h"
#include "wire_format.h"

namespace pincer::mock {

struct MockOptions {
  // Check requests the way the real APIs do (credentials/version headers, required fields,
  // tool call/result pairing, thinking signatures) and answer 4xx on a violation.
  bool strict = true;
};

class MockServer {
 public:
  MockServer(ScriptStore& store, MockOptions options);
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  Task<http::Response> Handle(http::Request& req);

  // Makes hanging and sleeping requests finish promptly (call before Server::Shutdown).
  void Stop() { stopping_ = true; }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  // The body the HTTP server uses for transport errors (400/413/431/500).
  static http::Response TransportError(int status, const std::string& code,
                                       const std::string& message);

 private:
  Task<http::Response> Llm(http::Request& req, const WireFormat& format);
  http::Response Models(const http::Request& req) const;
  http::Response CountTokens(const http::Request& req) const;
  http::Response PostScript(const http::Request& req);
  http::Response Config(const http::Request& req);
  // Sleeps `ms` in slices, returning early once Stop() was called.
  Task<void> Sleep(int64_t ms);

  ScriptStore& store_;
  const MockOptions options_;
  http::Router router_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace pincer::mock
