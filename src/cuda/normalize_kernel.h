#pragma once
/// The normalize kernel's launch interface: plain C++ with no sluice or CUDA headers, so the
/// .cu file that implements it compiles only kernel code under nvcc.
///
/// Threading: LaunchNormalizeKernel may be called from any thread; arguments are copied into
/// the launch.

#include <cstdint>

namespace sluice::gpu {

constexpr int kNormalizeMaxChannels = 4;
constexpr int kNormalizeThreads = 256;  // per block
/// CUDA's limit on gridDim.y; larger batches loop over images inside the kernel.
constexpr int64_t kMaxGridY = 65535;

/// Which kernel runs. The vectorized ones move 4 output elements per store (16 bytes of
/// float32, 8 of 16-bit types) and 4 input bytes per load; they need 4-element groups that
/// stay inside one output plane and aligned pointers, else the scalar ones run.
enum class NormalizeVariant {
  kNchwVec3,    // NCHW, C == 3: 4 pixels per step, read as 3 words, 3 vector stores (one per plane)
  kNchwScalar,  // NCHW, any C: 1 pixel per step, C scalar stores
  kNhwcVec4,    // NHWC: 4 elements per step (same order in and out)
  kNhwcScalar,  // NHWC: 1 element per step
};

/// Passed by value as the kernel's parameter (4 KiB of table: CUDA >= 12.1 on Volta or newer
/// allows up to 32 KiB of parameters), so each launch carries its own table and launches on
/// different streams with different specs cannot interfere.
struct NormalizeKernelArgs {
  const uint8_t* input = nullptr;   // N x H x W x C uint8
  void* output = nullptr;           // N x C x H x W or N x H x W x C elements of 2 or 4 bytes
  int64_t batch = 0;
  uint32_t pixels = 0;              // H * W
  uint32_t channels = 0;            // C
  uint32_t table[kNormalizeMaxChannels * 256] = {};  // [c * 256 + v]: output bits
};

struct NormalizeLaunchPlan {
  NormalizeVariant variant = NormalizeVariant::kNchwScalar;
  int element_bytes = 4;            // 4 (float32) or 2 (float16, bfloat16)
  uint32_t grid_x = 1, grid_y = 1;  // blocks per image (strided loop inside), images (strided loop)
};

/// Enqueues the kernel; returns the launch's cudaError_t as an int (0 = success).
int LaunchNormalizeKernel(const NormalizeLaunchPlan& plan, const NormalizeKernelArgs& args, void* stream);

}  // namespace sluice::gpu
