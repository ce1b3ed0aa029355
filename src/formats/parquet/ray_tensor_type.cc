#include "ray_tensor_type.h"

#include <cstdlib>

#include "arrow_schema.h"
#include "pickle_reader.h"
#include "sluice/raw_image.h"

namespace sluice::parquet {
namespace {

bool IsPickle(const std::string& m) { return m.size() >= 2 && static_cast<uint8_t>(m[0]) == 0x80; }

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Result<std::vector<int64_t>> Shape(const std::string& metadata) {
  if (!IsPickle(metadata)) return ParseJsonIntList(metadata);
  ASSIGN_OR_RETURN(auto value, ReadPickle(metadata));
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, PickleInts(*value));
  for (int64_t d : shape) {
    if (d <= 0) return Status::InvalidData("pickled shape has a dimension " + std::to_string(d));
  }
  if (shape.empty()) return Status::InvalidData("pickled shape is empty");
  return shape;
}

Result<int64_t> Ndim(const std::string& metadata) {
  int64_t ndim = 0;
  if (IsPickle(metadata)) {
    ASSIGN_OR_RETURN(auto value, ReadPickle(metadata));
    if (value->kind != PickleValue::Kind::kInt) return Status::InvalidData("pickled ndim is not an int");
    ndim = value->integer;
  } else {
    char* end = nullptr;
    ndim = std::strtoll(metadata.c_str(), &end, 10);
    if (end == metadata.c_str()) return Status::InvalidData("ndim '" + metadata + "' is not a number");
  }
  if (ndim <= 0 || ndim > 16) return Status::InvalidData("ndim " + std::to_string(ndim));
  return ndim;
}

/// Before Ray 2.9: pickle.dumps(ArrowTensorType) = REDUCE(global ...ArrowTensorType,
/// ((shape...), REDUCE(pyarrow.lib.type_for_alias, ("uint8",)))).
Result<std::optional<RayTensorType>> FromPyExtensionType(const std::string& metadata) {
  ASSIGN_OR_RETURN(auto value, ReadPickle(metadata));
  if (value->kind != PickleValue::Kind::kReduce || value->items.size() != 2) return std::optional<RayTensorType>();
  const PickleValue& callable = *value->items[0];
  const PickleValue& args = *value->items[1];
  if (callable.kind != PickleValue::Kind::kGlobal) return std::optional<RayTensorType>();
  RayTensorType t;
  if (EndsWith(callable.text, ".ArrowTensorType") || EndsWith(callable.text, ".ArrowTensorTypeV2")) {
    if (args.kind != PickleValue::Kind::kTuple || args.items.empty()) {
      return Status::InvalidData(callable.text + " pickled without its shape");
    }
    ASSIGN_OR_RETURN(t.shape, PickleInts(*args.items[0]));
    for (int64_t d : t.shape) {
      if (d <= 0) return Status::InvalidData(callable.text + " pickled with a dimension " + std::to_string(d));
    }
    t.source = "pickled " + callable.text + " (arrow.py_extension_type, Ray < 2.9)";
    return std::optional<RayTensorType>(std::move(t));
  }
  if (EndsWith(callable.text, ".ArrowVariableShapedTensorType")) {
    t.variable_shaped = true;
    if (args.kind == PickleValue::Kind::kTuple && args.items.size() >= 2 && args.items[1]->kind == PickleValue::Kind::kInt) {
      t.ndim = args.items[1]->integer;
    }
    t.source = "pickled " + callable.text + " (arrow.py_extension_type, Ray < 2.9)";
    return std::optional<RayTensorType>(std::move(t));
  }
  return std::optional<RayTensorType>();  // some other Python extension type
}

}  // namespace

