#pragma once
/// A job's progress read from its output alone (`sluice status`, and the manifest's worker
/// section): _job.json (shards and their rows), the published parts, _errors/, _claims/ (what
/// is being computed), _workers/ (each worker's report) and _SUCCESS.
///
/// Threading: pure functions of what they read.

#include <string>
#include <vector>

#include "job/worker_report.h"
#include "sluice/filesystem.h"

namespace sluice::job {

/// Throughput across the workers' reports.
struct WorkersSummary {
  int workers = 0;
  double first_start = 0, last_end = 0;  // Unix seconds
  double job_rows_per_s = 0;             // the rows done by all over first start .. last end
  double min_rows_per_s = 0, median_rows_per_s = 0, max_rows_per_s = 0;
  int slowest_rank = -1;
  std::string ToJson() const;
};
WorkersSummary SummarizeWorkers(const std::vector<WorkerReport>& reports);

/// Every `_workers/worker-*.json` under `dir`, by rank (unreadable ones are an error naming them).
Result<std::vector<WorkerReport>> ReadWorkerReports(const std::string& dir, FileSystem& fsys);

struct JobProgress {
  std::string uri;
  int shards_total = 0, shards_published = 0;
  int64_t rows_total = 0, rows_published = 0, bad_rows = 0;
  std::vector<int> in_progress;  // shards claimed now
  std::vector<WorkerReport> workers;
  WorkersSummary summary;
  bool complete = false;         // _SUCCESS is there
  double read_at = 0;            // Unix seconds, the reader's clock
  /// Workers that are running but slower than half the median, or silent for three heartbeats.
  std::vector<int> Stragglers() const;
  std::string ToText() const;
  std::string ToJson() const;
};

Result<JobProgress> ReadJobProgress(const std::string& output_uri);

}  // namespace sluice::job
