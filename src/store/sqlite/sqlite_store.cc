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
    ASSIGN_OR_RETURN(auto reader, Connection::Open(options_.path, /*read_only=*/true, false));
    pool_.push_back(std::make_unique<Access>(std::move(reader)));
    open_readers_ = 1;
    writer_thread_ = std::thread([this] { WriterLoop(); });
    return Ok();
  }

  ReadHandle Read() override {
    std::unique_ptr<Access> conn;
    {
      std::unique_lock lock(pool_mu_);
      if (pool_.empty() && open_readers_ >= 1) {
        auto opened = Connection::Open(options_.path, /*read_only=*/true, false);
        if (opened) {
          ++open_readers_;
          conn = std::make_unique<Access>(std::move(*opened));
        } else {
          // Out of descriptors or similar: wait for a reader someone else is using (reads
          // are short; at least one reader always exists).
          log::Error("store", "cannot open a read connection")
              .Field("error", opened.error().message);
          pool_cv_.wait(lock, [this] { return !pool_.empty(); });
        }
      }
      if (!conn) {
        conn = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    Access* raw = conn.release();
    return ReadHandle(raw, [this](Reader* r) {
      std::unique_ptr<Access> back(static_cast<Access*>(r));
      {
        std::lock_guard lock(pool_mu_);
        if (pool_.size() < kMaxPooled) {
          pool_.push_back(std::move(back));
        } else {
          --open_readers_;
        }
      }
      pool_cv_.notify_one();
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
    auto& hooks = writer_->on_commit();
    hooks.clear();
    for (auto& job : batch) {
      size_t mark = hooks.size();
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
        if (!r) hooks.resize(mark);  // a rolled-back job's hooks never run
      }
      results.push_back(std::move(r));
    }
    auto committed = conn.Exec("COMMIT");
    if (!committed) {
      hooks.clear();
      (void)conn.Exec("ROLLBACK");
      log::Error("store", "commit failed").Field("error", committed.error().message);
      for (auto& job : batch) job.done(committed.error());
      return;
    }
    std::vector<UniqueFunction<void()>> run;
    run.swap(hooks);
    for (auto& hook : run) hook();
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
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Access>> pool_;
  size_t open_readers_ = 0;
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<sqlite::SqliteStore>(options);
  RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace pincer::store
