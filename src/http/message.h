#pragma once

// Transport-level HTTP request and response values. No Beast types: code outside src/http
// sees only these plain structs.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/task.h"

namespace pincer::http {

// Header list with case-insensitive lookup. Names are stored lowercase.
class Headers {
 public:
  // First value of `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  void Add(std::string_view name, std::string value);
  // Replaces every value of `name` with `value`.
  void Set(std::string_view name, std::string value);
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as received: path plus optional "?query"
  std::string path;    // target up to '?', not percent-decoded
  std::string query;   // after '?', not decoded
  Headers headers;
  std::string body;
  std::string peer;  // remote IP address

  // Set by the router when a route matched.
  std::string route;  // the matched pattern, e.g. "/v1/agents/:agentId"
  std::vector<std::pair<std::string, std::string>> params;  // percent-decoded path params

  // Set by the API middleware.
  std::string request_id;
  std::string actor;  // "token:<8 hex>", "ip:<addr>" or "anonymous" (for audit)

  // A path parameter by name ("" when absent).
  const std::string& Param(std::string_view name) const;
  // The first value of a query parameter, percent-decoded ('+' is a space); nullopt when
  // absent or not decodable.
  std::optional<std::string> Query(std::string_view name) const;
  // Every value of a repeated query parameter (e.g. "types[]"), percent-decoded.
  std::vector<std::string> QueryAll(std::string_view name) const;
};

// The sink of a streaming response (Server-Sent Events, chunked downloads).
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends `chunk` to the client. Resolves false once the client has gone away or the server
  // is shutting down; the producer should then return.
  virtual Task<bool> Write(std::string chunk) = 0;
  // True once the client has disconnected or the server is draining.
  virtual bool Closed() const = 0;
  // Ends the response abnormally: no terminating chunk, and the connection is reset, so the
  // client sees a broken transfer (used by test doubles to simulate upstream failures).
  virtual void Abort() = 0;
  // Registers `fn` to run (once, on the connection's thread) when the client disconnects or
  // the server starts draining, so an idle producer can wake up and return.
  virtual void OnClose(std::function<void()> fn) = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the server sends the status and headers, then calls `stream` with a writer and
  // ends the response (chunked) when the returned task completes. `body` is ignored. The
  // connection stays open for the next request unless the client asked to close it.
  std::function<Task<void>(StreamWriter&)> stream;

  // A response with Content-Type: application/json.
  static Response Json(int status, std::string body);
  // A response with the given content type.
  static Response Text(int status, std::string body, std::string content_type);
};

}  // namespace pincer::http
