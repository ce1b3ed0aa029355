#pragma once
/// SyntheticSource: a deterministic in-memory source for demos, benchmarks and tests.
///
/// It yields `tasks` read tasks of `batches_per_task` batches of `rows` rows. Column "id" is
/// int64, increasing in task order: row r of batch b of task t has id (t * batches_per_task + b)
/// * rows + r. With a payload shape, column "payload" is a uint8 tensor of that row shape,
/// zero-filled or filled with a deterministic pattern of the id (image-like test data).
///
/// Threading: NextTask is called by one thread at a time (the executor's contract); tasks run
/// in parallel; batches_produced() may be read from any thread.

#include <atomic>
#include <functional>
#include <vector>

#include "sluice/plan.h"

namespace sluice {

struct SyntheticSourceOptions {
  int64_t tasks = 1;
  int64_t batches_per_task = 10;
  int64_t rows = 10;
  std::vector<int64_t> payload_shape;  // empty: no payload column
  bool pattern = false;                // fill the payload with a pattern instead of zeros
  /// Called before each batch is produced (to simulate I/O latency or inject a failure).
  std::function<Status(int64_t task, int64_t batch)> before_batch;
  /// These tasks produce no batches at all.
  std::vector<int64_t> empty_tasks;
};

class SyntheticSource : public Source {
 public:
  explicit SyntheticSource(SyntheticSourceOptions options);
  Result<std::unique_ptr<ReadTask>> NextTask() override;
  std::optional<int64_t> EstimatedRows() const override;
  int64_t batches_produced() const { return produced_.load(); }

 private:
  class Task;
  SyntheticSourceOptions o_;
  int64_t next_ = 0;
  std::atomic<int64_t> produced_{0};
};

}  // namespace sluice
