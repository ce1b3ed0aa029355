#pragma once
/// NumPy .npy files (format 1.0), so users and tests can load exactly what sluice produced
/// (numpy.load). Little-endian, C order.
///
/// Threading: pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/column.h"
#include "sluice/data_type.h"
#include "sluice/status.h"

namespace sluice {

/// Writes `data` (prod(shape) elements of `dtype`) to `path` (atomically).
Status WriteNpy(const std::string& path, DType dtype, const std::vector<int64_t>& shape, const uint8_t* data);

/// Reads a little-endian C-order .npy (format 1.x/2.x) as a tensor column: its first dimension
/// is the rows, the rest the row shape ([N] becomes [N, 1]).
Result<Column> ReadNpy(const std::string& path);

}  // namespace sluice
