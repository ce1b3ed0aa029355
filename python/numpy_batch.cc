// Batches as Python values and back (numpy_batch.h).
#include "numpy_batch.h"

#include <pybind11/numpy.h>

#include <optional>

namespace py = pybind11;

namespace sluice::python {
namespace {

// ---- DLPack (the exchange format torch.utils.dlpack.from_dlpack reads), as its spec lays it out.
struct DLDevice {
  int32_t device_type;  // 1 = CPU
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 0 int, 1 uint, 2 float, 4 bfloat
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // null: C-contiguous
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};

/// What a DLPack tensor of ours owns: the engine's buffer and the shape array.
struct DLOwner {
  std::shared_ptr<Buffer> buffer;
  std::vector<int64_t> shape;
  DLManagedTensor managed;
};

py::capsule DLPackOf(const std::shared_ptr<Buffer>& buffer, const uint8_t* data, DLDataType dtype, std::vector<int64_t> shape) {
  auto* owner = new DLOwner{buffer, std::move(shape), {}};
  DLTensor& t = owner->managed.dl_tensor;
  t.data = const_cast<uint8_t*>(data);
  t.device = {1, 0};
  t.ndim = static_cast<int32_t>(owner->shape.size());
  t.dtype = dtype;
  t.shape = owner->shape.data();
  t.strides = nullptr;
  t.byte_offset = 0;
  owner->managed.manager_ctx = owner;
  owner->managed.deleter = [](DLManagedTensor* m) { delete static_cast<DLOwner*>(m->manager_ctx); };
  // A capsule nobody consumed still owns the tensor; a consumer renames it "used_dltensor".
  PyObject* cap = PyCapsule_New(&owner->managed, "dltensor", [](PyObject* c) {
    if (!PyCapsule_IsValid(c, "dltensor")) return;
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
    m->deleter(m);
  });
  if (!cap) {
    delete owner;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(cap);
}

struct Element {
  const char* numpy;  // numpy dtype name
  DLDataType dl;
};

std::optional<Element> ElementOf(TypeId id) {
  switch (id) {
    case TypeId::kBool: return Element{"bool", {1, 8, 1}};
    case TypeId::kInt8: return Element{"int8", {0, 8, 1}};
    case TypeId::kInt16: return Element{"int16", {0, 16, 1}};
    case TypeId::kInt32: return Element{"int32", {0, 32, 1}};
    case TypeId::kInt64: return Element{"int64", {0, 64, 1}};
    case TypeId::kUInt8: return Element{"uint8", {1, 8, 1}};
    case TypeId::kUInt16: return Element{"uint16", {1, 16, 1}};
    case TypeId::kUInt32: return Element{"uint32", {1, 32, 1}};
    case TypeId::kUInt64: return Element{"uint64", {1, 64, 1}};
    case TypeId::kFloat32: return Element{"float32", {2, 32, 1}};
    case TypeId::kFloat64: return Element{"float64", {2, 64, 1}};
    default: return std::nullopt;
  }
}

Element ElementOf(DType d) {
  switch (d) {
    case DType::kUInt8: return {"uint8", {1, 8, 1}};
    case DType::kInt32: return {"int32", {0, 32, 1}};
    case DType::kInt64: return {"int64", {0, 64, 1}};
    case DType::kFloat16: return {"float16", {2, 16, 1}};
    case DType::kBFloat16: return {nullptr, {4, 16, 1}};  // numpy has no bfloat16
    case DType::kFloat32: return {"float32", {2, 32, 1}};
    case DType::kFloat64: return {"float64", {2, 64, 1}};
  }
  return {nullptr, {0, 0, 1}};
}

/// A read-only numpy array (or with `torch`, a DLPack capsule) over `data` inside `buffer`.
py::object ViewOf(const std::shared_ptr<Buffer>& buffer, const uint8_t* data, const Element& e, std::vector<int64_t> shape, bool torch,
                  const std::string& column) {
  if (torch) return DLPackOf(buffer, data, e.dl, std::move(shape));
  if (!e.numpy) throw py::type_error("column '" + column + "' is bfloat16, which numpy has no type for: use batch_format=\"torch\"");
  auto* keep = new std::shared_ptr<Buffer>(buffer);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Buffer>*>(p); });
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  py::array a(py::dtype(e.numpy), dims, data, base);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

py::object ColumnToPython(const Column& c, bool torch, const std::string& name) {
  const DataType& t = c.type();
  const int64_t n = c.length();
  if (t.id() == TypeId::kTensor) {
    return ViewOf(c.values_buffer(), c.RowData(0), ElementOf(t.dtype()), c.TensorShape(), torch, name);
  }
  if (auto e = ElementOf(t.id())) {
    py::object values = ViewOf(c.values_buffer(), c.RowData(0), *e, {n}, torch && !c.has_validity(), name);
    if (!c.has_validity()) return values;
    auto valid = ViewOf(c.validity_buffer(), c.validity_buffer()->data() + c.offset(), *ElementOf(TypeId::kBool), {n}, false, name);
    return py::make_tuple("masked", values, valid);
  }
  if (t.id() == TypeId::kBinary) {
    const auto& offsets = c.offsets_buffer();
    py::object values = ViewOf(c.values_buffer(), c.values_buffer()->data(), *ElementOf(TypeId::kUInt8), {c.values_buffer()->size()}, false, name);
    py::object offs = ViewOf(offsets, offsets->data() + c.offset() * 8, *ElementOf(TypeId::kInt64), {n + 1}, false, name);
    py::object valid = c.has_validity()
                           ? ViewOf(c.validity_buffer(), c.validity_buffer()->data() + c.offset(), *ElementOf(TypeId::kBool), {n}, false, name)
                           : py::object(py::none());
    return py::make_tuple("binary", values, offs, valid);
  }
  if (t.id() == TypeId::kString) {
    py::list out(n);
    for (int64_t i = 0; i < n; ++i) {
      if (!c.IsValid(i)) {
        out[i] = py::none();
        continue;
      }
      std::string_view v = c.ValueBytes(i);
      PyObject* s = PyUnicode_DecodeUTF8(v.data(), static_cast<py::ssize_t>(v.size()), "replace");
      if (!s) throw py::error_already_set();
      out[i] = py::reinterpret_steal<py::object>(s);
    }
    return out;
  }
  if (t.id() == TypeId::kList) {
    const Column& child = c.child();
    auto e = ElementOf(child.type().id());
    const int64_t width = n > 0 ? c.ListEnd(0) - c.ListBegin(0) : 0;
    bool uniform = e && !c.has_validity() && !child.has_validity() && n > 0 && width > 0;
    for (int64_t i = 0; uniform && i < n; ++i) uniform = c.ListEnd(i) - c.ListBegin(i) == width && (i == 0 || c.ListBegin(i) == c.ListEnd(i - 1));
    if (uniform) return ViewOf(child.values_buffer(), child.RowData(c.ListBegin(0)), *e, {n, width}, torch, name);
    py::list out(n);
    for (int64_t i = 0; i < n; ++i) {
      out[i] = c.IsValid(i) ? ColumnToPython(child.Slice(c.ListBegin(i), c.ListEnd(i) - c.ListBegin(i)), torch, name) : py::none();
    }
    return out;
  }
  throw py::type_error("column '" + name + "' has type " + t.ToString() + ", which has no Python form here");
}

/// Holds a Python object for a Buffer; drops it with the GIL (from whichever thread frees it).
std::shared_ptr<const void> HoldPython(const py::object& o) {
  PyObject* p = o.ptr();
  Py_INCREF(p);
  return std::shared_ptr<const void>(p, [](const void* q) {
    py::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(const_cast<void*>(q)));
  });
}

std::shared_ptr<Buffer> BufferOf(const py::array& a) {
  return Buffer::Wrap(static_cast<const uint8_t*>(a.data()), static_cast<int64_t>(a.nbytes()), MemoryKind::kHost, HoldPython(a));
}

Status ColumnError(const std::string& stage, const std::string& column, const std::string& what) {
  return Status::InvalidArgument("stage '" + stage + "' returned column '" + column + "' " + what);
}

std::optional<DataType> ScalarTypeOf(const py::dtype& d) {
  const char kind = d.kind();
  const auto size = d.itemsize();
  if (kind == 'b') return DataType::Bool();
  if (kind == 'i') return size == 1 ? DataType::Int8() : size == 2 ? DataType::Int16() : size == 4 ? DataType::Int32() : DataType::Int64();
  if (kind == 'u') return size == 1 ? DataType::UInt8() : size == 2 ? DataType::UInt16() : size == 4 ? DataType::UInt32() : DataType::UInt64();
  if (kind == 'f' && size == 4) return DataType::Float32();
  if (kind == 'f' && size == 8) return DataType::Float64();
  return std::nullopt;
}

std::optional<DType> TensorTypeOf(const py::dtype& d) {
  const char kind = d.kind();
  const auto size = d.itemsize();
  if (kind == 'u' && size == 1) return DType::kUInt8;
  if (kind == 'i' && size == 4) return DType::kInt32;
  if (kind == 'i' && size == 8) return DType::kInt64;
  if (kind == 'f' && size == 2) return DType::kFloat16;
  if (kind == 'f' && size == 4) return DType::kFloat32;
  if (kind == 'f' && size == 8) return DType::kFloat64;
  return std::nullopt;
}

Result<Column> StringsFromPython(const py::array& a, const std::string& stage, const std::string& name) {
  py::list values = a.attr("tolist")();
  bool any_bytes = false, any_str = false;
  for (const auto& v : values) {
    any_bytes = any_bytes || py::isinstance<py::bytes>(v) || py::isinstance<py::memoryview>(v) || py::isinstance<py::bytearray>(v);
    any_str = any_str || py::isinstance<py::str>(v);
  }
  if (any_bytes && any_str) return ColumnError(stage, name, "mixes str and bytes values");
  BinaryBuilder b(any_bytes ? DataType::Binary() : DataType::String());
  for (const auto& v : values) {
    if (v.is_none()) {
      b.AppendNull();
    } else if (py::isinstance<py::str>(v)) {
      b.Append(v.cast<std::string>());
    } else if (any_bytes) {
      auto bytes = py::reinterpret_steal<py::object>(PyBytes_FromObject(v.ptr()));
      if (!bytes) throw py::error_already_set();
      b.Append(bytes.cast<std::string>());
    } else {
      return ColumnError(stage, name, "holds a " + std::string(py::str(py::type::of(v).attr("__name__"))) +
                                          " among its values; a column is numbers (a numpy array), str or bytes");
    }
  }
  return b.Finish();
}

/// One byte per row (1 = valid) from a boolean array of `rows` (None: no nulls).
Result<std::shared_ptr<Buffer>> ValidityOf(const py::handle& valid, int64_t rows, const std::string& stage, const std::string& name) {
  if (valid.is_none()) return std::shared_ptr<Buffer>();
  py::module_ np = py::module_::import("numpy");
  py::array bytes = np.attr("ascontiguousarray")(valid, "uint8");
  if (bytes.ndim() != 1 || bytes.shape(0) != rows) return ColumnError(stage, name, "with a validity mask that does not have one value per row");
  return BufferOf(bytes);
}

Result<Column> ColumnFromPython(const py::handle& v, const std::string& stage, const std::string& name) {
  if (py::hasattr(v, "_sluice_binary")) {  // a sluice.BinaryArray: its buffers as they are
    py::array values = py::array::ensure(v.attr("values"));
    py::array offsets = py::array::ensure(v.attr("offsets"));
    if (!values || !offsets || offsets.ndim() != 1 || offsets.dtype().kind() != 'i' || offsets.itemsize() != 8 || !(offsets.flags() & py::array::c_style) ||
        values.itemsize() != 1 || !(values.flags() & py::array::c_style)) {
      return ColumnError(stage, name, "as a BinaryArray whose values are not contiguous uint8 or whose offsets are not contiguous int64");
    }
    const int64_t n = offsets.shape(0) - 1;
    const auto* o = static_cast<const int64_t*>(offsets.data());
    if (n < 0 || o[0] < 0 || o[n] > values.shape(0)) return ColumnError(stage, name, "as a BinaryArray whose offsets point outside its values");
    ASSIGN_OR_RETURN(std::shared_ptr<Buffer> validity, ValidityOf(v.attr("valid"), n, stage, name));
    auto col = Column::FromBuffers(DataType::Binary(), n, BufferOf(values), BufferOf(offsets), validity);
    if (!col.ok()) return ColumnError(stage, name, col.status().message());
    return col;
  }
  py::module_ np = py::module_::import("numpy");
  py::array a;
  try {
    a = py::array::ensure(v);
    if (!a) a = np.attr("asarray")(v);
  } catch (const py::error_already_set& e) {
    return ColumnError(stage, name, std::string("that numpy cannot read: ") + e.what());
  }
  const char kind = a.dtype().kind();
  if (a.ndim() == 0) return ColumnError(stage, name, "as a single value; a column has one value per row");
  if (kind == 'O' || kind == 'U' || kind == 'S') {
    if (a.ndim() != 1) return ColumnError(stage, name, "as a " + std::to_string(a.ndim()) + "-d array of objects; string columns are 1-d");
    return StringsFromPython(a, stage, name);
  }
  // A masked array's mask marks the nulls (its data alone would lose them).
  py::object mask = py::isinstance(v, np.attr("ma").attr("MaskedArray")) ? py::object(np.attr("ma").attr("getmaskarray")(v)) : py::object(py::none());
  if (!mask.is_none()) a = py::array::ensure(v.attr("data"));
  if (!(a.flags() & py::array::c_style)) a = np.attr("ascontiguousarray")(a);
  const int64_t n = a.shape(0);
  if (a.ndim() == 1) {
    auto type = ScalarTypeOf(a.dtype());
    if (!type) return ColumnError(stage, name, "of numpy dtype " + std::string(py::str(a.dtype())) + ", which sluice has no column type for");
    ASSIGN_OR_RETURN(std::shared_ptr<Buffer> validity, ValidityOf(mask.is_none() ? mask : py::object(np.attr("logical_not")(mask)), n, stage, name));
    return Column::FromBuffers(*type, n, BufferOf(a), nullptr, validity);
  }
  if (!mask.is_none()) return ColumnError(stage, name, "as a masked " + std::to_string(a.ndim()) + "-d array; tensor columns have no nulls");
  auto dt = TensorTypeOf(a.dtype());
  if (!dt) {
    return ColumnError(stage, name, "as a " + std::to_string(a.ndim()) + "-d array of " + std::string(py::str(a.dtype())) +
                                        "; tensor columns hold uint8, int32, int64, float16, float32 or float64");
  }
  std::vector<int64_t> row_shape;
  for (py::ssize_t d = 1; d < a.ndim(); ++d) {
    if (a.shape(d) < 1) return ColumnError(stage, name, "with an empty dimension (shape " + std::string(py::str(a.attr("shape"))) + ")");
    row_shape.push_back(a.shape(d));
  }
  return Column::FromBuffers(DataType::Tensor(*dt, std::move(row_shape)), n, BufferOf(a));
}

}  // namespace

