#pragma once
/// Tensor columns in Parquet. sluice writes a tensor column as FIXED_LEN_BYTE_ARRAY (one value
/// per row, the row's bytes) and records its dtype and row shape in the file's key-value
/// metadata under "sluice.tensor.<column>" = "<dtype>:<d0>,<d1>,...", so it reads back as a
/// tensor without copying; other readers see binary values.
///
/// Threading: plain functions.

#include <string>
#include <utility>
#include <vector>

#include "sluice/column.h"
#include "sluice/data_type.h"

namespace sluice::parquet {

struct TensorColumnMeta {
  std::string column;
  DType dtype = DType::kUInt8;
  std::vector<int64_t> shape;
  bool from_list = false;  // Arrow's fixed_shape_tensor: a LIST column of the elements
};

inline constexpr const char* kTensorKeyPrefix = "sluice.tensor.";

/// Tensor columns declared by sluice's own entries and by Arrow's `arrow.fixed_shape_tensor`
/// extension in "ARROW:schema" (malformed Arrow metadata is ignored: the columns then read as
/// lists).
std::vector<TensorColumnMeta> ParseTensorMetadata(const std::vector<std::pair<std::string, std::string>>& kv);
const TensorColumnMeta* FindTensor(const std::vector<TensorColumnMeta>& tensors, const std::string& column);
std::pair<std::string, std::string> TensorMetadataEntry(const std::string& column, const DataType& type);
/// Reinterprets a binary column whose values are each exactly one tensor row.
Result<Column> BinaryToTensor(const Column& binary, const TensorColumnMeta& meta, const std::string& where);

}  // namespace sluice::parquet
