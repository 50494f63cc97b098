#include "http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"

namespace pincer::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

class AsioTimer final : public Executor::Timer, public std::enable_shared_from_this<AsioTimer> {
 public:
  explicit AsioTimer(asio::io_context& ctx) : timer(ctx) {}
  void Cancel() override {
    if (cancelled.exchange(true)) return;
    asio::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
  }
  asio::steady_timer timer;
  std::atomic<bool> cancelled{false};
};

class IoExecutor final : public Executor {
 public:
  explicit IoExecutor(asio::io_context& ctx) : ctx_(ctx) {}
  void Post(UniqueFunction<void()> fn) override { asio::post(ctx_, std::move(fn)); }
  std::shared_ptr<Timer> PostAfter(std::chrono::milliseconds delay,
                                   UniqueFunction<void()> fn) override {
    auto t = std::make_shared<AsioTimer>(ctx_);
    t->timer.expires_after(delay);
    t->timer.async_wait([t, fn = std::move(fn)](error_code ec) mutable {
      if (!ec && !t->cancelled.load()) fn();
    });
    return t;
  }

 private:
  asio::io_context& ctx_;
};

// Per-connection state the shutdown path needs; touched only on the connection's thread.
struct Conn {
  beast::tcp_stream* stream = nullptr;
  bool idle = false;
};

class ChunkWriter;

struct IoThread {
  asio::io_context ctx{1};
  IoExecutor executor{ctx};
  std::set<Conn*> conns;
  std::set<ChunkWriter*> writers;  // live streamed responses
  std::thread thread;
};

// Awaits a Task from an Asio coroutine: the task starts inline (its thread's current executor
// is this I/O thread) and its result is posted back to the awaiting coroutine.
template <typename T>
asio::awaitable<T> AwaitTask(Task<T> task) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [&task](auto handler) {
        Spawn<T>(std::move(task), UniqueFunction<void(T)>([h = std::move(handler)](T v) mutable {
                   auto ex = asio::get_associated_executor(h);
                   asio::post(ex, [h = std::move(h), v = std::move(v)]() mutable {
                     std::move(h)(std::move(v));
                   });
                 }));
      },
      asio::use_awaitable);
}

asio::awaitable<void> AwaitTask(Task<void> task) {
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&task](auto handler) {
        Spawn(std::move(task), UniqueFunction<void()>([h = std::move(handler)]() mutable {
                auto ex = asio::get_associated_executor(h);
                asio::post(ex, [h = std::move(h)]() mutable { std::move(h)(); });
              }));
      },
      asio::use_awaitable);
}

// Streams a response body as HTTP chunks; writes are marshalled onto the connection's thread.
class ChunkWriter final : public StreamWriter {
 public:
  ChunkWriter(beast::tcp_stream& stream, asio::io_context& ctx, std::chrono::milliseconds timeout,
              const std::atomic<bool>& draining)
      : stream_(stream), ctx_(ctx), timeout_(timeout), draining_(draining) {}

  Task<bool> Write(std::string chunk) override {
    if (Closed()) co_return false;
    if (chunk.empty()) co_return true;  // an empty chunk would end the response
    bool ok = co_await AwaitCallback<bool>([this, &chunk](auto complete) {
      asio::post(ctx_, [this, &chunk, complete = std::move(complete)]() mutable {
        stream_.expires_after(timeout_);
        asio::async_write(stream_, bhttp::make_chunk(asio::buffer(chunk)),
                          [this, complete = std::move(complete)](error_code ec, size_t) mutable {
                            stream_.expires_never();
                            if (ec) closed_ = true;
                            complete(!ec);
                          });
      });
    });
    co_return ok && !Closed();
  }
  bool Closed() const override { return closed_.load() || draining_.load(); }
  void Abort() override {
    aborted_ = true;
    closed_ = true;
  }
  void MarkClosed() {
    closed_ = true;
    if (on_close_) std::exchange(on_close_, nullptr)();
  }
  // Server draining: wake the producer (Closed() already reports true) but still end the
  // response properly.
  void WakeForDrain() {
    if (on_close_) std::exchange(on_close_, nullptr)();
  }
  void OnClose(std::function<void()> fn) override {
    // Called from the producer's thread; run the registration on the connection's thread.
    asio::post(ctx_, [this, fn = std::move(fn)]() mutable {
      if (closed_.load() || draining_.load()) {
        fn();
      } else {
        on_close_ = std::move(fn);
      }
    });
  }
  bool aborted() const { return aborted_.load(); }
  bool client_gone() const { return closed_.load(); }

