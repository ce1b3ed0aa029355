// GPU normalize kernel throughput, and host -> device copies of a batch from pinned memory as
// uint8 (what sluice sends) vs float32 (what a CPU-normalizing pipeline sends).
//   cuda_normalize_bench [--batch=1000] [--height=224] [--width=224] [--repeat=50]
// Prints one line per configuration: kernel time (median of `repeat`, CUDA events), images/s
// and achieved bandwidth counting the input read once and the output written once.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "bench_args.h"
#include "sluice/cuda_preprocess.h"
#include "sluice/pinned_buffer_pool.h"

using namespace sluice;

#define CHECK_CUDA(call)                                                                           \
  do {                                                                                             \
    const cudaError_t e_ = (call);                                                                 \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

namespace {

/// Median milliseconds of `repeat` runs of `fn` on `stream`, timed with events after a warm-up.
template <typename Fn>
double MedianMs(cudaStream_t stream, int repeat, Fn fn) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  fn();
  cudaStreamSynchronize(stream);
  std::vector<float> ms;
  for (int r = 0; r < repeat; ++r) {
    cudaEventRecord(start, stream);
    fn();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float t = 0;
    cudaEventElapsedTime(&t, start, stop);
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = bench::IntArg(argc, argv, "batch", 1000);
  const int64_t height = bench::IntArg(argc, argv, "height", 224), width = bench::IntArg(argc, argv, "width", 224);
  const int repeat = static_cast<int>(bench::IntArg(argc, argv, "repeat", 50));
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("# device=%s sms=%d batch=%lld image=%lldx%lldx3\n", prop.name, prop.multiProcessorCount,
              static_cast<long long>(batch), static_cast<long long>(height), static_cast<long long>(width));

  NormalizeSpec spec;
  spec.batch = batch;
  spec.height = height;
  spec.width = width;
  const int64_t in_bytes = spec.input_bytes(), max_out_bytes = spec.elements() * 4;
  PinnedBufferPoolOptions pool_options;
  pool_options.buffer_bytes = max_out_bytes;
  auto pool = PinnedBufferPool::Make(pool_options);
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;
  auto staging = (*pool)->Acquire();
  if (!staging.ok()) return std::fprintf(stderr, "%s\n", staging.status().ToString().c_str()), 1;
  uint8_t* host = (*staging)->data();
  std::mt19937 rng(1);
  for (int64_t i = 0; i < in_bytes; ++i) host[i] = static_cast<uint8_t>(rng());  // never time zeros

  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  uint8_t *d_in = nullptr, *d_out = nullptr;
  CHECK_CUDA(cudaMalloc(&d_in, static_cast<size_t>(in_bytes)));
  CHECK_CUDA(cudaMalloc(&d_out, static_cast<size_t>(max_out_bytes)));
  CHECK_CUDA(cudaMemcpy(d_in, host, static_cast<size_t>(in_bytes), cudaMemcpyHostToDevice));

  for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
    for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
      spec.layout = layout;
      spec.dtype = dtype;
      Status launch;
      const double ms = MedianMs(stream, repeat, [&] { launch = LaunchNormalize(spec, d_in, d_out, stream); });
      if (!launch.ok()) return std::fprintf(stderr, "%s\n", launch.ToString().c_str()), 1;
      CHECK_CUDA(cudaStreamSynchronize(stream));
      // Spot check: the first image against the CPU reference (the tests check everything).
      NormalizeSpec one = spec;
      one.batch = 1;
      std::vector<uint8_t> want(static_cast<size_t>(one.output_bytes())), got(want.size());
      (void)NormalizeReference(one, host, want.data());
      CHECK_CUDA(cudaMemcpy(got.data(), d_out, got.size(), cudaMemcpyDeviceToHost));
      const bool same = got == want;
      const double bytes = static_cast<double>(in_bytes + spec.output_bytes());
      std::printf("cuda_normalize layout=%s dtype=%s batch=%lld ms=%.4f images_per_s=%.0f gb_per_s=%.1f matches_reference=%d\n",
                  layout == Layout::kNCHW ? "nchw" : "nhwc", std::string(DTypeName(dtype)).c_str(), static_cast<long long>(batch), ms,
                  static_cast<double>(batch) / (ms / 1e3), bytes / (ms / 1e3) / 1e9, same ? 1 : 0);
    }
  }
  for (int64_t bytes : {in_bytes, max_out_bytes}) {
    const double ms = MedianMs(stream, repeat, [&] { cudaMemcpyAsync(d_out, host, static_cast<size_t>(bytes), cudaMemcpyHostToDevice, stream); });
    CHECK_CUDA(cudaGetLastError());
    std::printf("h2d_pinned what=%s bytes=%lld ms=%.3f gb_per_s=%.1f images_per_s=%.0f\n", bytes == in_bytes ? "uint8_batch" : "float32_batch",
                static_cast<long long>(bytes), ms, static_cast<double>(bytes) / (ms / 1e3) / 1e9, static_cast<double>(batch) / (ms / 1e3));
  }
  CHECK_CUDA(cudaFree(d_in));
  CHECK_CUDA(cudaFree(d_out));
  CHECK_CUDA(cudaStreamDestroy(stream));
  return 0;
}
