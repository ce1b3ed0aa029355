#pragma once
/// Writes the "ARROW:schema" key-value that Arrow-based readers (pyarrow, and so Ray Data)
/// use to restore a Parquet file's Arrow types: base64 of an Arrow IPC Schema message. sluice
/// writes it when tensors are written in Ray's layout, so that Ray reads those columns back as
/// its tensor extension type (ray.data.arrow_tensor_v2 over large_list<T>, shape as JSON).
///
/// A small forward flatbuffer builder written from the Arrow format's Schema.fbs and
/// Message.fbs: parents first, children after them, every offset pointing forward.
///
/// Threading: pure functions.

#include <string>
#include <vector>

#include "sluice/data_type.h"
#include "sluice/status.h"

namespace sluice::parquet {

struct ArrowFieldSpec {
  std::string name;
  DataType type = DataType::Int32();  // a tensor becomes large_list<element> + the extension
  bool ray_tensor = false;
};

/// The base64 ARROW:schema value for these top-level fields (all nullable, as sluice writes
/// them). Tensors must have a dtype Ray can hold in Parquet (uint8, int32, int64, float32,
/// float64).
Result<std::string> ArrowSchemaValue(const std::vector<ArrowFieldSpec>& fields);

/// The element type a tensor of `dtype` is stored as in Ray's list layout.
Result<DataType> RayElementType(DType dtype);

}  // namespace sluice::parquet
