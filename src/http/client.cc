#include "http/client.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <deque>
#include <map>
#include <thread>
#include <variant>

#include "common/log.h"
#include "http/line_client.h"

namespace pincer::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<asio::local::stream_protocol>;

// One pooled connection.
struct Conn {
  std::variant<std::unique_ptr<PlainStream>, std::unique_ptr<TlsStream>,
               std::unique_ptr<UnixStream>>
      stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  template <typename F>
  void Lowest(F&& f) {
    if (auto* p = std::get_if<0>(&stream)) return f(**p);
    if (auto* t = std::get_if<1>(&stream)) return f(beast::get_lowest_layer(**t));
    f(*std::get<2>(stream));
  }
  void Expire(std::chrono::milliseconds d) {
    Lowest([d](auto& s) { s.expires_after(d); });
  }
  void NoExpiry() {
    Lowest([](auto& s) { s.expires_never(); });
  }
  void CloseSocket() {
    Lowest([](auto& s) {
      error_code ec;
      s.socket().close(ec);
    });
  }
  bool IsOpen() {
    bool open = false;
    Lowest([&open](auto& s) { open = s.socket().is_open(); });
    return open;
  }
};

Error Failed(std::string code, std::string message, ErrorCode ec = ErrorCode::kUnavailable) {
  return Error(ec, std::move(code), std::move(message));
}

