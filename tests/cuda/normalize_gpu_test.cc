// GPU part (label `gpu`): the normalize kernel against the CPU reference, bit for bit, for every
// kernel variant, dtype and layout, and real pinned memory from the pool. Skips without a device.
#include <cuda_runtime.h>  // (not _api.h: the typed cudaMalloc overloads)
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "normalize_plan.h"
#include "sluice/cuda_device.h"
#include "sluice/cuda_preprocess.h"
#include "sluice/pinned_buffer_pool.h"

namespace sluice {
namespace {

#define ASSERT_CUDA(call)                                                                     \
  do {                                                                                        \
    const cudaError_t _e = (call);                                                            \
    ASSERT_EQ(_e, cudaSuccess) << #call << ": " << cudaGetErrorName(_e) << " " << cudaGetErrorString(_e); \
  } while (0)

class NormalizeGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<int> devices = CudaDeviceCount();
    ASSERT_TRUE(devices.ok()) << devices.status().ToString();
    if (*devices == 0) GTEST_SKIP() << "no CUDA device";
    ASSERT_CUDA(cudaSetDevice(0));
    ASSERT_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  void TearDown() override {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  /// Runs the kernel on fresh random input with the output poisoned (0xff bytes: NaN in every
  /// float format) at byte offsets `in_offset` / `out_offset` into the device allocations (to
  /// reach the unaligned variants), and compares all output bytes with the reference.
  void Check(const NormalizeSpec& spec, gpu::NormalizeVariant expected, size_t in_offset = 0, size_t out_offset = 0) {
    SCOPED_TRACE(std::string(DTypeName(spec.dtype)) + (spec.layout == Layout::kNCHW ? " NCHW " : " NHWC ") +
                 std::to_string(spec.batch) + "x" + std::to_string(spec.height) + "x" + std::to_string(spec.width) + "x" +
                 std::to_string(spec.channels));
    const size_t in_bytes = static_cast<size_t>(spec.input_bytes()), out_bytes = static_cast<size_t>(spec.output_bytes());
    std::vector<uint8_t> in(in_bytes);
    for (auto& b : in) b = static_cast<uint8_t>(rng_() & 0xff);
    std::vector<uint8_t> want(out_bytes);
    ASSERT_TRUE(NormalizeReference(spec, in.data(), want.data()).ok());

    uint8_t *d_in = nullptr, *d_out = nullptr;
    ASSERT_CUDA(cudaMalloc(&d_in, in_bytes + in_offset));
    ASSERT_CUDA(cudaMalloc(&d_out, out_bytes + out_offset));
    ASSERT_CUDA(cudaMemcpy(d_in + in_offset, in.data(), in_bytes, cudaMemcpyHostToDevice));
    ASSERT_CUDA(cudaMemset(d_out, 0xff, out_bytes + out_offset));
    EXPECT_EQ(gpu::PlanNormalizeLaunch(spec, reinterpret_cast<uintptr_t>(d_in + in_offset), reinterpret_cast<uintptr_t>(d_out + out_offset), 132).variant,
              expected);
    const Status st = LaunchNormalize(spec, d_in + in_offset, d_out + out_offset, stream_);
    EXPECT_TRUE(st.ok()) << st.ToString();
    ASSERT_CUDA(cudaStreamSynchronize(stream_));
    std::vector<uint8_t> got(out_bytes);
    ASSERT_CUDA(cudaMemcpy(got.data(), d_out + out_offset, out_bytes, cudaMemcpyDeviceToHost));
    ASSERT_CUDA(cudaFree(d_in));
    ASSERT_CUDA(cudaFree(d_out));
    size_t first_diff = out_bytes;
    for (size_t i = 0; i < out_bytes && first_diff == out_bytes; ++i) {
      if (got[i] != want[i]) first_diff = i;
    }
    EXPECT_EQ(first_diff, out_bytes) << "first differing output byte " << first_diff << " of " << out_bytes;
  }

  NormalizeSpec Spec(int64_t n, int64_t h, int64_t w, int c, Layout layout, DType dtype) {
    NormalizeSpec s;
    s.batch = n;
    s.height = h;
    s.width = w;
    s.channels = c;
    s.layout = layout;
    s.dtype = dtype;
    std::uniform_real_distribution<float> mean(-1.0f, 1.0f), std(0.05f, 2.0f);
    s.mean.clear();
    s.std.clear();
    for (int i = 0; i < c; ++i) {
      s.mean.push_back(mean(rng_));
      s.std.push_back(std(rng_));
    }
    return s;
  }

  cudaStream_t stream_ = nullptr;
  std::mt19937 rng_{std::random_device{}()};  // fresh inputs every run
};

using gpu::NormalizeVariant;
constexpr DType kDtypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

TEST_F(NormalizeGpuTest, NchwVectorized) {
  for (DType d : kDtypes) Check(Spec(64, 224, 224, 3, Layout::kNCHW, d), NormalizeVariant::kNchwVec3);
}

TEST_F(NormalizeGpuTest, NchwScalarForOddSizesChannelsAndAlignment) {
  for (DType d : kDtypes) {
    Check(Spec(5, 7, 9, 3, Layout::kNCHW, d), NormalizeVariant::kNchwScalar);
    Check(Spec(3, 16, 16, 1, Layout::kNCHW, d), NormalizeVariant::kNchwScalar);
    Check(Spec(3, 16, 16, 4, Layout::kNCHW, d), NormalizeVariant::kNchwScalar);
    Check(Spec(4, 32, 32, 3, Layout::kNCHW, d), NormalizeVariant::kNchwScalar, /*in_offset=*/1, /*out_offset=*/0);
    Check(Spec(4, 32, 32, 3, Layout::kNCHW, d), NormalizeVariant::kNchwScalar, 0, /*out_offset=*/2);
  }
}

TEST_F(NormalizeGpuTest, Nhwc) {
  for (DType d : kDtypes) {
    Check(Spec(64, 224, 224, 3, Layout::kNHWC, d), NormalizeVariant::kNhwcVec4);
    Check(Spec(3, 5, 7, 3, Layout::kNHWC, d), NormalizeVariant::kNhwcScalar);
    Check(Spec(3, 5, 7, 4, Layout::kNHWC, d), NormalizeVariant::kNhwcVec4);
    Check(Spec(4, 32, 32, 3, Layout::kNHWC, d), NormalizeVariant::kNhwcScalar, 3, 0);
  }
}

TEST_F(NormalizeGpuTest, MoreImagesThanGridRows) {
  Check(Spec(70000, 4, 4, 3, Layout::kNCHW, DType::kFloat16), NormalizeVariant::kNchwVec3);
  Check(Spec(70000, 2, 3, 3, Layout::kNHWC, DType::kFloat32), NormalizeVariant::kNhwcScalar);
}

TEST_F(NormalizeGpuTest, RefusesPageableHostMemory) {
  const NormalizeSpec s = Spec(2, 8, 8, 3, Layout::kNCHW, DType::kFloat32);
  std::vector<uint8_t> host_in(static_cast<size_t>(s.input_bytes()));
  void* d_out = nullptr;
  ASSERT_CUDA(cudaMalloc(&d_out, static_cast<size_t>(s.output_bytes())));
  const Status st = LaunchNormalize(s, host_in.data(), d_out, stream_);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("pageable host memory"), std::string::npos) << st.ToString();
  ASSERT_CUDA(cudaFree(d_out));
}

TEST_F(NormalizeGpuTest, PinnedPoolFeedsTheKernel) {
  // The intended path: uint8 crops in a pooled pinned buffer, async copy, kernel, same stream.
  const NormalizeSpec s = Spec(16, 224, 224, 3, Layout::kNCHW, DType::kBFloat16);
  PinnedBufferPoolOptions o;
  o.buffer_bytes = s.input_bytes();
  o.max_buffers = 2;
  auto pool = PinnedBufferPool::Make(o).value();
  uint8_t* first = nullptr;
  uint8_t *d_in = nullptr, *d_out = nullptr;
  ASSERT_CUDA(cudaMalloc(&d_in, static_cast<size_t>(s.input_bytes())));
  ASSERT_CUDA(cudaMalloc(&d_out, static_cast<size_t>(s.output_bytes())));
  for (int round = 0; round < 3; ++round) {
    Result<std::shared_ptr<Buffer>> staging = pool->Acquire();
    ASSERT_TRUE(staging.ok()) << staging.status().ToString();
    if (round == 0) first = (*staging)->data();
    EXPECT_EQ((*staging)->data(), first) << "a released buffer is reused";
    cudaPointerAttributes attributes{};
    ASSERT_CUDA(cudaPointerGetAttributes(&attributes, (*staging)->data()));
    EXPECT_EQ(attributes.type, cudaMemoryTypeHost);  // page-locked
    for (int64_t i = 0; i < s.input_bytes(); ++i) (*staging)->data()[i] = static_cast<uint8_t>(rng_());
    std::vector<uint8_t> want(static_cast<size_t>(s.output_bytes())), got(want.size());
    ASSERT_TRUE(NormalizeReference(s, (*staging)->data(), want.data()).ok());
    ASSERT_CUDA(cudaMemcpyAsync(d_in, (*staging)->data(), static_cast<size_t>(s.input_bytes()), cudaMemcpyHostToDevice, stream_));
    const Status st = LaunchNormalize(s, d_in, d_out, stream_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_CUDA(cudaMemcpyAsync(got.data(), d_out, got.size(), cudaMemcpyDeviceToHost, stream_));
    ASSERT_CUDA(cudaStreamSynchronize(stream_));
    EXPECT_EQ(got, want);
  }
  const PinnedPoolStats stats = pool->stats();
  EXPECT_EQ(stats.allocations, 1);
  EXPECT_EQ(stats.reuses, 2);
  EXPECT_EQ(stats.bytes_held, s.input_bytes());
  ASSERT_CUDA(cudaFree(d_in));
  ASSERT_CUDA(cudaFree(d_out));
}

TEST_F(NormalizeGpuTest, DefaultStreamWorksToo) {
  const NormalizeSpec s = Spec(2, 16, 16, 3, Layout::kNHWC, DType::kFloat32);
  std::vector<uint8_t> in(static_cast<size_t>(s.input_bytes()));
  for (auto& b : in) b = static_cast<uint8_t>(rng_());
  std::vector<uint8_t> want(static_cast<size_t>(s.output_bytes())), got(want.size());
  ASSERT_TRUE(NormalizeReference(s, in.data(), want.data()).ok());
  uint8_t *d_in = nullptr, *d_out = nullptr;
  ASSERT_CUDA(cudaMalloc(&d_in, in.size()));
  ASSERT_CUDA(cudaMalloc(&d_out, got.size()));
  ASSERT_CUDA(cudaMemcpy(d_in, in.data(), in.size(), cudaMemcpyHostToDevice));
  ASSERT_TRUE(LaunchNormalize(s, d_in, d_out, nullptr).ok());
  ASSERT_CUDA(cudaMemcpy(got.data(), d_out, got.size(), cudaMemcpyDeviceToHost));  // legacy stream: ordered after the kernel
  EXPECT_EQ(got, want);
  ASSERT_CUDA(cudaFree(d_in));
  ASSERT_CUDA(cudaFree(d_out));
}

}  // namespace
}  // namespace sluice
