// The only translation unit that includes libtorch (about 10 s and 0.8 GB to compile).
#include "torch_backend.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

// A CUDA-enabled libtorch (the PyTorch wheel's): each replica runs on its own stream, so
// replicas sharing a GPU overlap their copies with each other's compute.
#ifdef SLUICE_TORCH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif
// With sluice's CUDA kernels too: device normalization is one fused kernel (cuda_preprocess.h)
// on the replica's stream instead of four torch operators.
#if defined(SLUICE_TORCH_CUDA) && defined(SLUICE_FUSED_NORMALIZE)
#include "sluice/cuda_preprocess.h"
#endif
// libtorch >= 2.6 loads AOTInductor packages (.pt2 from torch._inductor.aoti_compile_and_package).
#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#define SLUICE_HAVE_AOTI 1
#endif

#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
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

/// What to add to a model's error when bfloat16 ran on a CPU that cannot: oneDNN's bfloat16
/// operators need AVX-512 (on an AVX2 CPU they fail with "could not create a primitive
/// descriptor iterator").
std::string BFloat16CpuHint(torch::ScalarType compute, const torch::Device& device) {
#if defined(__x86_64__)
  if (compute == torch::kBFloat16 && device.is_cpu() && !__builtin_cpu_supports("avx512f")) {
    return " (bfloat16 on a CPU needs AVX-512, which this CPU lacks: use model.dtype float32 or auto)";
  }
#endif
  return "";
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

/// Runs the model: a TorchScript module or an AOTInductor package.
using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

class TorchModel : public Model {
 public:
  TorchModel(Forward forward, ModelOptions options, torch::Device device)
      : forward_(std::move(forward)), o_(std::move(options)), device_(device), device_name_(device.str()) {
    if (o_.device_normalize) {
      // (x / 255 - mean) / std = x * scale + shift, per channel, computed in float32.
      std::vector<float> scale(3), shift(3);
      for (int c = 0; c < 3; ++c) {
        scale[static_cast<size_t>(c)] = 1.0f / (255.0f * o_.std[static_cast<size_t>(c)]);
        shift[static_cast<size_t>(c)] = -o_.mean[static_cast<size_t>(c)] / o_.std[static_cast<size_t>(c)];
      }
      scale_ = torch::tensor(scale).view({1, 3, 1, 1}).to(device_);
      shift_ = torch::tensor(shift).view({1, 3, 1, 1}).to(device_);
    }
#ifdef SLUICE_TORCH_CUDA
    if (device_.is_cuda()) stream_.emplace(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_.index()));
#endif
  }

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
#ifdef SLUICE_TORCH_CUDA
      std::optional<c10::cuda::CUDAStreamGuard> on_stream;
      if (stream_) on_stream.emplace(*stream_);
#endif
      // A view of the column's bytes (no copy).
      torch::Tensor x = torch::from_blob(const_cast<uint8_t*>(input.RowData(0)), input.TensorShape(), torch::TensorOptions().dtype(in_type));
      ASSIGN_OR_RETURN(x, ToDevice(x, input.memory_kind() == MemoryKind::kPinnedHost, where));
      if (o_.device_normalize) {
        if (x.scalar_type() != torch::kUInt8 || x.dim() != 4 || x.size(3) != 3) {
          return Status::InvalidArgument(where + ": device normalization takes uint8 [N, H, W, 3] crops, got " + ShapeText(x));
        }
#if defined(SLUICE_TORCH_CUDA) && defined(SLUICE_FUSED_NORMALIZE)
        if (device_.is_cuda()) {
          ASSIGN_OR_RETURN(x, FusedNormalize(x, compute_type, where));
        } else  // NOLINT(readability/braces)
#endif
        {
          // NHWC bytes seen as NCHW are already channels_last; the arithmetic runs in float32.
          x = x.permute({0, 3, 1, 2}).to(torch::kFloat).mul_(scale_).add_(shift_).to(compute_type);
          x = x.contiguous(o_.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
        }
      } else {
        x = x.to(compute_type);
        if (o_.channels_last && x.dim() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      }
      torch::Tensor y;
      const auto rejected = [&](const std::string& what) {
        return Status::InvalidArgument(where + " rejected input " + ShapeText(x) + ": " + Summary(what) + BFloat16CpuHint(compute_type, device_));
      };
      try {
        y = forward_(x);
      } catch (const c10::Error& e) {
        return rejected(e.what_without_backtrace());
      } catch (const std::exception& e) {  // the interpreter rethrows operator errors as runtime_error
        return rejected(e.what());
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
  /// The input on the model's device. A CUDA device gets it through a reused pinned staging
  /// buffer, copied asynchronously on the replica's stream.
  Result<torch::Tensor> ToDevice(const torch::Tensor& x, bool pinned, const std::string& where) {
    if (!device_.is_cuda()) return x.device() == device_ ? x : x.to(device_);
    if (pinned) return x.to(device_, /*non_blocking=*/true);
    if (!staging_.defined() || staging_.numel() < x.numel() || staging_.scalar_type() != x.scalar_type()) {
      staging_ = torch::empty({x.numel()}, torch::TensorOptions().dtype(x.scalar_type()).pinned_memory(true));
    }
    // The previous batch's copy out of staging_ finished: Run ends by reading results back.
    torch::Tensor view = staging_.narrow(0, 0, x.numel()).view(x.sizes());
    view.copy_(x);
    return view.to(device_, /*non_blocking=*/true);
  }

#if defined(SLUICE_TORCH_CUDA) && defined(SLUICE_FUSED_NORMALIZE)
  /// uint8 NHWC on the device -> the model's input, by sluice's fused kernel on this replica's
  /// stream (bit-exact with the CPU Preprocessor).
  Result<torch::Tensor> FusedNormalize(const torch::Tensor& u8, torch::ScalarType compute_type, const std::string& where) {
    NormalizeSpec spec;
    spec.batch = u8.size(0);
    spec.height = u8.size(1);
    spec.width = u8.size(2);
    spec.channels = 3;
    spec.mean.assign(o_.mean.begin(), o_.mean.end());
    spec.std.assign(o_.std.begin(), o_.std.end());
    spec.layout = o_.channels_last ? Layout::kNHWC : Layout::kNCHW;
    spec.dtype = o_.dtype;
    torch::Tensor out = torch::empty(spec.OutputShape(), torch::TensorOptions().dtype(compute_type).device(device_));
    torch::Tensor in = u8.contiguous();
    void* stream = stream_ ? static_cast<void*>(stream_->stream()) : nullptr;
    Status st = LaunchNormalize(spec, in.data_ptr<uint8_t>(), out.data_ptr(), stream);
    if (!st.ok()) return st.WithContext(where);
    return o_.channels_last ? out.permute({0, 3, 1, 2}) : out;  // NHWC memory seen as NCHW = channels_last
  }
#endif

  Forward forward_;
  ModelOptions o_;
  torch::Device device_;
  std::string device_name_;
  torch::Tensor scale_, shift_;  // device normalization, [1, 3, 1, 1] float32
  torch::Tensor staging_;        // pinned host memory for uploads (CUDA)
#ifdef SLUICE_TORCH_CUDA
  std::optional<c10::cuda::CUDAStream> stream_;
#endif
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
      // cuDNN tries its algorithms on the first run of each shape and keeps the fastest.
      if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
      if (o.uri.size() > 4 && o.uri.compare(o.uri.size() - 4, 4, ".pt2") == 0) return LoadPackage(o, device, where);
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
      Forward forward = [m](const torch::Tensor& x) mutable { return m.forward({x}).toTensor(); };
      return std::unique_ptr<Model>(new TorchModel(std::move(forward), o, device));
    } catch (const c10::Error& e) {
      return Status::InvalidArgument(where + ": " + FirstLine(e.what_without_backtrace()));
    }
  }

 private:
  /// An AOTInductor package: compiled for its device and dtype when it was exported.
  static Result<std::unique_ptr<Model>> LoadPackage(const ModelOptions& o, torch::Device device, const std::string& where) {
#ifdef SLUICE_HAVE_AOTI
    std::ifstream probe(o.uri);
    if (!probe) return Status::NotFound(where + ": cannot open the model package");
    std::shared_ptr<torch::inductor::AOTIModelPackageLoader> loader;
    try {
      loader = std::make_shared<torch::inductor::AOTIModelPackageLoader>(o.uri);
    } catch (const std::exception& e) {
      return Status::InvalidData(where + ": not an AOTInductor package (" + FirstLine(e.what()) + ")");
    }
    Forward forward = [loader](const torch::Tensor& x) { return loader->run({x}).at(0); };
    return std::unique_ptr<Model>(new TorchModel(std::move(forward), o, device));
#else
    (void)device;
    return Status::Unimplemented(where + ": .pt2 (AOTInductor) packages need sluice built against libtorch >= 2.6 (this one is " +
                                 std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + ")");
#endif
  }
};

}  // namespace

std::shared_ptr<InferenceBackend> MakeTorchBackend() { return std::make_shared<TorchBackend>(); }

}  // namespace sluice
