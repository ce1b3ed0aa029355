#pragma once
/// An infer worker's end of a heterogeneous cell (sluice/cell.h), as its plan sees it: shards
/// go to feeders that ask (from the same feed the worker's own read workers use, so the ledger
/// expects them), the feeders' batches and bad rows wait in the inbox, and one more read task
/// of the plan's source hands them to the plan, granting the feeder a credit for each batch
/// it takes. The inbox therefore never holds more than the credits granted, and the plan
/// takes from it only when its memory budget lets the source read.
///
/// The read task ends when no shard is left to hand out and every row of every shard given
/// to a feeder came back (written or bad).
///
/// Threading: port handlers arrive on the transport's thread; the read task runs on a read
/// worker; figures may be read from any thread. One mutex guards the state.

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "job/job_input.h"
#include "job/shard_output.h"
#include "sluice/cell.h"
#include "sluice/job.h"

namespace sluice::job {

class FeederInbox {
 public:
  /// `since`: the worker's start, from which the feeders' active time counts.
  FeederInbox(FeederPort* port, ShardFeed take_shard, std::shared_ptr<ShardLedger> ledger, int credits_per_feeder,
              std::chrono::steady_clock::time_point since);
  ~FeederInbox();

  /// Attaches to the port and grants each feeder its first credits.
  void Start();
  /// Detaches from the port (the plan has ended).
  void Stop();
  /// The worker's own feed ran dry: no shard will be handed to a feeder any more.
  void NoMoreShards();
  /// The read task that yields the feeders' batches.
  std::unique_ptr<ReadTask> MakeTask();

  std::vector<FeederFigures> figures() const;
  /// The most bytes of batches the inbox held at once.
  int64_t peak_bytes() const;

 private:
  class Task;
  struct Item {
    int feeder = 0;
    int shard = 0;
    std::optional<Batch> batch;  // else bad rows
    std::vector<BadRow> bad;
  };
  std::optional<int> Assign(int feeder);
  void Deliver(int feeder, Item item, const std::string& meta);

  FeederPort* port_;
  ShardFeed take_shard_;
  std::shared_ptr<ShardLedger> ledger_;
  int credits_per_feeder_;
  bool attached_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool no_more_shards_ = false;
  int64_t rows_outstanding_ = 0;  // rows of shards given to feeders not yet received
  int64_t bytes_held_ = 0, peak_bytes_ = 0;
  Status failure_;
  std::vector<FeederFigures> figures_;
  std::chrono::steady_clock::time_point start_;
};

/// A worker's figures per feeder over several rounds: `now` added to `earlier`, feeder by feeder.
std::vector<FeederFigures> CombineFeeders(const std::vector<FeederFigures>& earlier, const std::vector<FeederFigures>& now);

/// `local` with the inbox's read task handed out first (one read worker waits on the feeders).
std::shared_ptr<Source> WithFeederTask(std::shared_ptr<Source> local, std::shared_ptr<FeederInbox> inbox);

}  // namespace sluice::job
