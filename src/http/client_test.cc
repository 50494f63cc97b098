#include "http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include "common/async.h"
#include "common/ids.h"
#include "http/server.h"

namespace pincer::http {
namespace {

using namespace std::chrono_literals;

class ClientTest : public ::testing::Test {
 protected:
  void Serve(RequestHandler h) {
    ServerOptions opt;
    opt.port = 0;
    opt.threads = 1;
    opt.shutdown_grace = 200ms;
    auto s = Server::Start(opt, std::move(h));
    ASSERT_TRUE(s.has_value());
    server_ = std::move(*s);
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  Result<ClientResponse> Get(std::string path, BodySink sink = {}, CancelToken* cancel = nullptr,
                             std::chrono::milliseconds timeout = 5s,
                             std::chrono::milliseconds idle = 5s) {
    ClientRequest r;
    r.url = base_ + path;
    r.timeout = timeout;
    r.idle_timeout = idle;
    return SyncWait(client_->Send(std::move(r), std::move(sink), cancel));
  }

  std::unique_ptr<HttpClient> client_ = MakeHttpClient();
  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST(ParseUrl, SplitsAndDefaults) {
  auto u = ParseUrl("https://api.openai.com/v1/chat/completions");
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.openai.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/v1/chat/completions");
  auto v = ParseUrl("http://127.0.0.1:9000?x=1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->port, "9000");
  EXPECT_EQ(v->target, "/?x=1");
  auto w = ParseUrl("http://[::1]:8080/a");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->host, "::1");
  EXPECT_FALSE(ParseUrl("ftp://x").has_value());
  EXPECT_FALSE(ParseUrl("http://").has_value());
  EXPECT_FALSE(ParseUrl("http://u:p@host/").has_value());
  EXPECT_FALSE(ParseUrl("http://host:8x/").has_value());
}

TEST_F(ClientTest, PostsAndReadsTheResponse) {
  Serve([](Request& req) -> Task<Response> {
    Response r = Response::Json(201, "{\"got\":\"" + req.body + "\",\"m\":\"" + req.method + "\"}");
    r.headers.Set("x-upstream", std::string(req.headers.Get("x-test").value_or("")));
    co_return r;
  });
  ClientRequest r;
  r.method = "POST";
  r.url = base_ + "/echo";
  r.body = "hi";
  r.headers.Set("x-test", "yes");
  auto resp = SyncWait(client_->Send(std::move(r)));
  ASSERT_TRUE(resp.has_value()) << resp.error().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, R"({"got":"hi","m":"POST"})");
  EXPECT_EQ(resp->headers.Get("x-upstream"), "yes");
}

TEST_F(ClientTest, ManySequentialRequestsReuseConnections) {
  Serve([](Request&) -> Task<Response> { co_return Response::Text(200, "ok", "text/plain"); });
  for (int i = 0; i < 200; ++i) {
    auto r = Get("/");
    ASSERT_TRUE(r.has_value()) << i << " " << r.error().ToString();
    ASSERT_EQ(r->body, "ok");
  }
}

// A bare keep-alive server that counts accepted connections.
class CountingServer {
 public:
  CountingServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++accepted_;
        std::thread([c] {
          std::string buf;
          char tmp[4096];
          for (;;) {
            ssize_t n = recv(c, tmp, sizeof(tmp), 0);
            if (n <= 0) break;
            buf.append(tmp, static_cast<size_t>(n));
            size_t end;
            while ((end = buf.find("\r\n\r\n")) != std::string::npos) {
              buf.erase(0, end + 4);
              std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
              send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            }
          }
          close(c);
        }).detach();
      }
    });
  }
  ~CountingServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_;
  int port_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST_F(ClientTest, KeepAliveUsesOneConnectionForSequentialRequests) {
  CountingServer upstream;
  for (int i = 0; i < 20; ++i) {
    ClientRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/x";
    auto resp = SyncWait(client_->Send(std::move(r)));
    ASSERT_TRUE(resp.has_value()) << resp.error().ToString();
  }
  EXPECT_EQ(upstream.accepted(), 1);
}

