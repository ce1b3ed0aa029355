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
  bool from_list = false;  // Arrow's fixed_shape_tensor, Ray's tensors: a LIST column of the elements
  std::string source;      // where the type came from, for `sluice parquet inspect`
  bool variable_shaped = false;  // Ray's variable-shaped tensor: rows of their own shapes (dtype, no shape)
};

inline constexpr const char* kTensorKeyPrefix = "sluice.tensor.";

/// Tensor columns declared by sluice's own entries, by Arrow's `arrow.fixed_shape_tensor`
/// and by Ray Data's fixed-shape tensor types (ray_tensor_type.h) in "ARROW:schema". Metadata
/// that cannot be read is ignored (the columns then read as lists) and explained in `notes`.
std::vector<TensorColumnMeta> ParseTensorMetadata(const std::vector<std::pair<std::string, std::string>>& kv,
                                                  std::vector<std::string>* notes = nullptr);
const TensorColumnMeta* FindTensor(const std::vector<TensorColumnMeta>& tensors, const std::string& column);
std::pair<std::string, std::string> TensorMetadataEntry(const std::string& column, const DataType& type);
/// Reinterprets a binary column whose values are each exactly one tensor row.
Result<Column> BinaryToTensor(const Column& binary, const TensorColumnMeta& meta, const std::string& where);

}  // namespace sluice::parquet
