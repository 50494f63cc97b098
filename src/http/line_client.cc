#include "http/line_client.h"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <thread>
#include <variant>

namespace pincer::http {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using unix_socket = asio::local::stream_protocol::socket;
using tcp_socket = asio::ip::tcp::socket;

constexpr size_t kMaxLine = 64 << 20;

class Conn final : public LineConnection, public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& ctx, LineHandlers handlers) : ctx_(ctx), handlers_(std::move(handlers)) {}

  template <typename Socket>
  void Start(Socket socket) {
    socket_ = std::make_unique<std::variant<unix_socket, tcp_socket>>(std::move(socket));
    ReadMore();
  }

  void Send(std::string line) override {
    line += '\n';
    asio::post(ctx_, [self = shared_from_this(), line = std::move(line)]() mutable {
      if (self->closed_) return;
      self->queue_.push_back(std::move(line));
      if (self->queue_.size() == 1) self->WriteNext();
    });
  }

  void Close() override {
    asio::post(ctx_, [self = shared_from_this()] {
      self->Shutdown(Error(ErrorCode::kCancelled, "closed", "connection closed"));
    });
  }
  bool closed() const override { return closed_.load(); }

 private:
  template <typename F>
  void Visit(F&& f) {
    std::visit(std::forward<F>(f), *socket_);
  }

  void ReadMore() {
    Visit([this](auto& s) {
      asio::async_read_until(s, buf_, '\n', [self = shared_from_this()](error_code ec, size_t n) {
        if (ec) {
          self->Shutdown(
              Error(ErrorCode::kUnavailable, "connection_lost",
                    ec == asio::error::eof ? "the sandbox closed the connection" : ec.message()));
          return;
        }
        std::string line(asio::buffers_begin(self->buf_.data()),
                         asio::buffers_begin(self->buf_.data()) + n - 1);
        self->buf_.consume(n);
        if (self->handlers_.on_line) self->handlers_.on_line(line);
        if (!self->closed_) self->ReadMore();
      });
    });
  }

  void WriteNext() {
    Visit([this](auto& s) {
      asio::async_write(
          s, asio::buffer(queue_.front()), [self = shared_from_this()](error_code ec, size_t) {
            if (ec) {
              self->Shutdown(Error(ErrorCode::kUnavailable, "connection_lost", ec.message()));
              return;
            }
            self->queue_.pop_front();
            if (!self->queue_.empty()) self->WriteNext();
          });
    });
  }

  void Shutdown(Error why) {
    if (closed_.exchange(true)) return;
    Visit([](auto& s) {
      error_code ec;
      s.close(ec);
    });
    queue_.clear();
    if (handlers_.on_close) handlers_.on_close(why);
  }

  asio::io_context& ctx_;
  LineHandlers handlers_;
  std::unique_ptr<std::variant<unix_socket, tcp_socket>> socket_;
  asio::streambuf buf_{kMaxLine};
  std::deque<std::string> queue_;
  std::atomic<bool> closed_{false};
};

class Transport final : public LineTransport {
 public:
  Transport() : guard_(ctx_.get_executor()) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "pincer-lines");
      ctx_.run();
    });
  }
  ~Transport() override {
    guard_.reset();
    ctx_.stop();
    thread_.join();
  }

  Task<Result<std::shared_ptr<LineConnection>>> Connect(
      std::string endpoint, LineHandlers handlers, std::chrono::milliseconds timeout) override {
    using R = Result<std::shared_ptr<LineConnection>>;
    auto job = std::make_shared<Job>();
    job->endpoint = std::move(endpoint);
    job->handlers = std::move(handlers);
    job->timeout = timeout;
    auto start = [this, job](UniqueFunction<void(R)> done) {
      job->done = std::move(done);
      asio::post(ctx_,
                 [this, job] { Attempt(job, std::chrono::steady_clock::now() + job->timeout); });
    };
    co_return co_await AwaitCallback<R>(start);
  }

 private:
  struct Job {
    std::string endpoint;
    LineHandlers handlers;
    std::chrono::milliseconds timeout;
    UniqueFunction<void(Result<std::shared_ptr<LineConnection>>)> done;
    std::string last_error;
  };

  // Tries to connect; retries every millisecond until the deadline (the peer may still be
  // starting up).
  void Attempt(std::shared_ptr<Job> job, std::chrono::steady_clock::time_point deadline) {
    auto retry = [this, job, deadline](const std::string& why) {
      job->last_error = why;
      if (std::chrono::steady_clock::now() >= deadline) {
        job->done(Error(ErrorCode::kUnavailable, "connection_failed",
                        "cannot connect to " + job->endpoint + ": " + job->last_error));
        return;
      }
      auto timer = std::make_shared<asio::steady_timer>(ctx_, std::chrono::milliseconds(1));
      timer->async_wait([this, job, deadline, timer](error_code) { Attempt(job, deadline); });
    };
    if (job->endpoint.rfind("unix:", 0) == 0) {
      if (job->endpoint.size() - 5 >= kMaxUnixPath) {
        job->done(Error(ErrorCode::kInvalidArgument, "connection_failed",
                        "cannot connect to " + job->endpoint +
                            ": the path is longer than a unix socket allows (" +
                            std::to_string(kMaxUnixPath - 1) + " bytes)"));
        return;
      }
      auto s = std::make_shared<unix_socket>(ctx_);
      s->async_connect(asio::local::stream_protocol::endpoint(job->endpoint.substr(5)),
                       [this, job, s, retry](error_code ec) {
                         if (ec) return retry(ec.message());
                         auto c = std::make_shared<Conn>(ctx_, std::move(job->handlers));
                         c->Start(std::move(*s));
                         job->done(std::shared_ptr<LineConnection>(c));
                       });
    } else if (job->endpoint.rfind("tcp:", 0) == 0) {
      std::string hp = job->endpoint.substr(4);
      size_t colon = hp.rfind(':');
      error_code ec;
      auto addr = asio::ip::make_address(hp.substr(0, colon), ec);
      if (ec || colon == std::string::npos) {
        job->done(InvalidArgument("bad endpoint " + job->endpoint, "invalid_endpoint"));
        return;
      }
      auto s = std::make_shared<tcp_socket>(ctx_);
      asio::ip::tcp::endpoint ep(
          addr, static_cast<unsigned short>(std::atoi(hp.substr(colon + 1).c_str())));
      s->async_connect(ep, [this, job, s, retry](error_code cec) {
        if (cec) return retry(cec.message());
        auto c = std::make_shared<Conn>(ctx_, std::move(job->handlers));
        c->Start(std::move(*s));
        job->done(std::shared_ptr<LineConnection>(c));
      });
    } else {
      job->done(InvalidArgument("endpoint must be unix:PATH or tcp:HOST:PORT: " + job->endpoint,
                                "invalid_endpoint"));
    }
  }

  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<LineTransport> MakeLineTransport() { return std::make_unique<Transport>(); }

}  // namespace pincer::http
