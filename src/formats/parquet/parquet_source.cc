#include "sluice/parquet_source.h"

#include "sluice/filesystem.h"
#include "tensor_metadata.h"

#include <cstring>
#include <optional>
#include <type_traits>

namespace sluice {
namespace {

/// Reads row groups [begin, end) of one file (opening it first when it is not open yet).
class RowGroupTask : public ReadTask {
 public:
  RowGroupTask(const ParquetSourceOptions* o, std::string path, std::shared_ptr<ParquetReader> reader, int begin, int end)
      : o_(o), path_(std::move(path)), reader_(std::move(reader)), next_(begin), end_(end) {}

  Result<std::optional<Batch>> Next(TaskContext&) override {
    if (!reader_) {
      ASSIGN_OR_RETURN(auto file, o_->open(path_));
      ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(std::move(file), o_->read));
      reader_ = std::move(reader);
      end_ = reader_->num_row_groups();
    }
    if (next_ >= end_) return std::optional<Batch>();
    const int g = next_++;
    ASSIGN_OR_RETURN(Batch batch, reader_->ReadRowGroup(g, o_->columns));
    for (const auto& [name, spec] : o_->tensor_columns) {
      const int c = batch.FindColumn(name);
      if (c < 0) continue;
      ASSIGN_OR_RETURN(Column t, ColumnToTensor(batch.column(c), spec,
                                                "'" + path_ + "' row group " + std::to_string(g) + " column '" + name + "'"));
      ASSIGN_OR_RETURN(batch, batch.WithColumn(name, std::move(t)));
    }
    return std::optional<Batch>(std::move(batch));
  }

  std::string Describe() const override {
    if (end_ < 0) return "'" + path_ + "'";
    return "'" + path_ + "' row groups " + std::to_string(next_) + ".." + std::to_string(end_ - 1);
  }

 private:
  const ParquetSourceOptions* o_;
  std::string path_;
  std::shared_ptr<ParquetReader> reader_;
  int next_;
  int end_;
};

template <typename From>
bool FitsUInt8(From v) {
  if constexpr (std::is_same_v<From, uint8_t>) {
    return true;
  } else if constexpr (std::is_unsigned_v<From>) {
    return v <= 255;
  } else {
    return v >= 0 && v <= 255;
  }
}

template <typename From>
Status NarrowElements(const Column& child, int64_t begin, int64_t n, DType dtype, uint8_t* dst, const std::string& where) {
  for (int64_t i = 0; i < n; ++i) {
    const From v = child.Value<From>(begin + i);
    switch (dtype) {
      case DType::kUInt8:
        if (!FitsUInt8(v)) return Status::InvalidData(where + ": element " + std::to_string(i) + " = " + std::to_string(v) + " does not fit uint8");
        dst[i] = static_cast<uint8_t>(v);
        break;
      case DType::kInt32: reinterpret_cast<int32_t*>(dst)[i] = static_cast<int32_t>(v); break;
      case DType::kInt64: reinterpret_cast<int64_t*>(dst)[i] = static_cast<int64_t>(v); break;
      case DType::kFloat32: reinterpret_cast<float*>(dst)[i] = static_cast<float>(v); break;
      case DType::kFloat64: reinterpret_cast<double*>(dst)[i] = static_cast<double>(v); break;
      default: return Status::Unimplemented(where + ": lists to " + std::string(DTypeName(dtype)) + " tensors");
    }
  }
  return Status::OK();
}

/// The list's elements as the tensor, without a copy, when they already are its rows: elements
/// of the tensor's dtype, `elements` per row back to back, no nulls.
std::optional<Column> ListAsTensorView(const Column& list, const DataType& type, int64_t elements) {
  const Column& child = list.child();
  const TypeId want = type.dtype() == DType::kUInt8 ? TypeId::kUInt8 : type.dtype() == DType::kInt32 ? TypeId::kInt32
                    : type.dtype() == DType::kInt64 ? TypeId::kInt64 : type.dtype() == DType::kFloat32 ? TypeId::kFloat32
                    : type.dtype() == DType::kFloat64 ? TypeId::kFloat64 : TypeId::kBinary;
  const int64_t rows = list.length();
  if (child.type().id() != want || rows == 0 || list.null_count() > 0 || child.null_count() > 0 || !child.values_buffer()) return std::nullopt;
  const int64_t first = list.ListBegin(0);
  for (int64_t r = 0; r <= rows; ++r) {
    if ((r < rows ? list.ListBegin(r) : list.ListEnd(rows - 1)) != first + r * elements) return std::nullopt;
  }
  const int64_t width = child.type().fixed_row_bytes();
  const auto& values = child.values_buffer();
  const uint8_t* start = values->data() + (child.offset() + first) * width;
  if (start + rows * elements * width > values->data() + values->size()) return std::nullopt;
  auto view = Buffer::Wrap(start, rows * elements * width, values->kind(), values);
  auto col = Column::FromBuffers(type, rows, std::move(view));
  if (!col.ok()) return std::nullopt;
  return std::move(col).value();
}

}  // namespace

