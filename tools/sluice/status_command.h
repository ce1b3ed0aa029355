#pragma once
/// `sluice status OUTPUT_URI [--json] [--wait]`: a job's progress from its output alone.

#include <string>
#include <vector>

namespace sluice::cli {

int RunStatus(const std::vector<std::string>& args);

}  // namespace sluice::cli
