// The only translation unit that includes libtorch (about 10 s and 0.8 GB to compile).
#include "torch_backend.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <cstring>
#include <sstream>

namespace sluice {
namespace {

std::string ShapeText(const torch::Tensor& t) {
  std::ostringstream o;
  o << c10::toString(t.scalar_type()) << t.sizes();
  return o.str();
}

std::string FirstLine(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

/// The line of a TorchScript interpreter error that says what went wrong ("RuntimeError: Given
/// groups=1, weight of size [8, 3, 3, 3], expected input[2, 4, 32, 32] to have 3 channels..."),
/// without the traceback.
std::string Summary(const std::string& what) {
  for (const char* marker : {"RuntimeError: ", "Exception: "}) {
    const auto at = what.rfind(marker);
    if (at != std::string::npos) return FirstLine(what.substr(at + std::strlen(marker)));
  }
  return FirstLine(what);
}

Result<torch::ScalarType> TorchType(DType d) {
  switch (d) {
    case DType::kUInt8: return torch::kUInt8;
    case DType::kInt32: return torch::kInt32;
    case DType::kInt64: return torch::kInt64;
    case DType::kFloat16: return torch::kHalf;
    case DType::kBFloat16: return torch::kBFloat16;
    case DType::kFloat32: return torch::kFloat;
    case DType::kFloat64: return torch::kDouble;
  }
  return Status::InvalidArgument("no torch type for " + std::string(DTypeName(d)));
}

/// Copies a contiguous CPU tensor into a new tensor column.
Result<Column> ToColumn(const torch::Tensor& cpu, DType dtype) {
  std::vector<int64_t> row_shape(cpu.sizes().begin() + 1, cpu.sizes().end());
  if (row_shape.empty()) row_shape.push_back(1);
  ASSIGN_OR_RETURN(Column c, Column::Allocate(DataType::Tensor(dtype, row_shape), cpu.size(0)));
  if (cpu.numel() > 0) std::memcpy(c.MutableRowData(0), cpu.data_ptr(), static_cast<size_t>(cpu.numel() * cpu.element_size()));
  return c;
}

/// [N, k] tensor column -> list column with k elements per row.
Result<Column> ToList(const Column& t, DataType element) {
  const int64_t n = t.length(), k = t.type().row_shape()[0];
  std::vector<int64_t> offsets(static_cast<size_t>(n) + 1);
  for (int64_t i = 0; i <= n; ++i) offsets[static_cast<size_t>(i)] = i * k;
  ASSIGN_OR_RETURN(Column child, Column::FromBuffers(element, n * k, t.values_buffer()));
  return Column::MakeList(n, Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8}), std::move(child));
}

class TorchModel : public Model {
 public:
  TorchModel(torch::jit::Module module, ModelOptions options, torch::Device device)
      : module_(std::move(module)), o_(std::move(options)), device_(device), device_name_(device.str()) {}

  const std::string& device() const override { return device_name_; }

