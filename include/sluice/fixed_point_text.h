#pragma once
/// A number as text with a fixed number of decimals ("2.49"), for summaries and reasons.
///
/// Threading: a pure function.

#include <string>

namespace sluice {

std::string FormatFixed(double value, int decimals);

}  // namespace sluice
