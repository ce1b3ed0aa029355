#pragma once
// Test parts for executor tests: a sink that collects what reaches it.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sluice/plan.h"
#include "sluice/synthetic_source.h"

namespace sluice::testing {

/// Collects the "id" column of every batch (and batch sizes) in arrival order.
struct Collected {
  std::mutex mu;
  std::vector<int64_t> ids;
  std::vector<int64_t> batch_rows;
  std::atomic<int> finished{0};
  std::atomic<int> aborted{0};
};

class CollectingSink : public Sink {
 public:
  CollectingSink(Collected* out, std::function<Status(const Batch&)> on_write = nullptr)
      : out_(out), on_write_(std::move(on_write)) {}
  Status Write(Batch batch, TaskContext&) override {
    if (on_write_) RETURN_IF_ERROR(on_write_(batch));
    ASSIGN_OR_RETURN(auto ids, batch.GetColumn("id"));
    std::lock_guard lock(out_->mu);
    for (int64_t i = 0; i < ids.length(); ++i) out_->ids.push_back(ids.Value<int64_t>(i));
    out_->batch_rows.push_back(batch.num_rows());
    return Status::OK();
  }
  Status Finish(TaskContext&) override {
    out_->finished.fetch_add(1);
    return Status::OK();
  }
  void Abort() override { out_->aborted.fetch_add(1); }

 private:
  Collected* out_;
  std::function<Status(const Batch&)> on_write_;
};

inline SinkFactory CollectInto(Collected* out, std::function<Status(const Batch&)> on_write = nullptr) {
  return [out, on_write](int) -> Result<std::unique_ptr<Sink>> {
    return std::unique_ptr<Sink>(std::make_unique<CollectingSink>(out, on_write));
  };
}

inline void SleepMs(double ms) { std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(ms * 1000))); }

/// A map that sleeps `ms` per batch (0: none) and passes the batch on.
inline MapFn SleepingMap(double ms) {
  return [ms](Batch b, TaskContext&) -> Result<Batch> {
    if (ms > 0) SleepMs(ms);
    return b;
  };
}

/// Tracks, at each sink write, how many batches the source has produced beyond those consumed.
class AheadTracker {
 public:
  explicit AheadTracker(const SyntheticSource* source) : source_(source) {}
  void OnWrite() {
    const int64_t ahead = source_->batches_produced() - consumed_.fetch_add(1) - 1;
    int64_t prev = max_ahead_.load();
    while (ahead > prev && !max_ahead_.compare_exchange_weak(prev, ahead)) {
    }
  }
  int64_t max_ahead() const { return max_ahead_.load(); }

 private:
  const SyntheticSource* source_;
  std::atomic<int64_t> consumed_{0};
  std::atomic<int64_t> max_ahead_{0};
};

}  // namespace sluice::testing
