// MakePreprocessMap: the preprocessing stage of a plan (see sluice/image.h).
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sluice/image.h"

namespace sluice {
namespace {

/// One Preprocessor per pool thread: each keeps its decoder handle and scratch buffers.
class PreprocessorPool {
 public:
  explicit PreprocessorPool(PreprocessSpec spec) : spec_(std::move(spec)) {}
  Preprocessor& ForThisThread() {
    std::lock_guard lock(mu_);
    auto& p = by_thread_[std::this_thread::get_id()];
    if (!p) p = std::make_unique<Preprocessor>(spec_);
    return *p;
  }

 private:
  PreprocessSpec spec_;
  std::mutex mu_;
  std::unordered_map<std::thread::id, std::unique_ptr<Preprocessor>> by_thread_;
};

std::string RowId(const Batch& batch, int id_col, int64_t row) {
  if (id_col < 0) return "row " + std::to_string(row);
  const Column& c = batch.column(id_col);
  if (!c.IsValid(row)) return "null";
  switch (c.type().id()) {
    case TypeId::kString:
    case TypeId::kBinary: return std::string(c.ValueBytes(row));
    case TypeId::kInt32: return std::to_string(c.Value<int32_t>(row));
    case TypeId::kInt64: return std::to_string(c.Value<int64_t>(row));
    default: return "row " + std::to_string(row);
  }
}

}  // namespace

MapFn MakePreprocessMap(PreprocessSpec spec, std::string image_column, std::string id_column, std::string output_column) {
  auto pool = std::make_shared<PreprocessorPool>(spec);
  const DataType out_type = spec.OutputType();
  return [pool, out_type, image_column, id_column, output_column](Batch batch, TaskContext& ctx) -> Result<Batch> {
    ASSIGN_OR_RETURN(Column images, batch.GetColumn(image_column));
    const int id_col = id_column.empty() ? -1 : batch.FindColumn(id_column);
    if (!id_column.empty() && id_col < 0) return Status::InvalidArgument("no id column '" + id_column + "' in " + batch.Describe());
    const bool raw = images.type().id() == TypeId::kTensor;
    if (raw && (images.type().dtype() != DType::kUInt8 || images.type().row_shape().size() != 3 || images.type().row_shape()[2] != 3)) {
      return Status::InvalidArgument("column '" + image_column + "' is " + images.type().ToString() + "; raw images must be uint8 [H, W, 3]");
    }
    if (!raw && images.type().id() != TypeId::kBinary && images.type().id() != TypeId::kString) {
      return Status::InvalidArgument("column '" + image_column + "' is " + images.type().ToString() + ", not image bytes or a uint8 tensor");
    }
    ASSIGN_OR_RETURN(Column out, Column::Allocate(out_type, batch.num_rows(), ctx.allocator()));
    Preprocessor& pre = pool->ForThisThread();
    std::vector<int64_t> good;
    good.reserve(static_cast<size_t>(batch.num_rows()));
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      Status st;
      if (!images.IsValid(r)) {
        st = Status::InvalidData("the image is null");
      } else if (raw) {
        const auto& shape = images.type().row_shape();
        st = pre.ProcessRaw(images.RowData(r), static_cast<int>(shape[0]), static_cast<int>(shape[1]), shape[1] * 3,
                            out.MutableRowData(static_cast<int64_t>(good.size())));
      } else {
        st = pre.ProcessEncoded(images.ValueBytes(r), out.MutableRowData(static_cast<int64_t>(good.size())));
      }
      if (st.ok()) {
        good.push_back(r);
      } else {
        RETURN_IF_ERROR(ctx.ReportBadRow(RowId(batch, id_col, r), st.message()));
      }
    }
    // Keep the other columns (all rows, or the good ones), without the input images.
    std::vector<std::string> keep;
    for (const auto& n : batch.names()) {
      if (n != image_column && n != output_column) keep.push_back(n);
    }
    ASSIGN_OR_RETURN(Batch rest, batch.Select(keep));
    if (static_cast<int64_t>(good.size()) != batch.num_rows()) {
      ASSIGN_OR_RETURN(rest, rest.Take(good));
      out = out.Slice(0, static_cast<int64_t>(good.size()));
    }
    return rest.WithColumn(output_column, std::move(out));
  };
}

MapFn MakeCropConversionMap(PreprocessSpec spec, std::string column) {
  auto converter = std::make_shared<const Preprocessor>(spec);  // ConvertCrop reads only its tables
  const DataType out_type = spec.OutputType();
  const auto shape = spec.RowShape();
  const int64_t h = spec.layout == Layout::kNCHW ? shape[1] : shape[0], w = spec.layout == Layout::kNCHW ? shape[2] : shape[1];
  const DataType crop_type = DataType::Tensor(DType::kUInt8, {h, w, 3});
  return [converter, out_type, crop_type, column](Batch batch, TaskContext& ctx) -> Result<Batch> {
    ASSIGN_OR_RETURN(Column crops, batch.GetColumn(column));
    if (!(crops.type() == crop_type)) {
      return Status::InvalidArgument("column '" + column + "' is " + crops.type().ToString() + "; the crops must be " + crop_type.ToString());
    }
    if (out_type == crop_type) return batch;
    ASSIGN_OR_RETURN(Column out, Column::Allocate(out_type, batch.num_rows(), ctx.allocator()));
    for (int64_t r = 0; r < batch.num_rows(); ++r) converter->ConvertCrop(crops.RowData(r), out.MutableRowData(r));
    return batch.WithColumn(column, std::move(out));
  };
}

}  // namespace sluice
