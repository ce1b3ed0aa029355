#include "sluice/data_type.h"

namespace sluice {

std::string_view TypeIdName(TypeId id) {
  switch (id) {
    case TypeId::kBool: return "bool";
    case TypeId::kInt32: return "int32";
    case TypeId::kInt64: return "int64";
    case TypeId::kFloat32: return "float32";
    case TypeId::kFloat64: return "float64";
    case TypeId::kBinary: return "binary";
    case TypeId::kString: return "string";
    case TypeId::kTensor: return "tensor";
    case TypeId::kList: return "list";
    case TypeId::kInt8: return "int8";
    case TypeId::kInt16: return "int16";
    case TypeId::kUInt8: return "uint8";
    case TypeId::kUInt16: return "uint16";
    case TypeId::kUInt32: return "uint32";
    case TypeId::kUInt64: return "uint64";
  }
  return "unknown";
}

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return "uint8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
  }
  return "unknown";
}

Result<DType> ParseDType(std::string_view name) {
  for (DType d : {DType::kUInt8, DType::kInt32, DType::kInt64, DType::kFloat16, DType::kBFloat16,
                  DType::kFloat32, DType::kFloat64}) {
    if (DTypeName(d) == name) return d;
  }
  return Status::InvalidArgument("unknown dtype '" + std::string(name) +
                                 "' (expected uint8, int32, int64, float16, bfloat16, float32 or float64)");
}

int64_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return 1;
    case DType::kFloat16:
    case DType::kBFloat16: return 2;
    case DType::kInt32:
    case DType::kFloat32: return 4;
    case DType::kInt64:
    case DType::kFloat64: return 8;
  }
  return 0;
}

DataType DataType::Tensor(DType dtype, std::vector<int64_t> row_shape) {
  DataType t(TypeId::kTensor);
  t.dtype_ = dtype;
  t.row_shape_ = std::move(row_shape);
  return t;
}

DataType DataType::List(DataType element) {
  DataType t(TypeId::kList);
  t.element_ = std::make_shared<const DataType>(std::move(element));
  return t;
}

int64_t DataType::fixed_row_bytes() const {
  switch (id_) {
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kUInt8: return 1;
    case TypeId::kInt16:
    case TypeId::kUInt16: return 2;
    case TypeId::kInt32:
    case TypeId::kUInt32:
    case TypeId::kFloat32: return 4;
    case TypeId::kInt64:
    case TypeId::kUInt64:
    case TypeId::kFloat64: return 8;
    case TypeId::kBinary:
    case TypeId::kString:
    case TypeId::kList: return 0;
    case TypeId::kTensor: {
      int64_t n = DTypeSize(dtype_);
      for (int64_t d : row_shape_) n *= d;
      return n;
    }
  }
  return 0;
}

std::string DataType::ToString() const {
  std::string out(TypeIdName(id_));
  if (id_ == TypeId::kTensor) {
    out += "<";
    out += DTypeName(dtype_);
    out += ">[";
    for (size_t i = 0; i < row_shape_.size(); ++i) {
      if (i) out += ",";
      out += std::to_string(row_shape_[i]);
    }
    out += "]";
  }
  if (id_ == TypeId::kList) out += "<" + element_->ToString() + ">";
  return out;
}

}  // namespace sluice
