#pragma once
/// `sluice demo`: an executor pipeline on synthetic images that shows live progress and the
/// stats summary (the main job's embedded default replaces it once the batch inference job
/// exists).

#include <string>
#include <vector>

namespace sluice::cli {

int RunDemo(const std::vector<std::string>& args);

}  // namespace sluice::cli
