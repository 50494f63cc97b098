#include "http/server.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "http_test_client.h"

namespace pincer::http {
namespace {

using pincer::testing::TestConnection;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(RequestHandler handler, ServerOptions opt = {}) {
    opt.port = 0;
    opt.threads = 2;
    auto s = Server::Start(std::move(opt), std::move(handler));
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    server = std::move(*s);
  }
  void TearDown() override {
    if (server) server->Shutdown();
  }
  std::unique_ptr<Server> server;
};

Task<Response> Echo(Request& req) {
  co_return Response::Text(200, req.method + " " + req.path + " " + req.query + " " + req.body,
                           "text/plain");
}

TEST_F(ServerTest, ServesRequestsWithKeepAlive) {
  StartServer(Echo);
  TestConnection c(server->port());
  auto r1 = c.Request("GET", "/a?x=1");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "GET /a x=1 ");
  auto r2 = c.Request("POST", "/b", "hello");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "POST /b  hello");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(Echo);
  TestConnection c(server->port());
  ASSERT_TRUE(c.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.Read()->body, "GET /1  ");
  EXPECT_EQ(c.Read()->body, "GET /2  ");
}

TEST_F(ServerTest, BodyOverLimitGets413) {
  ServerOptions opt;
  opt.max_body_bytes = 1024;
  opt.error_response = [](int status, std::string code, std::string) {
    return Response::Json(status, "{\"error\":\"" + code + "\"}");
  };
  StartServer(Echo, opt);
  TestConnection c(server->port());
  auto r = c.Request("POST", "/big", std::string(4096, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "{\"error\":\"payload_too_large\"}");
  // Chunked bodies are limited too.
  TestConnection c2(server->port());
  std::string chunk(600, 'y');
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", chunk.size());
  ASSERT_TRUE(c2.Send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      std::string(size) + "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk +
                      "\r\n0\r\n\r\n"));
  auto r2 = c2.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 413);
}

TEST_F(ServerTest, PerRouteBodyLimitAppliesToContentLengthAndChunkedBodies) {
  ServerOptions opt;
  opt.max_body_bytes = 1024;
  opt.body_limit = [](std::string_view method, std::string_view target) -> int64_t {
    return method == "PUT" && target.rfind("/upload", 0) == 0 ? 8192 : 1024;
  };
  opt.error_response = [](int status, std::string code, std::string message) {
    return Response::Json(status, "{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}");
  };
  StartServer(Echo, opt);
  // Over the default limit, within the route's: Content-Length is checked against the route.
  TestConnection c(server->port());
  auto big = c.Request("PUT", "/upload", std::string(8192, 'x'));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 200);
  EXPECT_EQ(big->body, "PUT /upload  " + std::string(8192, 'x'));
  auto other = c.Request("PUT", "/elsewhere", std::string(4096, 'x'));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 413);
  EXPECT_EQ(other->body,
            "{\"error\":\"payload_too_large\",\"message\":\"request body exceeds 1024 bytes\"}");
  TestConnection c2(server->port());
  auto over = c2.Request("PUT", "/upload", std::string(8193, 'x'));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(over->body,
            "{\"error\":\"payload_too_large\",\"message\":\"request body exceeds 8192 bytes\"}");
  // Chunked: the route's limit too.
  std::string chunk(3000, 'y');
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", chunk.size());
  std::string two_chunks =
      std::string(size) + "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n0\r\n\r\n";
  TestConnection c3(server->port());
  ASSERT_TRUE(c3.Send("PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      two_chunks));
  auto chunked = c3.Read();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 200);
  TestConnection c4(server->port());
  ASSERT_TRUE(c4.Send("PUT /elsewhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      two_chunks));
  auto chunked_over = c4.Read();
  ASSERT_TRUE(chunked_over);
  EXPECT_EQ(chunked_over->status, 413);
}

TEST_F(ServerTest, HugeHeadersGet431) {
  ServerOptions opt;
  opt.max_header_bytes = 2048;
  StartServer(Echo, opt);
  TestConnection c(server->port());
  auto r = c.Request("GET", "/", "", {{"X-Big", std::string(4096, 'h')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, GarbageGets400) {
  StartServer(Echo);
  TestConnection c(server->port());
  ASSERT_TRUE(c.Send("BLAH\x01 / HTTP/1.1\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.WaitClosed(2000));
}

TEST_F(ServerTest, SlowClientIsCutOffByTheReadTimeout) {
  ServerOptions opt;
  opt.read_timeout = std::chrono::milliseconds(200);
  StartServer(Echo, opt);
  TestConnection c(server->port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finishes the header
  EXPECT_TRUE(c.WaitClosed(3000));
}

TEST_F(ServerTest, IdleKeepAliveConnectionsAreClosed) {
  ServerOptions opt;
  opt.keepalive_timeout = std::chrono::milliseconds(200);
  StartServer(Echo, opt);
  TestConnection c(server->port());
  ASSERT_TRUE(c.Request("GET", "/"));
  EXPECT_TRUE(c.WaitClosed(3000));
}

TEST_F(ServerTest, HandlerExceptionsBecome500) {
  StartServer([](Request&) -> Task<Response> {
    throw std::runtime_error("bug");
    co_return Response{};
  });
  TestConnection c(server->port());
  auto r = c.Request("GET", "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  // The connection survives for the next request.
  EXPECT_EQ(c.Request("GET", "/")->status, 500);
}

TEST_F(ServerTest, ShutdownDrainsInFlightRequestsAndClosesIdleOnes) {
  std::promise<void> entered;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  StartServer([&](Request&) -> Task<Response> {
    entered.set_value();
    // Park on a foreign thread until the test releases us.
    auto park = [release_future](auto complete) {
      std::thread([release_future, c = std::move(complete)]() mutable {
        release_future.wait();
        c(0);
      }).detach();
    };
    co_await AwaitCallback<int>(park);
    co_return Response::Text(200, "done", "text/plain");
  });
  TestConnection idle(server->port());
  TestConnection busy(server->port());
  ASSERT_TRUE(busy.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();
  std::thread stopper([&] { server->Shutdown(); });
  EXPECT_TRUE(idle.WaitClosed(3000));
  release.set_value();
  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->headers["connection"], "close");
  stopper.join();
}

TEST_F(ServerTest, StreamsChunkedResponses) {
  StartServer([](Request&) -> Task<Response> {
    Response r;
    r.headers.Set("content-type", "text/event-stream");
    r.stream = [](StreamWriter& w) -> Task<void> {
      for (int i = 0; i < 3; ++i) {
        if (!co_await w.Write("data: " + std::to_string(i) + "\n\n")) co_return;
      }
    };
    co_return r;
  });
  TestConnection c(server->port());
  auto r = c.Request("GET", "/events");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"], "text/event-stream");
  EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  // The connection is reused for the next request.
  auto again = c.Request("GET", "/events");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, r->body);
}

TEST_F(ServerTest, AbortedStreamsEndWithoutTheLastChunk) {
  StartServer([](Request&) -> Task<Response> {
    Response r;
    r.stream = [](StreamWriter& w) -> Task<void> {
      co_await w.Write("partial");
      w.Abort();
    };
    co_return r;
  });
  TestConnection c(server->port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(c.Read(3000).has_value());  // the chunked body never terminates
}

TEST_F(ServerTest, BindFailureNamesTheAddress) {
  StartServer(Echo);
  ServerOptions opt;
  opt.port = server->port();
  opt.threads = 1;
  auto second = Server::Start(opt, Echo);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos)
      << second.error().message;
}

}  // namespace
}  // namespace pincer::http