  Result<Batch> Run(const Column& input) override {
    const std::string where = "model '" + o_.uri + "' on " + device_name_;
    if (input.type().id() != TypeId::kTensor) return Status::InvalidArgument(where + ": the input column is " + input.type().ToString() + ", not a tensor");
    if (input.length() == 0) return Status::InvalidArgument(where + ": an empty batch");
    if (!IsCpuAccessible(input.memory_kind())) return Status::Unimplemented(where + ": inputs already on the device");
    ASSIGN_OR_RETURN(auto in_type, TorchType(input.type().dtype()));
    ASSIGN_OR_RETURN(auto compute_type, TorchType(o_.dtype));
    try {
      c10::InferenceMode guard;
      const auto shape = input.TensorShape();
      // A view of the column's bytes (no copy); pinned host memory copies asynchronously.
      torch::Tensor x = torch::from_blob(const_cast<uint8_t*>(input.RowData(0)), shape, torch::TensorOptions().dtype(in_type));
      const bool pinned = input.memory_kind() == MemoryKind::kPinnedHost;
      x = x.to(device_, compute_type, /*non_blocking=*/pinned);
      if (o_.channels_last && x.dim() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      torch::Tensor y;
      try {
        y = module_.forward({x}).toTensor();
      } catch (const c10::Error& e) {
        return Status::InvalidArgument(where + " rejected input " + ShapeText(x) + ": " + Summary(e.what_without_backtrace()));
      } catch (const std::exception& e) {  // the interpreter rethrows operator errors as runtime_error
        return Status::InvalidArgument(where + " rejected input " + ShapeText(x) + ": " + Summary(e.what()));
      }
      if (y.dim() < 1 || y.size(0) != input.length()) {
        return Status::InvalidData(where + ": output " + ShapeText(y) + " does not have one row per input row (" +
                                   std::to_string(input.length()) + ")");
      }
      y = y.to(torch::kFloat).reshape({y.size(0), -1});
      std::vector<std::string> names;
      std::vector<Column> cols;
      if (o_.top_k > 0) {
        // Softmax and top-k on the device; only the small results come back.
        const int64_t k = std::min<int64_t>(o_.top_k, y.size(1));
        auto [scores, ids] = torch::softmax(y, 1).topk(k, 1);
        ASSIGN_OR_RETURN(Column id_col, ToColumn(ids.to(torch::kInt32).to(torch::kCPU).contiguous(), DType::kInt32));
        ASSIGN_OR_RETURN(Column score_col, ToColumn(scores.to(torch::kCPU).contiguous(), DType::kFloat32));
        if (o_.lists) {
          ASSIGN_OR_RETURN(id_col, ToList(id_col, DataType::Int32()));
          ASSIGN_OR_RETURN(score_col, ToList(score_col, DataType::Float32()));
        }
        names = {"top_k_ids", "top_k_scores"};
        cols = {std::move(id_col), std::move(score_col)};
      } else {
        ASSIGN_OR_RETURN(Column out, ToColumn(y.to(torch::kCPU).contiguous(), DType::kFloat32));
        names = {"output"};
        cols = {std::move(out)};
      }
      return Batch::Make(std::move(names), std::move(cols));
    } catch (const c10::Error& e) {
      const std::string what = FirstLine(e.what_without_backtrace());
      if (what.find("out of memory") != std::string::npos) return Status::ResourceExhausted(where + ": " + what);
      return Status::Internal(where + ": " + what);
    } catch (const std::exception& e) {
      return Status::Internal(where + ": " + e.what());
    }
  }

 private:
  torch::jit::Module module_;
  ModelOptions o_;
  torch::Device device_;
  std::string device_name_;
};

class TorchBackend : public InferenceBackend {
 public:
  std::string name() const override { return "torch"; }
  std::vector<std::string> devices() const override {
    std::vector<std::string> d{"cpu"};
    for (int i = 0; i < static_cast<int>(torch::cuda::device_count()); ++i) d.push_back("cuda:" + std::to_string(i));
    return d;
  }
  std::vector<DType> supported_dtypes() const override { return {DType::kFloat32, DType::kFloat16, DType::kBFloat16}; }

  Result<std::unique_ptr<Model>> Load(const ModelOptions& o) override {
    const std::string where = "model '" + o.uri + "' on " + o.device;
    if (o.dtype != DType::kFloat32 && o.dtype != DType::kFloat16 && o.dtype != DType::kBFloat16) {
      return Status::InvalidArgument(where + ": dtype must be float32, float16 or bfloat16");
    }
    if (o.top_k < 0) return Status::InvalidArgument(where + ": top_k must be >= 0");
    try {
      torch::Device device(o.device == "cuda" ? "cuda:0" : o.device);
      if (device.is_cuda() && device.index() >= static_cast<int>(torch::cuda::device_count())) {
        return Status::InvalidArgument(where + ": this machine has " + std::to_string(torch::cuda::device_count()) + " CUDA devices");
      }
      if (o.intra_op_threads > 0) at::set_num_threads(o.intra_op_threads);
      torch::jit::Module m;
      try {
        m = torch::jit::load(o.uri, device);
      } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        if (what.find("open file failed") != std::string::npos || what.find("No such file") != std::string::npos) {
          return Status::NotFound(where + ": cannot open the model file");
        }
        return Status::InvalidData(where + ": not a TorchScript model (" + FirstLine(what) + ")");
      }
      m.eval();
      ASSIGN_OR_RETURN(auto compute_type, TorchType(o.dtype));
      if (compute_type != torch::kFloat) m.to(compute_type);
      if (o.optimize) {
        // Frozen + optimized modules cannot be saved and loaded again, so this happens per load.
        m = torch::jit::freeze(m);
        m = torch::jit::optimize_for_inference(m);
      }
      auto model = std::make_unique<TorchModel>(std::move(m), o, device);
      return std::unique_ptr<Model>(std::move(model));
    } catch (const c10::Error& e) {
      return Status::InvalidArgument(where + ": " + FirstLine(e.what_without_backtrace()));
    }
  }
};

}  // namespace

std::shared_ptr<InferenceBackend> MakeTorchBackend() { return std::make_shared<TorchBackend>(); }

}  // namespace sluice
