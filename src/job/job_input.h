#pragma once
/// The job's input cut into deterministic shards (the unit of exactly-once output), and the
/// executor source that reads them.
///
/// Parquet: a shard is a run of whole row groups of one file holding up to shard_rows rows
/// (one row group if it is bigger). Images: a shard is up to shard_rows files of a folder or
/// prefix, in sorted order. The same job file over the same input always gives the same shards.
///
/// Threading: PlanInput runs on the caller's thread. The source is used by the executor.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/executor.h"
#include "sluice/job.h"
#include "sluice/plan.h"

namespace sluice::job {

struct Shard {
  int index = 0;
  std::string file;                 // parquet
  int first_row_group = 0;
  int num_row_groups = 0;
  std::vector<std::string> images;  // images format
  int64_t rows = 0;                 // rows of the shard (after input.limit)
};

struct JobInput {
  std::vector<Shard> shards;
  int64_t total_rows = 0;
  /// The input columns each batch carries: id (named "id"), the image, the included ones.
  std::vector<std::string> columns;
  /// Parquet: the image column's type as the first file reads it (a tensor for Ray's layouts).
  DataType image_type = DataType::Binary();
};

/// Lists and opens the input; fails (naming the URI, file or column) on an empty glob, a
/// missing file or column, or an unreadable footer.
Result<JobInput> PlanInput(const JobSpec& spec);

/// Names of the columns the job adds to every batch: the shard index (int32).
inline constexpr const char* kShardColumn = "_shard";

/// The batch without the shard column: what user code and the output see.
Result<Batch> WithoutShardColumn(const Batch& batch);

/// The shard of a batch the source read (every row of a source batch is one shard's); the
/// batch must have a row.
Result<int> BatchShard(const Batch& batch);

/// `inner` on source batches, with each bad row it reports handed to `on_bad(shard, row)`
/// before the executor sees it (its stage kept). Empty batches pass through.
MapFn WithShardBadRows(MapFn inner, std::function<void(int shard, const BadRow& row)> on_bad);

/// What every plan of the job runs with: the cores (resources.cpus, or all of them), and the
/// executor options the job file sets (cores, memory budget, stall timeout) with `stop`.
int JobCpus(const JobSpec& spec);
ExecutorOptions JobExecutorOptions(const JobSpec& spec, std::stop_token stop);

/// errors.max_bad_rows as the executor's bad-row decision: each bad row goes to `seen` (may be
/// empty) and is counted in `count`; the one over the limit fails the plan naming it.
std::function<Status(const BadRow&)> BadRowPolicy(const JobSpec& spec, int64_t total_rows, std::function<void(const BadRow&)> seen,
                                                  std::shared_ptr<std::atomic<int64_t>> count);

/// Hands out the shards to read, one per call (nullopt: no more); called by the read workers.
using ShardFeed = std::function<Result<std::optional<Shard>>()>;

/// Reads the shards `next` hands out; batches carry "id", the image column renamed "image",
/// the included columns and kShardColumn, at most `batch_rows` rows each. `estimated_rows`
/// feeds the progress display.
std::shared_ptr<Source> MakeShardSource(const JobSpec& spec, ShardFeed next, int64_t batch_rows, int64_t estimated_rows);

}  // namespace sluice::job
