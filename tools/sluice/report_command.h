#pragma once
/// `sluice report OUTPUT_URI [--out FILE]`: an HTML report of a whole job from what its workers
/// left in the output (report.h).

#include <string>
#include <vector>

namespace sluice::cli {

int RunReport(const std::vector<std::string>& args);

}  // namespace sluice::cli
