#pragma once
/// `sluice parquet inspect|cat|copy`.

#include <string>
#include <vector>

namespace sluice::cli {

int RunParquet(const std::vector<std::string>& args);

}  // namespace sluice::cli
