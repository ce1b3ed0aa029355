#pragma once
#include <string>
#include <vector>

namespace sluice::cli {
/// `sluice run JOB.yaml [--set key=value ...] [--overwrite] [--progress MODE] [--summary-json FILE]`
int RunJobCommand(const std::vector<std::string>& args);
}  // namespace sluice::cli
