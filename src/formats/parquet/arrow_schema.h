#pragma once
/// Reads what sluice needs from the Arrow schema that Arrow-based writers (pyarrow, arrow-rs,
/// Ray Data) store in Parquet key-value metadata under "ARROW:schema": base64 of an Arrow IPC
/// message whose flatbuffer is a Schema. For each top-level field: its name, its extension
/// name and metadata, and for FixedSizeList fields the element type. That is enough to read
/// the canonical `arrow.fixed_shape_tensor` extension ({"shape": [...]}) as a tensor column.
///
/// A small flatbuffer walker written from the Arrow format's Schema.fbs / Message.fbs; every
/// offset is bounds-checked, and a malformed schema yields an error, never a crash.
///
/// Threading: pure functions.

#include <optional>
#include <string>
#include <vector>

#include "sluice/data_type.h"
#include "sluice/status.h"

namespace sluice::parquet {

struct ArrowFieldInfo {
  std::string name;
  std::string extension_name;
  std::string extension_metadata;     // raw bytes (a pickle is not UTF-8)
  std::optional<DType> list_element;  // FixedSizeList / List / LargeList element, when numeric
  /// struct<data: list<T>, shape: list<int64>> (Ray's variable-shaped tensor): T, when numeric.
  std::optional<DType> struct_data_element;
  std::string storage;                // the storage type for people: "large_list<uint8>"
};

/// Decodes the base64 "ARROW:schema" value.
Result<std::vector<ArrowFieldInfo>> ParseArrowSchema(const std::string& base64);

/// The positive integers of the first JSON list at or after `from` ("[256, 256, 3]").
Result<std::vector<int64_t>> ParseJsonIntList(const std::string& text, size_t from = 0);

/// The shape in fixed_shape_tensor extension metadata ({"shape":[2,3],...}).
Result<std::vector<int64_t>> ParseFixedShapeTensorShape(const std::string& json);

}  // namespace sluice::parquet