 private:
  beast::tcp_stream& stream_;
  asio::io_context& ctx_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>& draining_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> aborted_{false};
  std::function<void()> on_close_;  // touched only on the connection's thread
};

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, RequestHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {
    if (!options_.error_response) {
      options_.error_response = [](int status, std::string code, std::string message) {
        return Response::Text(status, code + ": " + message + "\n", "text/plain");
      };
    }
  }

  ~ServerImpl() override { Shutdown(); }

  Result<void> Listen() {
    size_t n = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                    : std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < n; ++i) threads_.push_back(std::make_unique<IoThread>());
    error_code ec;
    auto addr = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return Error(ErrorCode::kInvalidArgument, "invalid_config",
                   "PINCER_HOST is not an IP address: \"" + options_.host + "\"");
    }
    tcp::endpoint ep(addr, static_cast<unsigned short>(options_.port));
    acceptor_ = std::make_unique<tcp::acceptor>(threads_[0]->ctx);
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error(ErrorCode::kUnavailable, "bind_failed",
                   "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       ": " + ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(threads_[0]->ctx, Accept(), asio::detached);
    for (size_t i = 0; i < threads_.size(); ++i) {
      IoThread* t = threads_[i].get();
      guards_.emplace_back(t->ctx.get_executor());
      t->thread = std::thread([t, i] {
        std::string name = "pincer-io-" + std::to_string(i);
        pthread_setname_np(pthread_self(), name.c_str());
        Executor::ScopedCurrent scope(&t->executor);
        t->ctx.run();
      });
    }
    return Ok();
  }

  int port() const override { return port_; }
  size_t thread_count() const override { return threads_.size(); }
  Executor& executor(size_t i) override { return threads_.at(i)->executor; }
  bool draining() const override { return draining_.load(); }

  void Shutdown() override {
    std::lock_guard shutdown_lock(shutdown_mu_);
    if (stopped_) return;
    draining_ = true;
    asio::post(threads_[0]->ctx, [this] {
      error_code ec;
      if (acceptor_) acceptor_->close(ec);
    });
    for (auto& t : threads_) {
      asio::post(t->ctx, [t = t.get()] {
        for (Conn* c : t->conns) {
          error_code ec;  // the socket may already be closed by its own timeout
          if (c->idle) c->stream->socket().cancel(ec);
        }
        for (ChunkWriter* w : t->writers) w->WakeForDrain();
      });
    }
    {
      std::unique_lock lock(mu_);
      bool drained = cv_.wait_for(lock, options_.shutdown_grace, [this] { return active_ == 0; });
      if (!drained) {
        log::Warn("http", "shutdown grace expired; closing remaining connections")
            .Field("connections", static_cast<int64_t>(active_));
      }
    }
    guards_.clear();
    for (auto& t : threads_) t->ctx.stop();
    for (auto& t : threads_) {
      if (t->thread.joinable()) t->thread.join();
    }
    stopped_ = true;
  }

 private:
  asio::awaitable<void> Accept() {
    size_t next = 0;
    while (!draining_) {
      IoThread& t = *threads_[next];
      next = (next + 1) % threads_.size();
      auto [ec, socket] = co_await acceptor_->async_accept(t.ctx, kTuple);
      if (ec) {
        if (draining_ || ec == asio::error::operation_aborted) break;
        log::Warn("http", "accept failed").Field("error", ec.message());
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(t.ctx, Serve(std::move(socket), t), asio::detached);
    }
  }

  // With `linger`, reads and discards up to four times `body_limit` (the limit the request
  // broke; max_body_bytes when smaller or unset) after answering.
  asio::awaitable<void> SendError(beast::tcp_stream& stream, int status, std::string code,
                                  std::string message, bool linger, int64_t body_limit = 0) {
    Response r = options_.error_response(status, std::move(code), std::move(message));
    bhttp::response<bhttp::string_body> res;
    FillResponse(res, r, /*keep_alive=*/false);
    stream.expires_after(options_.read_timeout);
    co_await bhttp::async_write(stream, res, kTuple);
    if (linger) {
      // Let the client finish sending so it reads our answer instead of a reset.
      error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream.expires_after(std::chrono::seconds(2));
      std::array<char, 16384> sink;
      int64_t budget = std::max(body_limit, options_.max_body_bytes) * 4;
      while (budget > 0) {
        auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        budget -= static_cast<int64_t>(n);
      }
    }
  }

  static void FillResponse(bhttp::response<bhttp::string_body>& res, Response& r, bool keep_alive) {
    res.version(11);
    res.result(static_cast<unsigned>(r.status));
    for (auto& [k, v] : r.headers.all()) res.set(k, v);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
  }

  asio::awaitable<void> Serve(tcp::socket socket, IoThread& t) {
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    std::string peer = ec ? "" : remote.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    Conn conn{&stream, false};
    t.conns.insert(&conn);
    {
      std::lock_guard lock(mu_);
      ++active_;
    }
    co_await ServeRequests(stream, conn, peer, t);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    t.conns.erase(&conn);
    {
      std::lock_guard lock(mu_);
      --active_;
    }
    cv_.notify_all();
  }

  asio::awaitable<void> ServeRequests(beast::tcp_stream& stream, Conn& conn,
                                      const std::string& peer, IoThread& t) {
    beast::flat_buffer buffer;
    for (;;) {
      if (buffer.size() == 0) {
        if (draining_) co_return;
        conn.idle = true;
        stream.expires_after(options_.keepalive_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
        conn.idle = false;
        if (ec) co_return;  // closed, idle timeout or shutdown
        buffer.commit(n);
      }
      bhttp::request_parser<bhttp::string_body> parser;
      int64_t body_limit = options_.max_body_bytes;
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      // Beast checks Content-Length against the body limit while it parses the header, before
      // the route's own limit is known: with per-route limits, none applies until the header
      // is in (nothing of the body is read before that), then the route's limit does.
      if (options_.body_limit) {
        parser.body_limit(boost::none);
      } else {
        parser.body_limit(static_cast<uint64_t>(options_.max_body_bytes));
      }
      stream.expires_after(options_.read_timeout);
      auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (hec) {
        co_await HandleReadError(stream, hec);
        co_return;
      }
      // Beast applies header_limit per read call; enforce it over the whole header block.
      if (hn > static_cast<size_t>(options_.max_header_bytes)) {
        co_await SendError(
            stream, 431, "request_header_fields_too_large",
            "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes",
            /*linger=*/false);
        co_return;
      }
      auto& header = parser.get();
      if (options_.body_limit) {
        body_limit = options_.body_limit(header.method_string(), header.target());
        parser.body_limit(static_cast<uint64_t>(body_limit));
        if (auto len = parser.content_length(); len && *len > static_cast<uint64_t>(body_limit)) {
          co_await HandleReadError(stream, bhttp::error::body_limit, body_limit);
          co_return;
        }
      }
      if (header.version() >= 11) {
        auto hosts = header.equal_range(bhttp::field::host);
        if (std::distance(hosts.first, hosts.second) != 1) {
          co_await SendError(stream, 400, "bad_request",
                             "HTTP/1.1 requests need exactly one Host header", false);
          co_return;
        }
      }
      if (header.target().empty() || (header.target()[0] != '/' && header.target() != "*")) {
        co_await SendError(stream, 400, "bad_request", "request target must start with '/'", false);
        co_return;
      }
      if (auto expect = header[bhttp::field::expect];
          beast::iequals(expect, "100-continue") && !parser.is_done()) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        auto [wec, wn] = co_await bhttp::async_write(stream, cont, kTuple);
        if (wec) co_return;
      }
      if (!parser.is_done()) {
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec) {
          co_await HandleReadError(stream, bec, body_limit);
          co_return;
        }
      }
      stream.expires_never();
      auto msg = parser.release();
      bool keep_alive = msg.keep_alive();

      Request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      size_t q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& f : msg) req.headers.Add(f.name_string(), std::string(f.value()));
      req.body = std::move(msg.body());
      req.peer = peer;

      Response resp = co_await AwaitTask(Guarded(req));
      if (draining_) keep_alive = false;

      if (resp.stream) {
        // A long-lived stream keeps this connection: drop the read buffer's spare capacity.
        if (buffer.size() == 0) buffer.shrink_to_fit();
        bool reusable = co_await WriteStream(stream, t, resp, keep_alive);
        if (!reusable) co_return;
        continue;
      }
      bhttp::response<bhttp::string_body> res;
      FillResponse(res, resp, keep_alive);
      stream.expires_after(options_.read_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      if (wec || !keep_alive) co_return;
    }
  }

  asio::awaitable<void> HandleReadError(beast::tcp_stream& stream, error_code ec,
                                        int64_t body_limit = -1) {
    if (ec == bhttp::error::body_limit) {
      if (body_limit < 0) body_limit = options_.max_body_bytes;
      co_await SendError(stream, 413, "payload_too_large",
                         "request body exceeds " + std::to_string(body_limit) + " bytes",
                         /*linger=*/true, body_limit);
    } else if (ec == bhttp::error::header_limit) {
      co_await SendError(
          stream, 431, "request_header_fields_too_large",
          "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes",
          /*linger=*/false);
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      co_await SendError(stream, 400, "bad_request", "malformed HTTP request: " + ec.message(),
                         /*linger=*/false);
    }
    // Timeouts, resets and EOF just close the connection.
  }

  Task<Response> Guarded(Request& req) {
    try {
      co_return co_await handler_(req);
    } catch (const std::exception& e) {
      log::Error("http", "handler threw").Field("error", e.what()).Field("path", req.path);
    }
    co_return options_.error_response(500, "internal", "internal server error");
  }

  // Returns true when the connection can serve another request.
  asio::awaitable<bool> WriteStream(beast::tcp_stream& stream, IoThread& t, Response& resp,
                                    bool keep_alive) {
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(resp.status), 11};
    for (auto& [k, v] : resp.headers.all()) res.set(k, v);
    res.chunked(true);
    res.keep_alive(keep_alive);
    bhttp::response_serializer<bhttp::empty_body> sr(res);
    stream.expires_after(options_.read_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kTuple);
    stream.expires_never();
    if (ec) co_return false;
    ChunkWriter writer(stream, t.ctx, options_.read_timeout, draining_);
    t.writers.insert(&writer);
    // Watch for the client going away while the producer waits for something to send. It only
    // waits for readability, so bytes of a next (pipelined) request are left in the socket.
    auto watch = std::make_shared<bool>(true);
    asio::co_spawn(
        t.ctx,
        [&stream, &writer, watch]() -> asio::awaitable<void> {
          auto [wec] = co_await stream.socket().async_wait(tcp::socket::wait_read, kTuple);
          if (!*watch) co_return;  // the stream ended first; writer may be gone
          char probe;
          ssize_t got = ::recv(stream.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
          if (wec || got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            writer.MarkClosed();
          }
        },
        asio::detached);
    co_await AwaitTask(resp.stream(writer));
    *watch = false;
    t.writers.erase(&writer);
    error_code cec;
    stream.socket().cancel(cec);  // stop the watcher before `writer` goes out of scope
    if (writer.aborted()) {
      stream.socket().set_option(asio::socket_base::linger(true, 0), cec);  // reset, not FIN
      co_return false;
    }
    if (writer.client_gone()) co_return false;
    stream.expires_after(options_.read_timeout);
    auto [lec, ln] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kTuple);
    stream.expires_never();
    co_return !lec && keep_alive && !draining_;
  }

  ServerOptions options_;
  RequestHandler handler_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  int port_ = 0;
  std::atomic<bool> draining_{false};
  std::mutex shutdown_mu_;
  bool stopped_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t active_ = 0;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, RequestHandler handler) {
  auto server = std::make_unique<ServerImpl>(std::move(options), std::move(handler));
  RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace pincer::http
