#pragma once
/// Run reports: one self-contained HTML file (its data and the script that draws it inline; it
/// opens without a network) that shows what a run did: the verdict first (rows/s, wall time,
/// the limiting stage and why), timelines (rows/s per stage; each stage's busy / idle / blocked
/// share and workers; queue depths; bytes in flight against the budget; RSS; per-GPU
/// utilization and memory when NVML saw GPUs), the stage table, bad rows, shards resumed, the
/// job file as run and the machine.
///
/// `sluice run --report FILE` writes one for its run (also when the run stopped with an
/// error); `sluice report OUTPUT_URI --out FILE` writes one for a whole job from what its
/// workers left in the output (_workers/, _job.json, _manifest.json): every worker's rows over
/// time and the stragglers.
///
/// Threading: plain functions.

#include <mutex>
#include <string>
#include <vector>

#include "sluice/job.h"
#include "sluice/stats.h"
#include "sluice/status.h"

namespace sluice {

struct RunReportInput {
  std::string title;              // the job file's name
  std::string job_file_text;      // the job as run (after --set)
  std::string command;            // the command line, for the machine section
  const JobResult* result = nullptr;  // null when the run stopped with an error
  PlanStats stats;                // the run's figures: result->stats, else the last progress snapshot
  Status status;                  // OK, or why the run stopped
  std::vector<BadRow> first_bad_rows;  // the first few, for their messages
  WorkerIdentity worker;
};

/// The report's HTML.
std::string RenderRunReport(const RunReportInput& input);

/// Collects what a run's report needs while the job runs (the last progress snapshot, the
/// first bad rows) and writes the report when it has ended, finished or not.
/// Threading: its hooks run on executor threads; Write is called after RunJob returns.
class RunReportRecorder {
 public:
  /// Hooks into `options` (their own on_progress / on_bad_row still run first).
  void Attach(RunOptions* options);
  /// `in` names the run (title, job file text, command, worker; a non-OK status overrides the
  /// result's); the figures come from `result`, else from the last snapshot.
  Status Write(const std::string& path, RunReportInput in, const Result<JobResult>& result);

 private:
  std::mutex mu_;
  PlanStats latest_;
  std::vector<BadRow> first_bad_rows_;
};
/// The HTML report of the job whose output is `output_uri` (local or s3://).
Result<std::string> RenderJobReport(const std::string& output_uri);
/// Whether `path` can be written (its directory exists and is writable; an existing file is
/// writable): checked before any work, so a run does not end without its report.
Status CheckReportPath(const std::string& path);
/// Writes `html` to `path` (atomically: a reader never sees half a report).
Status WriteReport(const std::string& path, const std::string& html);

}  // namespace sluice