py::dict BatchToPython(const Batch& batch, bool torch_format) {
  py::dict out;
  for (int i = 0; i < batch.num_columns(); ++i) out[py::str(batch.name(i))] = ColumnToPython(batch.column(i), torch_format, batch.name(i));
  return out;
}

Result<Batch> PythonToBatch(const py::handle& value, const std::string& stage) {
  if (!py::isinstance<py::dict>(value)) {
    return Status::InvalidArgument("stage '" + stage + "' returned a " + std::string(py::str(py::type::of(value).attr("__name__"))) +
                                   "; a stage returns a dict of column name to array");
  }
  std::vector<std::string> names;
  std::vector<Column> columns;
  for (const auto& [k, v] : py::reinterpret_borrow<py::dict>(value)) {
    if (!py::isinstance<py::str>(k)) return Status::InvalidArgument("stage '" + stage + "' returned a column named by a non-string: " + std::string(py::repr(k)));
    names.push_back(k.cast<std::string>());
    ASSIGN_OR_RETURN(Column c, ColumnFromPython(v, stage, names.back()));
    if (!columns.empty() && c.length() != columns.front().length()) {
      return Status::InvalidArgument("stage '" + stage + "' returned column '" + names.back() + "' with " + std::to_string(c.length()) +
                                     " rows and column '" + names.front() + "' with " + std::to_string(columns.front().length()));
    }
    columns.push_back(std::move(c));
  }
  if (columns.empty()) return Status::InvalidArgument("stage '" + stage + "' returned no columns");
  return Batch::Make(std::move(names), std::move(columns));
}

}  // namespace sluice::python
