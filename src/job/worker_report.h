#pragma once
/// What one worker of a job says about itself in `_workers/worker-RRRRR.json`: who and where
/// it is, its state, what it did, how fast, and its stage table. Rewritten every heartbeat by
/// WorkerReporter (so the others see it alive: output_board.h), read back by the manifest
/// writer and `sluice status`.
///
/// Threading: WorkerReport is a value. WorkerReporter is thread-safe: Update from any thread;
/// its own thread writes the file every heartbeat; Stop writes the last one.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sluice/filesystem.h"
#include "sluice/job.h"
#include "sluice/stats.h"
#include "sluice/status.h"

namespace sluice::job {

struct WorkerReport {
  int rank = 0, count = 1;
  std::string source;       // where the identity came from ("SLURM_ARRAY_TASK_ID")
  std::string host;
  int64_t pid = 0;
  std::string fingerprint;  // the job's (JobSpec::Fingerprint)
  std::string state = "starting";  // starting | running | waiting | done | stopped | failed
  std::string error;        // failed: why
  double started_at = 0, updated_at = 0, ended_at = 0;  // Unix seconds on the worker's clock
  /// When its last shard was published (before any waiting for others to finish theirs).
  double work_ended_at = 0;
  int64_t seq = 0;          // increases with every write
  double heartbeat_s = 0;   // how often it is rewritten while the worker lives
  int own_shards = 0, own_resumed = 0;  // its share, and how much of it was published before it started
  int shards_done = 0;      // published by this worker (own and taken)
  std::vector<int> published;  // shards it published (own and taken)
  std::vector<int> taken;   // other workers' shards it took
  std::vector<int> in_progress;
  int64_t rows_done = 0, bad_rows = 0;  // rows of the shards it published
  struct Stage {
    std::string name;
    int64_t rows = 0;
    double busy_s = 0, idle_s = 0, blocked_s = 0;
    int concurrency = 0;
  };
  std::vector<Stage> stages;
  /// (Unix time, rows_done) at each write: its throughput over time for `sluice report`. At most
  /// kMaxHistory points; a long run keeps every other one.
  std::vector<std::pair<double, int64_t>> history;
  static constexpr size_t kMaxHistory = 240;
  /// An infer worker of a heterogeneous cell: what each feeder delivered (rows from its own
  /// cores are the rest), with the feeder's rows/s and time blocked on credits.
  std::vector<FeederFigures> feeders;

  /// When its work ended: the last shard published, else its end, else its last heartbeat.
  double work_end() const { return work_ended_at > 0 ? work_ended_at : ended_at > 0 ? ended_at : updated_at; }
  double rows_per_s() const;  // rows_done over its own working time (start to work_end)
  std::string ToJson() const;
  static Result<WorkerReport> Parse(const std::string& json, const std::string& name);
  void SetStages(const PlanStats& stats);
};

/// Feeder figures as a JSON array (worker reports and --summary-json).
std::string FeedersJson(const std::vector<FeederFigures>& feeders);

double UnixNow();
std::string HostName();

class WorkerReporter {
 public:
  /// Writes `report` to `uri` now and then every `interval` until Stop.
  static Result<std::unique_ptr<WorkerReporter>> Start(std::shared_ptr<FileSystem> fsys, std::string uri, WorkerReport report,
                                                       std::chrono::milliseconds interval);
  ~WorkerReporter();
  void Update(const std::function<void(WorkerReport&)>& change);
  /// Writes the final report (state and end time set by `change`) and stops the heartbeat.
  Status Stop(const std::function<void(WorkerReport&)>& change);
  WorkerReport Snapshot() const;

 private:
  WorkerReporter(std::shared_ptr<FileSystem> fsys, std::string uri, WorkerReport report);
  Status Write();  // takes mu_ for the snapshot, not during I/O

  std::shared_ptr<FileSystem> fsys_;
  std::string uri_;
  mutable std::mutex mu_;
  std::mutex write_mu_;  // one write at a time, in order
  WorkerReport report_;
  std::jthread thread_;
};

}  // namespace sluice::job

namespace sluice::job {

/// Refuses to start `me` next to a live worker it conflicts with: another process holding the
/// same index (alive on this host by its pid, elsewhere by a report newer than `stale_after_s`),
/// or a live worker 0 that counts a different number of workers or runs a different job file.
/// The message names both workers.
Status CheckWorkerSlot(FileSystem& fsys, const std::string& dir, const WorkerReport& me, double stale_after_s);

}  // namespace sluice::job
