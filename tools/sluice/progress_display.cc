#include "progress_display.h"

#include <unistd.h>

namespace sluice::cli {

ProgressDisplay::ProgressDisplay(ProgressMode mode, std::FILE* out) : mode_(mode), out_(out) {
  if (mode_ == ProgressMode::kAuto) mode_ = isatty(fileno(out)) ? ProgressMode::kTty : ProgressMode::kPlain;
}

std::chrono::milliseconds ProgressDisplay::interval() const {
  return mode_ == ProgressMode::kTty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
}

void ProgressDisplay::Update(const PlanStats& stats) {
  if (mode_ == ProgressMode::kNone) return;
  auto lines = FormatProgressLines(stats);
  if (!title_.empty()) lines.insert(lines.begin(), title_);
  if (mode_ == ProgressMode::kTty) {
    if (lines_drawn_ > 0) std::fprintf(out_, "\x1b[%dA", lines_drawn_);  // back to the top of the block
    for (const auto& l : lines) std::fprintf(out_, "\x1b[2K%s\n", l.c_str());
    lines_drawn_ = static_cast<int>(lines.size());
  } else {
    for (const auto& l : lines) std::fprintf(out_, "progress: %s\n", l.c_str());
  }
  std::fflush(out_);
}

void ProgressDisplay::Finish() {
  lines_drawn_ = 0;
  std::fflush(out_);
}

}  // namespace sluice::cli
