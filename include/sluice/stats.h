#pragma once
/// Execution statistics: data, not logs. The executor fills a PlanStats snapshot for progress
/// callbacks and a final one at the end; the formatting helpers turn them into the live
/// progress lines, the summary table and JSON.
///
/// Threading: plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/plan.h"
#include "sluice/status.h"

namespace sluice {

/// One sample of a stage over time (kept at most about once a second).
struct TimelinePoint {
  double t_s = 0;
  int concurrency = 0;
  int running = 0;
  int64_t queue_batches = 0;
  int64_t queue_bytes = 0;
  // Running totals at this instant (rates and shares are their differences over time).
  int64_t rows_done = 0;  // rows out; for a sink, rows in (written)
  double busy_s = 0, idle_s = 0, blocked_s = 0;
};

/// One sample of the whole plan over time, taken with the stages' samples.
struct PlanSample {
  double t_s = 0;
  int64_t in_flight_bytes = 0;
  int64_t rss_bytes = 0;
};

/// One GPU seen through NVML while the plan ran (gpu_monitor.h); empty without NVML.
struct GpuStats {
  struct Point {
    double t_s = 0;
    double utilization = 0;  // 0..1, the share of the last sample period a kernel ran
    int64_t memory_used_bytes = 0;
  };
  int index = 0;
  std::string name;
  int64_t memory_total_bytes = 0;
  double avg_utilization = 0;
  int64_t peak_memory_used_bytes = 0;
  std::vector<Point> timeline;
};

struct StageStats {
  std::string name;
  std::string kind;
  int64_t rows_in = 0, rows_out = 0;
  int64_t batches_in = 0, batches_out = 0;
  int64_t bytes_in = 0, bytes_out = 0;
  double busy_s = 0;     // summed over workers: time inside the stage's code
  double idle_s = 0;     // worker-slot time with nothing to take from the input queue
  double blocked_s = 0;  // time with input ready but the output queue (or budget) full
  int concurrency = 0;   // current limit
  int running = 0;       // batches being processed now
  int min_concurrency = 0, max_concurrency = 0;
  double avg_concurrency = 0;
  int64_t queue_batches = 0, queue_bytes = 0;  // input queue now
  int64_t queue_capacity = 0;                  // input queue bound in batches
  int64_t max_queue_batches = 0;
  double avg_queue_batches = 0;
  int64_t bad_rows = 0;
  bool backpressured = false;  // input ready but output full at the last sample
  bool done = false;
  std::optional<int64_t> total_rows;  // when the source knows it
  std::vector<TimelinePoint> timeline;
};

struct PlanStats {
  double wall_s = 0;
  int cpu_threads = 0;
  int64_t memory_budget = 0;
  int64_t in_flight_bytes = 0;
  int64_t peak_in_flight_bytes = 0;
  int64_t rss_at_start_bytes = 0;  // process RSS when the plan started (models, libraries)
  int64_t peak_rss_bytes = 0;      // the largest RSS sampled while the plan ran
  int64_t bad_row_count = 0;
  std::vector<BadRow> bad_rows;  // the first kMaxKeptBadRows, when no handler takes them
  std::string status = "running";  // "running", "OK" or the error
  std::vector<StageStats> stages;
  std::vector<PlanSample> timeline;  // sampled with the stages' timelines
  std::vector<GpuStats> gpus;

  static constexpr size_t kMaxKeptBadRows = 10000;
};

/// What limited a plan's throughput, in words a person can act on.
struct ThroughputVerdict {
  std::string bottleneck;   // the busiest working stage (not the source, rebatch or sink); empty when none ran
  double busy_share = 0;    // its busy time over (wall time x its most workers): the pipeline's efficiency
                            // against what that stage can do alone
  double ceiling_rows_per_s = 0;  // what it can do alone: rows per busy second x its most workers
  std::string explanation;  // e.g. "model busy 97% of its time; preprocess idle 41%: the model limits this run; ..."
};
ThroughputVerdict ExplainThroughput(const PlanStats& stats);

/// A table like Ray Data's ds.stats(): one row per stage, then totals.
std::string FormatSummary(const PlanStats& stats);
/// One line per stage for a live display: done/total, rate, queue fill, backpressure mark.
std::vector<std::string> FormatProgressLines(const PlanStats& stats);
std::string StatsToJson(const PlanStats& stats);
Status WriteStatsJson(const PlanStats& stats, const std::string& path);

}  // namespace sluice
