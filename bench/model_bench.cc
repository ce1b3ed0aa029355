// Model-only throughput: the torch backend running random [B, 3, 224, 224] float32 batches.
//   model_bench --model=PATH --batch=B [--images=N] [--threads=T] [--optimize=1] [--dtype=float32]
//               [--device=cpu|cuda|cuda:N] [--channels_last=0|1]
// The input stays float32 in host memory (pageable) and is copied to the device every run, as
// the torch backend's Run does for a host column.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "bench_args.h"
#include "sluice/inference.h"

using namespace sluice;

int main(int argc, char** argv) {
  ModelOptions o;
  o.uri = bench::StringArg(argc, argv, "model", "");
  o.optimize = bench::StringArg(argc, argv, "optimize", "1") == std::string("1");
  o.intra_op_threads = std::stoi(bench::StringArg(argc, argv, "threads", "0"));
  o.device = bench::StringArg(argc, argv, "device", "cpu");
  o.channels_last = bench::StringArg(argc, argv, "channels_last", "0") == std::string("1");
  auto dtype = ParseDType(bench::StringArg(argc, argv, "dtype", "float32"));
  if (!dtype.ok()) return std::fprintf(stderr, "%s\n", dtype.status().ToString().c_str()), 1;
  o.dtype = *dtype;
  const int64_t batch = std::stoll(bench::StringArg(argc, argv, "batch", "32"));
  const int64_t images = std::max<int64_t>(batch, std::stoll(bench::StringArg(argc, argv, "images", "128")));
  auto backend = GetBackend("torch");
  if (!backend.ok()) return std::fprintf(stderr, "%s\n", backend.status().ToString().c_str()), 1;
  auto model = (*backend)->Load(o);
  if (!model.ok()) return std::fprintf(stderr, "%s\n", model.status().ToString().c_str()), 1;
  auto input = Column::Allocate(DataType::Tensor(DType::kFloat32, {3, 224, 224}), batch).value();
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  auto* p = reinterpret_cast<float*>(input.MutableRowData(0));
  for (int64_t i = 0; i < batch * 3 * 224 * 224; ++i) p[i] = normal(rng);
  // Two warm-ups: TorchScript's profiling executor records the first run and optimizes the
  // graph during the second, so timing from the second would count that compile.
  for (int i = 0; i < 2; ++i) {
    if (!(*model)->Run(input).ok()) return 1;
  }
  const int64_t runs = (images + batch - 1) / batch;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < runs; ++r) {
    auto out = (*model)->Run(input);
    if (!out.ok()) return std::fprintf(stderr, "%s\n", out.status().ToString().c_str()), 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sluice_model model=%s device=%s dtype=%s batch=%lld images=%lld optimize=%d seconds=%.3f images_per_s=%.2f\n",
              o.uri.c_str(), o.device.c_str(), std::string(DTypeName(o.dtype)).c_str(), static_cast<long long>(batch),
              static_cast<long long>(runs * batch), o.optimize ? 1 : 0, s, runs * batch / s);
  return 0;
}
