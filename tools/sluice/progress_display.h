#pragma once
/// Shows executor progress on stderr: on a terminal, a block of lines (one per stage) redrawn
/// in place; otherwise plain timestamped lines every `plain_interval`.
///
/// Threading: Update is called from the executor's monitor thread; Finish from the caller after
/// Execute returned. Not called concurrently.

#include <chrono>
#include <cstdio>

#include "sluice/stats.h"

namespace sluice::cli {

enum class ProgressMode { kAuto, kTty, kPlain, kNone };

class ProgressDisplay {
 public:
  ProgressDisplay(ProgressMode mode, std::FILE* out);
  /// How often the executor should call Update.
  std::chrono::milliseconds interval() const;
  void Update(const PlanStats& stats);
  /// A first line on every frame ("worker 3 of 8 (from SLURM_ARRAY_TASK_ID)").
  void SetTitle(std::string title) { title_ = std::move(title); }
  /// Leaves the last frame on screen.
  void Finish();

 private:
  ProgressMode mode_;
  std::FILE* out_;
  int lines_drawn_ = 0;
  std::string title_;
};

}  // namespace sluice::cli
