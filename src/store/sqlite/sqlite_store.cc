#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "store/sqlite/access.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"

namespace pincer::store {

Result<void> Store::WriteSync(UniqueFunction<Result<void>(Writer&)> fn) {
  return SyncWait(Write(std::move(fn)));
}

namespace sqlite {
namespace {

// One queued write and how to report its outcome.
struct WriteJob {
  UniqueFunction<Result<void>(Writer&)> fn;
  UniqueFunction<void(Result<void>)> done;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

  ~SqliteStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
  }

  Result<void> Open() {
    std::error_code ec;
    auto parent = std::filesystem::path(options_.path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Error(ErrorCode::kUnavailable, "store_unavailable",
                   "cannot create " + parent.string() + ": " + ec.message());
    }
    ASSIGN_OR_RETURN(auto conn, Connection::Open(options_.path, false, options_.synchronous_full));
    RETURN_IF_ERROR(Migrate(*conn, SystemClock().NowMs()));
    writer_ = std::make_unique<Access>(std::move(conn));
    writer_thread_ = std::thread([this] { WriterLoop(); });
    return Ok();
  }

  ReadHandle Read() override {
    std::unique_ptr<Access> conn;
    {
      std::lock_guard lock(pool_mu_);
      if (!pool_.empty()) {
        conn = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (!conn) {
      auto opened = Connection::Open(options_.path, /*read_only=*/true, false);
      if (!opened) {
        // Reads on a fresh connection failing to open means the file vanished or the process
        // ran out of descriptors; hand back a reader whose calls all fail with that error.
        return ReadHandle(&failed_reader_.Set(opened.error()), nullptr);
      }
      conn = std::make_unique<Access>(std::move(*opened));
    }
    Access* raw = conn.release();
    return ReadHandle(raw, [this](Reader* r) {
      std::unique_ptr<Access> back(static_cast<Access*>(r));
      std::lock_guard lock(pool_mu_);
      if (pool_.size() < kMaxPooled) pool_.push_back(std::move(back));
    });
  }

  Task<Result<void>> Write(UniqueFunction<Result<void>(Writer&)> fn) override {
    co_return co_await AwaitCallback<Result<void>>(
        [this, &fn](UniqueFunction<void(Result<void>)> done) {
          {
            std::lock_guard lock(queue_mu_);
            if (stopping_) {
              done(Error(ErrorCode::kUnavailable, "store_closed", "the store is shutting down"));
              return;
            }
            queue_.push_back(WriteJob{std::move(fn), std::move(done)});
          }
          queue_cv_.notify_one();
        });
  }

 private:
  static constexpr size_t kMaxPooled = 64;

  // Reader that fails every call with one error (when a read connection cannot be opened).
  class FailedReader final : public Reader {
   public:
    FailedReader& Set(Error e) {
      std::lock_guard lock(mu_);
      error_ = std::move(e);
      return *this;
    }
    Result<std::optional<domain::Agent>> GetAgent(std::string_view) override { return Err(); }
    Result<Page<domain::Agent>> ListAgents(const PageRequest&) override { return Err(); }
    Result<std::vector<domain::Agent>> ListAgentVersions(std::string_view) override { return Err(); }
    Result<std::optional<domain::Environment>> GetEnvironment(std::string_view) override { return Err(); }
    Result<Page<domain::Environment>> ListEnvironments(const PageRequest&) override { return Err(); }
    Result<Page<domain::AuditEvent>> ListAudit(const AuditQuery&) override { return Err(); }

   private:
    Error Err() {
      std::lock_guard lock(mu_);
      return error_;
    }
    std::mutex mu_;
    Error error_;
  };

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "pincer-writer");
    Connection& conn = writer_->conn();
    for (;;) {
      std::vector<WriteJob> batch;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        while (!queue_.empty() && batch.size() < static_cast<size_t>(options_.max_batch)) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      RunBatch(conn, batch);
    }
  }

  // Group commit: one transaction for the batch, a savepoint per job so a failed job rolls
  // back alone. Completion callbacks run only after COMMIT returns.
  void RunBatch(Connection& conn, std::vector<WriteJob>& batch) {
    std::vector<Result<void>> results;
    results.reserve(batch.size());
    auto begun = conn.Exec("BEGIN IMMEDIATE");
    if (!begun) {
      for (auto& job : batch) job.done(begun.error());
      return;
    }
    for (auto& job : batch) {
      Result<void> r = conn.Exec("SAVEPOINT job");
      if (r) {
        try {
          r = job.fn(*writer_);
        } catch (const std::exception& e) {
          r = Internal(std::string("write threw: ") + e.what());
        }
        if (r) {
          r = conn.Exec("RELEASE job");
        } else {
          (void)conn.Exec("ROLLBACK TO job");
          (void)conn.Exec("RELEASE job");
        }
      }
      results.push_back(std::move(r));
    }
    auto committed = conn.Exec("COMMIT");
    if (!committed) {
      (void)conn.Exec("ROLLBACK");
      log::Error("store", "commit failed").Field("error", committed.error().message);
      for (auto& job : batch) job.done(committed.error());
      return;
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
  }

  SqliteOptions options_;
  std::unique_ptr<Access> writer_;  // used only on writer_thread_ after Open()
  std::thread writer_thread_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Access>> pool_;
  FailedReader failed_reader_;
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<sqlite::SqliteStore>(options);
  RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace pincer::store
