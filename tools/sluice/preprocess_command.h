#pragma once
/// `sluice preprocess IMAGE --out OUT.npy`: the exact tensor a model would see for one image.

#include <string>
#include <vector>

namespace sluice::cli {

int RunPreprocess(const std::vector<std::string>& args);

}  // namespace sluice::cli
