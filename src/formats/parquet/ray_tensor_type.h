#pragma once
/// Ray Data's tensor extension types, as recorded in a Parquet file's ARROW:schema:
///   ray.data.arrow_tensor      list<T>, metadata = the shape as JSON ("[256, 256, 3]")
///   ray.data.arrow_tensor_v2   large_list<T>, the same metadata; from Ray 2.49 a pickled tuple
///   ray.data.arrow_variable_shaped_tensor   struct<data: list<T>, shape: list<int64>>,
///                              metadata = ndim as JSON ("3") or pickled
///   arrow.py_extension_type    before Ray 2.9: the pickled ArrowTensorType((shape), dtype)
/// The metadata is taken as bytes and pickles are read as data (pickle_reader.h), never run.
///
/// Threading: pure functions.

#include <optional>
#include <string>
#include <vector>

#include "sluice/column.h"
#include "sluice/status.h"

namespace sluice::parquet {

struct RayTensorType {
  bool variable_shaped = false;
  std::vector<int64_t> shape;  // fixed-shaped: the row shape
  int64_t ndim = 0;            // variable-shaped: dimensions per row
  std::string source;          // how it was found, for `sluice parquet inspect`
};

/// nullopt when `extension_name` is none of Ray's (or a py_extension_type that is not a Ray
/// tensor); an error naming the type when it is Ray's but the metadata cannot be read.
Result<std::optional<RayTensorType>> ParseRayTensorType(const std::string& extension_name, const std::string& metadata);

/// A variable-shaped uint8 tensor column from its storage's two lists (data: list<uint8>,
/// shape: list<int64>), as one raw image per row (sluice/raw_image.h): [H, W] is gray, [H, W, C]
/// has C channels. Rows that cannot be images (the data disagrees with the shape, an empty row,
/// another rank) become values that fail to decode with the reason; null rows stay null.
Result<Column> VariableShapedImages(const Column& data, const Column& shape, const std::string& where);

}  // namespace sluice::parquet
