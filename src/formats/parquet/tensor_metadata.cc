#include "tensor_metadata.h"

#include "arrow_schema.h"
#include "ray_tensor_type.h"

#include <cstring>
#include <sstream>

namespace sluice::parquet {

std::vector<TensorColumnMeta> ParseTensorMetadata(const std::vector<std::pair<std::string, std::string>>& kv,
                                                  std::vector<std::string>* notes) {
  auto note = [notes](std::string text) {
    if (notes) notes->push_back(std::move(text));
  };
  std::vector<TensorColumnMeta> out;
  const std::string prefix = kTensorKeyPrefix;
  for (const auto& [key, value] : kv) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    const auto colon = value.find(':');
    if (colon == std::string::npos) continue;
    auto dtype = ParseDType(value.substr(0, colon));
    if (!dtype.ok()) continue;
    TensorColumnMeta t{key.substr(prefix.size()), *dtype, {}, false, "sluice.tensor metadata"};
    std::stringstream dims(value.substr(colon + 1));
    std::string d;
    bool good = true;
    while (std::getline(dims, d, ',')) {
      char* end = nullptr;
      const long long v = std::strtoll(d.c_str(), &end, 10);
      if (end == d.c_str() || *end != '\0' || v <= 0) good = false;
      t.shape.push_back(v);
    }
    if (good && !t.shape.empty()) out.push_back(std::move(t));
  }
  for (const auto& [key, value] : kv) {
    if (key != "ARROW:schema") continue;
    auto fields = ParseArrowSchema(value);
    if (!fields.ok()) {
      note("ARROW:schema could not be read: " + fields.status().message());
      continue;
    }
    for (const ArrowFieldInfo& f : *fields) {
      if (f.extension_name.empty() || FindTensor(out, f.name)) continue;
      const std::string what = "column '" + f.name + "' (" + f.extension_name + " over " + f.storage + ")";
      if (f.extension_name == "arrow.fixed_shape_tensor") {
        auto shape = ParseFixedShapeTensorShape(f.extension_metadata);
        if (!shape.ok()) {
          note(what + ": " + shape.status().message());
        } else if (f.list_element) {
          out.push_back({f.name, *f.list_element, std::move(shape).value(), true, "arrow.fixed_shape_tensor"});
        }
        continue;
      }
      auto ray = ParseRayTensorType(f.extension_name, f.extension_metadata);
      if (!ray.ok()) {
        note(what + ": " + ray.status().message() + "; it reads as a list (give its shape to read it as a tensor)");
        continue;
      }
      if (!*ray) continue;
      if ((*ray)->variable_shaped) {  // read through its struct storage, row by row
        if (!f.struct_data_element) {
          note(what + ": the data list's elements have no tensor dtype sluice knows");
          continue;
        }
        TensorColumnMeta t{f.name, *f.struct_data_element, {}, false, (*ray)->source};
        t.variable_shaped = true;
        out.push_back(std::move(t));
        continue;
      }
      if (!f.list_element) {
        note(what + ": elements of a type sluice has no tensor dtype for; it reads as a list");
        continue;
      }
      out.push_back({f.name, *f.list_element, (*ray)->shape, true, (*ray)->source});
    }
  }
  return out;
}

const TensorColumnMeta* FindTensor(const std::vector<TensorColumnMeta>& tensors, const std::string& column) {
  for (const auto& t : tensors) {
    if (t.column == column) return &t;
  }
  return nullptr;
}

std::pair<std::string, std::string> TensorMetadataEntry(const std::string& column, const DataType& type) {
  std::string v(DTypeName(type.dtype()));
  v += ":";
  for (size_t i = 0; i < type.row_shape().size(); ++i) v += (i ? "," : "") + std::to_string(type.row_shape()[i]);
  return {kTensorKeyPrefix + column, v};
}

Result<Column> BinaryToTensor(const Column& binary, const TensorColumnMeta& meta, const std::string& where) {
  const DataType type = DataType::Tensor(meta.dtype, meta.shape);
  const int64_t row = type.fixed_row_bytes();
  const int64_t n = binary.length();
  if (binary.null_count() > 0) return Status::InvalidData(where + ": a tensor column has null rows");
  bool contiguous = n == 0 || binary.ValueBytes(0).data() == reinterpret_cast<const char*>(binary.values_buffer()->data());
  for (int64_t i = 0; i < n; ++i) {
    const auto v = binary.ValueBytes(i);
    if (static_cast<int64_t>(v.size()) != row) {
      return Status::InvalidData(where + ": row " + std::to_string(i) + " holds " + std::to_string(v.size()) + " bytes, a " +
                                 type.ToString() + " row needs " + std::to_string(row));
    }
  }
  if (contiguous) return Column::FromBuffers(type, n, binary.values_buffer());
  ASSIGN_OR_RETURN(Column t, Column::Allocate(type, n));
  for (int64_t i = 0; i < n; ++i) std::memcpy(t.MutableRowData(i), binary.ValueBytes(i).data(), static_cast<size_t>(row));
  return t;
}

}  // namespace sluice::parquet
