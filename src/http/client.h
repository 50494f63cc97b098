#pragma once

// HttpClient: outbound HTTP/1.1 and HTTPS (OpenSSL, system CA store, SNI and host-name
// verification) with keep-alive connection reuse per origin, streamed response bodies,
// deadlines and cancellation. Requests run on the client's own I/O thread; the awaiting
// coroutine resumes on its own executor.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/cancel.h"
#include "common/result.h"
#include "common/task.h"
#include "http/message.h"

namespace pincer::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://…
  Headers headers;  // Host, Content-Length and User-Agent are set for you
  std::string body;
  std::chrono::milliseconds timeout{600'000};       // the whole exchange
  std::chrono::milliseconds idle_timeout{120'000};  // longest silence while reading
  // When set, connect to this unix socket instead of the URL's host (the URL still supplies
  // the Host header and the target), e.g. the Docker Engine API.
  std::string unix_socket;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;  // the whole body, unless it was streamed to a sink
};

// Receives body bytes of a 2xx response as they arrive, on the client's thread. Return false
// to abort the exchange (it then fails with kCancelled).
using BodySink = std::function<bool(std::string_view chunk)>;

struct ClientOptions {
  size_t max_idle_per_origin = 32;
  std::chrono::milliseconds idle_keepalive{
      30'000};  // pooled connections older than this are closed
  std::string user_agent = "pincer";
  std::string ca_file;  // extra PEM CA bundle to trust (besides the system store)
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `req`. With `sink`, the body of a 2xx response is streamed to it and
  // ClientResponse::body stays empty; other statuses are always collected into `body`.
  // Errors: kInvalidArgument "invalid_url"; kUnavailable "connection_failed" (resolve,
  // connect, TLS, reset before any response byte); kUnavailable "connection_lost" (reset
  // mid-response); kDeadlineExceeded "timeout"; kCancelled "cancelled".
  virtual Task<Result<ClientResponse>> Send(ClientRequest req, BodySink sink = {},
                                            CancelToken* cancel = nullptr) = 0;
};

std::unique_ptr<HttpClient> MakeHttpClient(ClientOptions options = {});

// Parsed URL pieces (exposed for tests).
struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path + query, at least "/"
};
Result<Url> ParseUrl(std::string_view url);

}  // namespace pincer::http
