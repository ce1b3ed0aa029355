// A number with a fixed number of decimals (fixed_point_text.h).
#include "sluice/fixed_point_text.h"

#include <cstdio>

namespace sluice {

std::string FormatFixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace sluice