Result<Column> ColumnToTensor(const Column& column, const TensorSpec& spec, const std::string& where) {
  const DataType type = DataType::Tensor(spec.dtype, spec.shape);
  for (int64_t d : spec.shape) {
    if (d <= 0) return Status::InvalidArgument(where + ": tensor shape dimensions must be positive");
  }
  if (column.type() == type) return column;
  const int64_t rows = column.length(), row_bytes = type.fixed_row_bytes();
  const int64_t elements = row_bytes / DTypeSize(spec.dtype);
  if (column.null_count() > 0) return Status::InvalidData(where + ": a tensor column cannot have null rows");
  if (column.type().id() == TypeId::kBinary || column.type().id() == TypeId::kString) {
    return parquet::BinaryToTensor(column, parquet::TensorColumnMeta{"", spec.dtype, spec.shape, false, "a given shape"}, where);
  }
  if (!column.type().is_list()) return Status::InvalidArgument(where + ": a " + column.type().ToString() + " column cannot become a tensor");
  const Column& child = column.child();
  if (auto view = ListAsTensorView(column, type, elements)) return *view;
  ASSIGN_OR_RETURN(Column out, Column::Allocate(type, rows));
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t begin = column.ListBegin(r), n = column.ListEnd(r) - begin;
    const std::string row_where = where + " row " + std::to_string(r);
    if (n != elements) {
      return Status::InvalidData(row_where + ": " + std::to_string(n) + " elements, shape " + type.ToString() + " needs " + std::to_string(elements));
    }
    if (child.has_validity() && child.Slice(begin, n).null_count() > 0) return Status::InvalidData(row_where + ": null elements");
    uint8_t* dst = out.MutableRowData(r);
    if (child.type().id() == TypeId::kUInt8 && spec.dtype == DType::kUInt8) {  // Ray's uint8 images: one copy per row
      std::memcpy(dst, child.RowData(begin), static_cast<size_t>(n));
      continue;
    }
    switch (child.type().id()) {
      case TypeId::kInt8: RETURN_IF_ERROR(NarrowElements<int8_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kInt16: RETURN_IF_ERROR(NarrowElements<int16_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kUInt8: RETURN_IF_ERROR(NarrowElements<uint8_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kUInt16: RETURN_IF_ERROR(NarrowElements<uint16_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kUInt32: RETURN_IF_ERROR(NarrowElements<uint32_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kInt32: RETURN_IF_ERROR(NarrowElements<int32_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kInt64: RETURN_IF_ERROR(NarrowElements<int64_t>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kFloat32: RETURN_IF_ERROR(NarrowElements<float>(child, begin, n, spec.dtype, dst, row_where)); break;
      case TypeId::kFloat64: RETURN_IF_ERROR(NarrowElements<double>(child, begin, n, spec.dtype, dst, row_where)); break;
      default: return Status::InvalidArgument(where + ": lists of " + child.type().ToString() + " cannot become a tensor");
    }
  }
  return out;
}

ParquetSource::ParquetSource(ParquetSourceOptions options) : o_(std::move(options)) {
  if (!o_.open) {
    o_.open = [](const std::string& uri) -> Result<std::shared_ptr<RandomAccessFile>> {
      ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
      return fsys->OpenForRead(uri);
    };
  }
}

Result<std::unique_ptr<ReadTask>> ParquetSource::NextTask() {
  for (;;) {
    if (splitting_) {
      if (next_row_group_ < splitting_->num_row_groups()) {
        const int begin = next_row_group_;
        const int end = std::min(splitting_->num_row_groups(), begin + o_.row_groups_per_task);
        next_row_group_ = end;
        return std::unique_ptr<ReadTask>(new RowGroupTask(&o_, splitting_->name(), splitting_, begin, end));
      }
      splitting_.reset();
    }
    if (next_path_ >= o_.paths.size()) return std::unique_ptr<ReadTask>();
    const std::string& path = o_.paths[next_path_++];
    if (o_.row_groups_per_task <= 0) return std::unique_ptr<ReadTask>(new RowGroupTask(&o_, path, nullptr, 0, -1));
    ASSIGN_OR_RETURN(auto file, o_.open(path));
    ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(std::move(file), o_.read));
    splitting_ = std::move(reader);
    next_row_group_ = 0;
  }
}

}  // namespace sluice