TEST_F(ClientTest, StreamsTheBodyAsItArrives) {
  std::promise<void> first_seen;
  auto first_future = first_seen.get_future().share();
  Serve([first_future](Request&) -> Task<Response> {
    Response r;
    r.stream = [first_future](StreamWriter& w) -> Task<void> {
      co_await w.Write("one,");
      // Wait (on a helper thread) until the client has seen the first chunk.
      auto wait_first = [first_future](auto done) {
        std::thread([first_future, d = std::move(done)]() mutable {
          first_future.wait();
          d(0);
        }).detach();
      };
      co_await AwaitCallback<int>(wait_first);
      co_await w.Write("two");
    };
    co_return r;
  });
  std::string seen;
  bool signalled = false;
  auto r = Get("/s", [&](std::string_view chunk) {
    seen.append(chunk);
    if (!signalled) {
      signalled = true;
      first_seen.set_value();
    }
    return true;
  });
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(seen, "one,two");
  EXPECT_TRUE(r->body.empty());
}

TEST_F(ClientTest, ErrorStatusBodiesAreCollectedEvenWithASink) {
  Serve([](Request&) -> Task<Response> {
    co_return Response::Json(429, "{\"error\":\"slow down\"}");
  });
  bool sink_called = false;
  auto r = Get("/", [&](std::string_view) { return sink_called = true; });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, "{\"error\":\"slow down\"}");
  EXPECT_FALSE(sink_called);
}

TEST_F(ClientTest, DeadlineFailsAHangingCall) {
  Serve([](Request&) -> Task<Response> {
    co_await SleepFor(3s);
    co_return Response::Text(200, "late", "text/plain");
  });
  auto start = std::chrono::steady_clock::now();
  auto r = Get("/", {}, nullptr, 200ms);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(ClientTest, IdleTimeoutFailsAStalledStream) {
  Serve([](Request&) -> Task<Response> {
    Response r;
    r.stream = [](StreamWriter& w) -> Task<void> {
      co_await w.Write("partial");
      co_await SleepFor(3s);
    };
    co_return r;
  });
  auto r = Get(
      "/", [](std::string_view) { return true; }, nullptr, 10s, 200ms);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(ClientTest, CancelAbortsAtOnce) {
  std::promise<void> arrived;
  Serve([&arrived](Request&) -> Task<Response> {
    arrived.set_value();
    co_await SleepFor(3s);
    co_return Response::Text(200, "late", "text/plain");
  });
  CancelToken cancel;
  std::thread canceller([&] {
    arrived.get_future().wait();  // the request is at the server
    cancel.Cancel("user pressed stop");
  });
  auto start = std::chrono::steady_clock::now();
  auto r = Get("/", {}, &cancel, 10s);
  canceller.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(r.error().message, "user pressed stop");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(ClientTest, RefusedConnectionIsConnectionFailed) {
  int port;
  {
    CountingServer s;  // grab a free port, then close it
    port = s.port();
  }
  ClientRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto resp = SyncWait(client_->Send(std::move(r)));
  ASSERT_FALSE(resp.has_value());
  EXPECT_EQ(resp.error().wire_code, "connection_failed");
}

// HTTPS against `openssl s_server` with a throwaway CA-less self-signed certificate.
TEST(ClientTls, VerifiesTheServerCertificate) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("pincer-tls-" + NewId("t"));
  fs::create_directories(dir);
  std::string key = (dir / "key.pem").string(), cert = (dir / "cert.pem").string();
  std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                    " -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  int port = 0;
  {
    CountingServer s;
    port = s.port();
  }
  std::string serve = "openssl s_server -quiet -www -accept " + std::to_string(port) + " -key " +
                      key + " -cert " + cert + " >/dev/null 2>&1 & echo $!";
  FILE* p = popen(serve.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(fscanf(p, "%d", &pid), 1);
  pclose(p);
  std::string url = "https://localhost:" + std::to_string(port) + "/";

  ClientOptions trusted;
  trusted.ca_file = cert;
  auto good = MakeHttpClient(trusted);
  Result<ClientResponse> r = Error();
  for (int i = 0; i < 100; ++i) {  // s_server needs a moment to listen
    ClientRequest req;
    req.url = url;
    r = SyncWait(good->Send(std::move(req)));
    if (r || r.error().message.find("cannot connect") == std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);

  auto untrusted = MakeHttpClient();
  ClientRequest req;
  req.url = url;
  auto bad = SyncWait(untrusted->Send(std::move(req)));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("TLS handshake"), std::string::npos) << bad.error().message;

  kill(pid, SIGTERM);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pincer::http
