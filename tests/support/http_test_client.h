#pragma once

// A tiny blocking HTTP/1.1 client over POSIX sockets for tests (no Beast), so tests can send
// exactly the bytes they want: malformed requests, slow senders, pipelines.

#include <map>
#include <optional>
#include <string>

namespace pincer::testing {

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;                            // de-chunked
};

class TestConnection {
 public:
  // Connects to 127.0.0.1:port; aborts the test process on failure.
  explicit TestConnection(int port);
  ~TestConnection();
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  // Sends raw bytes; false when the peer has closed.
  bool Send(const std::string& bytes);
  // Reads one response (Content-Length or chunked). nullopt on EOF/timeout before a full one.
  std::optional<ParsedResponse> Read(int timeout_ms = 5000);
  // Waits until the server closes the connection; true if it did within `timeout_ms`.
  bool WaitClosed(int timeout_ms);
  // Sends a request with Content-Length and reads the response.
  std::optional<ParsedResponse> Request(const std::string& method, const std::string& target,
                                        const std::string& body = "",
                                        const std::map<std::string, std::string>& headers = {});

 private:
  bool Fill(int timeout_ms);
  int fd_ = -1;
  std::string buf_;
};

}  // namespace pincer::testing
