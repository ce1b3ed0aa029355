#pragma once
/// `sluice datagen jpeg|raw --out DIR --images N [--per-file 1000] [--seed S]`.

#include <string>
#include <vector>

namespace sluice::cli {

int RunDatagen(const std::vector<std::string>& args);

}  // namespace sluice::cli