Result<std::optional<RayTensorType>> ParseRayTensorType(const std::string& name, const std::string& metadata) {
  auto named = [&](Status s) { return s.WithContext("extension type " + name); };
  if (name == "ray.data.arrow_tensor" || name == "ray.data.arrow_tensor_v2") {
    auto shape = Shape(metadata);
    if (!shape.ok()) return named(shape.status());
    RayTensorType t;
    t.shape = std::move(shape).value();
    t.source = name + (IsPickle(metadata) ? " (pickled shape, Ray >= 2.49)" : " (JSON shape)");
    return std::optional<RayTensorType>(std::move(t));
  }
  if (name == "ray.data.arrow_variable_shaped_tensor") {
    auto ndim = Ndim(metadata);
    if (!ndim.ok()) return named(ndim.status());
    RayTensorType t;
    t.variable_shaped = true;
    t.ndim = *ndim;
    t.source = name + (IsPickle(metadata) ? " (pickled ndim, Ray >= 2.49)" : " (JSON ndim)");
    return std::optional<RayTensorType>(std::move(t));
  }
  if (name == "arrow.py_extension_type" && IsPickle(metadata)) {
    auto t = FromPyExtensionType(metadata);
    if (!t.ok()) return named(t.status());
    return t;
  }
  return std::optional<RayTensorType>();
}

Result<Column> VariableShapedImages(const Column& data, const Column& shape, const std::string& where) {
  if (data.length() != shape.length()) {
    return Status::InvalidData(where + ": " + std::to_string(data.length()) + " data rows but " + std::to_string(shape.length()) + " shapes");
  }
  const Column& pixels = data.child();
  const Column& dims = shape.child();
  if (pixels.type().id() != TypeId::kUInt8) {
    return Status::Unimplemented(where + ": variable-shaped tensors of " + pixels.type().ToString() + " (uint8 images are read)");
  }
  if (dims.type().id() != TypeId::kInt64 && dims.type().id() != TypeId::kInt32) {
    return Status::InvalidData(where + ": the shape list holds " + dims.type().ToString() + ", not integers");
  }
  BinaryBuilder out;
  std::string value;       // one row's encoded image, reused
  std::vector<int64_t> s;  // one row's shape, reused
  for (int64_t r = 0; r < data.length(); ++r) {
    if (!data.IsValid(r) || !shape.IsValid(r)) {
      out.AppendNull();
      continue;
    }
    value.clear();
    s.clear();
    bool null_dim = false;
    for (int64_t i = shape.ListBegin(r); i < shape.ListEnd(r); ++i) {
      null_dim |= !dims.IsValid(i);
      s.push_back(dims.type().id() == TypeId::kInt64 ? dims.Value<int64_t>(i) : dims.Value<int32_t>(i));
    }
    const int64_t begin = data.ListBegin(r), n = data.ListEnd(r) - begin;
    auto shape_text = [&] {  // for the messages of rows that cannot be images only
      std::string t = "[";
      for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
      return t + "]";
    };
    const bool rank_ok = s.size() == 2 || s.size() == 3;
    const int64_t channels = s.size() == 3 ? s[2] : 1;
    bool dims_ok = rank_ok && !null_dim;
    for (int64_t d : s) dims_ok &= d > 0 && d <= (int64_t{1} << 30);
    if (!dims_ok) {
      AppendRawImageError("variable-shaped tensor row of shape " + shape_text() + " is not an image ([H, W] or [H, W, C])", &value);
    } else if (n != s[0] * s[1] * channels) {
      AppendRawImageError("variable-shaped tensor row of shape " + shape_text() + " holds " + std::to_string(n) + " values, not " +
                              std::to_string(s[0] * s[1] * channels), &value);
    } else if (pixels.has_validity() && pixels.Slice(begin, n).null_count() > 0) {
      AppendRawImageError("variable-shaped tensor row of shape " + shape_text() + " has null elements", &value);
    } else {
      AppendRawImage(static_cast<uint32_t>(s[0]), static_cast<uint32_t>(s[1]), static_cast<uint32_t>(channels), pixels.RowData(begin), &value);
    }
    out.Append(value);
  }
  return out.Finish();
}

}  // namespace sluice::parquet