class Client final : public HttpClient {
 public:
  explicit Client(ClientOptions options)
      : options_(std::move(options)), ssl_(ssl::context::tls_client), guard_(ctx_.get_executor()) {
    ssl_.set_default_verify_paths();
    if (!options_.ca_file.empty()) {
      error_code ec;
      ssl_.load_verify_file(options_.ca_file, ec);
      if (ec)
        log::Error("http", "cannot load CA file")
            .Field("file", options_.ca_file)
            .Field("error", ec.message());
    }
    ssl_.set_verify_mode(ssl::verify_peer);
    // One thread: exchanges, timers and cancellations of a request never race each other.
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "pincer-client");
      ctx_.run();
    });
  }

  ~Client() override {
    guard_.reset();
    ctx_.stop();
    for (auto& t : threads_) t.join();
  }

  Task<Result<ClientResponse>> Send(ClientRequest req, BodySink sink,
                                    CancelToken* cancel) override {
    auto url = ParseUrl(req.url);
    if (!url) co_return url.error();
    if (cancel && cancel->cancelled())
      co_return Failed("cancelled", cancel->reason(), ErrorCode::kCancelled);
    // Everything the exchange needs travels in one heap object: asio coroutines then take a
    // single pointer parameter (GCC 12 mishandles some by-value class parameters of
    // coroutines started from inside another coroutine's awaiter).
    auto job =
        std::make_shared<Job>(Job{std::move(*url), std::move(req), std::move(sink), cancel, {}});
    auto start = [this, job](UniqueFunction<void(Result<ClientResponse>)> done) {
      job->done = std::move(done);
      asio::co_spawn(ctx_, Run(job), asio::detached);
    };
    co_return co_await AwaitCallback<Result<ClientResponse>>(start);
  }

 private:
  struct Job {
    Url url;
    ClientRequest req;
    BodySink sink;
    CancelToken* cancel;
    UniqueFunction<void(Result<ClientResponse>)> done;
  };

  // Runs one exchange and reports its result; exceptions (bugs) become kInternal.
  asio::awaitable<void> Run(std::shared_ptr<Job> job) {
    Result<ClientResponse> r = Internal("http client: exchange did not complete");
    try {
      r = co_await Exchange(job);
    } catch (const std::exception& ex) {
      r = Internal(std::string("http client: ") + ex.what());
    }
    auto done = std::move(job->done);
    job.reset();
    done(std::move(r));
  }

  static std::string OriginKey(const Url& u, const std::string& unix_socket) {
    if (!unix_socket.empty()) return "unix:" + unix_socket;
    return (u.tls ? "https://" : "http://") + u.host + ":" + u.port;
  }

  std::unique_ptr<Conn> TakeIdle(const std::string& origin) {
    std::lock_guard lock(pool_mu_);
    auto it = pool_.find(origin);
    if (it == pool_.end()) return nullptr;
    auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
      auto c = std::move(it->second.back());
      it->second.pop_back();
      if (now - c->idle_since < options_.idle_keepalive && c->IsOpen()) return c;
    }
    return nullptr;
  }

  void GiveBack(const std::string& origin, std::unique_ptr<Conn> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(pool_mu_);
    auto& list = pool_[origin];
    if (list.size() < options_.max_idle_per_origin) list.push_back(std::move(c));
  }

  asio::awaitable<Result<std::unique_ptr<Conn>>> Connect(const Url* url,
                                                         const std::string* unix_path) {
    const Url& u = *url;
    if (!unix_path->empty()) {
      if (unix_path->size() >= kMaxUnixPath) {
        co_return Failed("connection_failed",
                         "cannot connect to " + *unix_path +
                             ": the path is longer than a unix socket allows (" +
                             std::to_string(kMaxUnixPath - 1) + " bytes)");
      }
      auto s = std::make_unique<UnixStream>(ctx_);
      auto [uec] =
          co_await s->async_connect(asio::local::stream_protocol::endpoint(*unix_path), kTuple);
      if (uec)
        co_return Failed("connection_failed",
                         "cannot connect to " + *unix_path + ": " + uec.message());
      auto conn = std::make_unique<Conn>();
      conn->stream = std::move(s);
      co_return conn;
    }
    tcp::resolver resolver(ctx_);
    auto [rec, results] = co_await resolver.async_resolve(u.host, u.port, kTuple);
    if (rec)
      co_return Failed("connection_failed", "cannot resolve " + u.host + ": " + rec.message());
    auto conn = std::make_unique<Conn>();
    if (u.tls) {
      auto s = std::make_unique<TlsStream>(ctx_, ssl_);
      if (!SSL_set_tlsext_host_name(s->native_handle(), u.host.c_str())) {
        co_return Failed("connection_failed", "TLS: cannot set SNI for " + u.host);
      }
      s->set_verify_callback(ssl::host_name_verification(u.host));
      auto [cec, ep] = co_await beast::get_lowest_layer(*s).async_connect(results, kTuple);
      if (cec)
        co_return Failed("connection_failed",
                         "cannot connect to " + u.host + ":" + u.port + ": " + cec.message());
      auto [hec] = co_await s->async_handshake(ssl::stream_base::client, kTuple);
      if (hec)
        co_return Failed("connection_failed",
                         "TLS handshake with " + u.host + " failed: " + hec.message());
      conn->stream = std::move(s);
    } else {
      auto s = std::make_unique<PlainStream>(ctx_);
      auto [cec, ep] = co_await s->async_connect(results, kTuple);
      if (cec)
        co_return Failed("connection_failed",
                         "cannot connect to " + u.host + ":" + u.port + ": " + cec.message());
      conn->stream = std::move(s);
    }
    error_code nec;
    if (auto* p = std::get_if<0>(&conn->stream)) {
      (*p)->socket().set_option(tcp::no_delay(true), nec);
    } else if (auto* t = std::get_if<1>(&conn->stream)) {
      beast::get_lowest_layer(**t).socket().set_option(tcp::no_delay(true), nec);
    }
    co_return conn;
  }

  // One request/response on `conn`. `fresh` tells whether the connection was just opened
  // (a reused one may have been closed by the server: the caller then retries once).
  template <typename Stream>
  asio::awaitable<Result<ClientResponse>> RoundTrip(Stream* stream_ptr, Conn* conn_ptr,
                                                    bhttp::request<bhttp::string_body>* msg_ptr,
                                                    const ClientRequest* req_ptr,
                                                    BodySink* sink_ptr, bool* reusable,
                                                    bool* got_bytes) {
    Stream& stream = *stream_ptr;
    Conn& conn = *conn_ptr;
    auto& msg = *msg_ptr;
    const ClientRequest& req = *req_ptr;
    BodySink& sink = *sink_ptr;
    conn.Expire(req.idle_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, msg, kTuple);
    if (wec) co_return Failed("connection_failed", "sending request: " + wec.message());

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    conn.Expire(req.idle_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, conn.buffer, parser, kTuple);
    if (hec) {
      if (hec == beast::error::timeout)
        co_return Failed("timeout", "no response within the idle timeout",
                         ErrorCode::kDeadlineExceeded);
      co_return Failed("connection_failed", "reading response: " + hec.message());
    }
    *got_bytes = true;
    ClientResponse resp;
    resp.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get()) resp.headers.Add(f.name_string(), std::string(f.value()));
    bool stream_body = sink && resp.status >= 200 && resp.status < 300;
    char buf[16384];
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof(buf);
      conn.Expire(req.idle_timeout);
      auto [rec, rn] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kTuple);
      if (rec == bhttp::error::need_buffer) rec = {};
      if (rec) {
        if (rec == beast::error::timeout)
          co_return Failed("timeout", "response stalled longer than the idle timeout",
                           ErrorCode::kDeadlineExceeded);
        if (rec == asio::error::operation_aborted)
          co_return Failed("cancelled", "cancelled", ErrorCode::kCancelled);
        co_return Failed("connection_lost", "response interrupted: " + rec.message());
      }
      size_t got = sizeof(buf) - parser.get().body().size;
      if (got == 0) continue;
      std::string_view chunk(buf, got);
      if (stream_body) {
        if (!sink(chunk))
          co_return Failed("cancelled", "aborted by the body sink", ErrorCode::kCancelled);
      } else {
        resp.body.append(chunk);
      }
    }
    conn.NoExpiry();
    *reusable = parser.get().keep_alive();
    co_return resp;
  }

  asio::awaitable<Result<ClientResponse>> Exchange(std::shared_ptr<Job> job) {
    const Url& u = job->url;
    const ClientRequest& req = job->req;
    BodySink& sink = job->sink;
    CancelToken* cancel = job->cancel;
    std::string origin = OriginKey(u, req.unix_socket);
    bhttp::request<bhttp::string_body> msg{bhttp::string_to_verb(req.method), u.target, 11};
    if (msg.method() == bhttp::verb::unknown) msg.method_string(req.method);
    bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
    msg.set(bhttp::field::host, default_port ? u.host : u.host + ":" + u.port);
    msg.set(bhttp::field::user_agent, options_.user_agent);
    for (const auto& [k, v] : req.headers.all()) msg.set(k, v);
    msg.body() = req.body;
    msg.keep_alive(true);
    msg.prepare_payload();

    // The overall deadline and cancellation both close the socket of the live connection.
    // Shared state, because a cancel posted from another thread may land after we return.
    struct Watch {
      Conn* live = nullptr;
      bool timed_out = false;
      bool cancelled = false;
      bool finished = false;
    };
    auto watch = std::make_shared<Watch>();
    asio::steady_timer deadline(ctx_);
    deadline.expires_after(req.timeout);
    deadline.async_wait([watch](error_code ec) {
      if (ec || watch->finished) return;
      watch->timed_out = true;
      if (watch->live) watch->live->CloseSocket();
    });
    CancelToken::Registration reg;
    if (cancel) {
      reg = cancel->OnCancel([this, watch] {
        asio::post(ctx_, [watch] {
          if (watch->finished) return;
          watch->cancelled = true;
          if (watch->live) watch->live->CloseSocket();
        });
      });
    }
    Conn*& live = watch->live;
    const bool& timed_out = watch->timed_out;
    const bool& cancelled = watch->cancelled;

    Result<ClientResponse> result = Failed("connection_failed", "not attempted");
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Conn> conn = attempt == 0 ? TakeIdle(origin) : nullptr;
      bool fresh = conn == nullptr;
      if (fresh) {
        auto made = co_await Connect(&u, &req.unix_socket);
        if (!made) {
          result = std::move(made).error();
          break;
        }
        conn = std::move(*made);
      }
      live = conn.get();
      if (cancelled) break;
      bool reusable = false, got_bytes = false;
      if (auto* p = std::get_if<0>(&conn->stream)) {
        result = co_await RoundTrip(p->get(), conn.get(), &msg, &req, &sink, &reusable, &got_bytes);
      } else if (auto* us = std::get_if<2>(&conn->stream)) {
        result =
            co_await RoundTrip(us->get(), conn.get(), &msg, &req, &sink, &reusable, &got_bytes);
      } else {
        result = co_await RoundTrip(std::get<1>(conn->stream).get(), conn.get(), &msg, &req, &sink,
                                    &reusable, &got_bytes);
      }
      live = nullptr;
      if (result && reusable && !timed_out && !cancelled) GiveBack(origin, std::move(conn));
      // A pooled connection the server had already closed fails before any byte: retry fresh.
      if (!result && !fresh && !got_bytes && !timed_out && !cancelled) continue;
      break;
    }
    watch->finished = true;
    deadline.cancel();
    reg.Reset();
    if (cancelled)
      co_return Failed("cancelled", cancel ? cancel->reason() : "cancelled", ErrorCode::kCancelled);
    if (timed_out) {
      co_return Failed("timeout",
                       "no complete response within " + std::to_string(req.timeout.count()) + " ms",
                       ErrorCode::kDeadlineExceeded);
    }
    co_return result;
  }

  ClientOptions options_;
  asio::io_context ctx_;
  ssl::context ssl_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::mutex pool_mu_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> pool_;
};

}  // namespace

Result<Url> ParseUrl(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return InvalidArgument("URL must start with http:// or https://: " + std::string(url),
                           "invalid_url");
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("URL credentials are not supported: " + std::string(url), "invalid_url");
  }
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return InvalidArgument("bad IPv6 host in " + std::string(url), "invalid_url");
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] == ':') u.port = std::string(authority.substr(1));
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return InvalidArgument("URL has no host: " + std::string(url), "invalid_url");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  for (char c : u.port) {
    if (c < '0' || c > '9')
      return InvalidArgument("bad port in URL: " + std::string(url), "invalid_url");
  }
  return u;
}

std::unique_ptr<HttpClient> MakeHttpClient(ClientOptions options) {
  return std::make_unique<Client>(std::move(options));
}

}  // namespace pincer::http
