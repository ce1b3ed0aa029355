#pragma once
/// Batch rows as JSON Lines: one object per row, keys in column order.
///
/// Values: integers with all their digits; float32/float64 as the shortest text that reads
/// back to the same double (float32 widened to double first), NaN and infinities as the
/// strings "NaN", "Infinity", "-Infinity"; bool as true/false; strings as JSON strings; binary
/// as standard base64 (padded); null as null; lists as arrays; tensors as nested arrays.
///
/// Threading: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/batch.h"

namespace sluice {

/// Appends row `row` of `batch` as one JSON object followed by '\n'.
void AppendJsonRow(const Batch& batch, int64_t row, std::string* out);
std::string Base64Encode(std::string_view bytes);
/// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace sluice
