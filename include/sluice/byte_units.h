#pragma once
/// Byte quantities as people write them: "4GiB", "512 MB", "1.5g", "1048576".
///
/// Threading: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice {

/// Units: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (case-insensitive). Decimal units (KB)
/// are powers of 1000, binary ones (KiB, and the bare K/M/G/T) powers of 1024.
Result<int64_t> ParseBytes(std::string_view text);
/// "1.5 GiB", "312 B"
std::string FormatBytes(int64_t bytes);

}  // namespace sluice
