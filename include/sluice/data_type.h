#pragma once
/// Column types of a Batch.
///
/// Numeric columns (bool, int8/16/32/64, uint8/16/32/64, float32, float64) hold one fixed-width
/// value per row, each in its own width and signedness (a Parquet UINT_64 of 2^63 stays
/// 9223372036854775808; nothing is widened);
/// binary and string columns hold variable-length values (int64 offsets + bytes); tensor
/// columns hold one fixed-shape array per row, stored contiguously as [N, row_shape...];
/// list columns hold a variable-length list per row (int64 offsets into a child column of the
/// element type, e.g. top-k class ids).
///
/// Threading: plain values.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice {

enum class TypeId { kBool, kInt32, kInt64, kFloat32, kFloat64, kBinary, kString, kTensor, kList,
                    kInt8, kInt16, kUInt8, kUInt16, kUInt32, kUInt64 };

/// Element type of a tensor column. int32/int64 exist for outputs such as top-k class ids.
enum class DType { kUInt8, kInt32, kInt64, kFloat16, kBFloat16, kFloat32, kFloat64 };

std::string_view TypeIdName(TypeId id);
std::string_view DTypeName(DType dtype);
Result<DType> ParseDType(std::string_view name);
int64_t DTypeSize(DType dtype);

class DataType {
 public:
  static DataType Bool() { return DataType(TypeId::kBool); }
  static DataType Int32() { return DataType(TypeId::kInt32); }
  static DataType Int64() { return DataType(TypeId::kInt64); }
  static DataType Int8() { return DataType(TypeId::kInt8); }
  static DataType Int16() { return DataType(TypeId::kInt16); }
  static DataType UInt8() { return DataType(TypeId::kUInt8); }
  static DataType UInt16() { return DataType(TypeId::kUInt16); }
  static DataType UInt32() { return DataType(TypeId::kUInt32); }
  static DataType UInt64() { return DataType(TypeId::kUInt64); }
  static DataType Float32() { return DataType(TypeId::kFloat32); }
  static DataType Float64() { return DataType(TypeId::kFloat64); }
  static DataType Binary() { return DataType(TypeId::kBinary); }
  static DataType String() { return DataType(TypeId::kString); }
  /// A tensor column whose rows each have shape `row_shape` (all dims > 0).
  static DataType Tensor(DType dtype, std::vector<int64_t> row_shape);
  /// A list column whose elements have type `element` (numeric, binary or string).
  static DataType List(DataType element);

  TypeId id() const { return id_; }
  DType dtype() const { return dtype_; }  // tensors only
  const std::vector<int64_t>& row_shape() const { return row_shape_; }
  const DataType& element() const { return *element_; }  // lists only
  bool is_list() const { return id_ == TypeId::kList; }

  bool is_variable_width() const { return id_ == TypeId::kBinary || id_ == TypeId::kString; }
  /// Bytes per row for fixed-width types (numeric: the value; tensor: the whole row array).
  int64_t fixed_row_bytes() const;
  /// "int64", "string", "tensor<uint8>[256,256,3]"
  std::string ToString() const;

  friend bool operator==(const DataType& a, const DataType& b) {
    if (a.id_ != b.id_) return false;
    if (a.id_ == TypeId::kTensor) return a.dtype_ == b.dtype_ && a.row_shape_ == b.row_shape_;
    if (a.id_ == TypeId::kList) return *a.element_ == *b.element_;
    return true;
  }

 private:
  explicit DataType(TypeId id) : id_(id) {}
  TypeId id_;
  DType dtype_ = DType::kUInt8;
  std::vector<int64_t> row_shape_;
  std::shared_ptr<const DataType> element_;
};

/// The C++ type stored by each numeric TypeId (bool is stored as one byte per value).
template <typename T> struct NumericTypeOf;
template <> struct NumericTypeOf<bool> { static DataType type() { return DataType::Bool(); } };
template <> struct NumericTypeOf<int32_t> { static DataType type() { return DataType::Int32(); } };
template <> struct NumericTypeOf<int64_t> { static DataType type() { return DataType::Int64(); } };
template <> struct NumericTypeOf<int8_t> { static DataType type() { return DataType::Int8(); } };
template <> struct NumericTypeOf<int16_t> { static DataType type() { return DataType::Int16(); } };
template <> struct NumericTypeOf<uint8_t> { static DataType type() { return DataType::UInt8(); } };
template <> struct NumericTypeOf<uint16_t> { static DataType type() { return DataType::UInt16(); } };
template <> struct NumericTypeOf<uint32_t> { static DataType type() { return DataType::UInt32(); } };
template <> struct NumericTypeOf<uint64_t> { static DataType type() { return DataType::UInt64(); } };
template <> struct NumericTypeOf<float> { static DataType type() { return DataType::Float32(); } };
template <> struct NumericTypeOf<double> { static DataType type() { return DataType::Float64(); } };

}  // namespace sluice
