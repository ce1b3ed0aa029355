// The normalize kernels: uint8 NHWC in, a table gather per element, NCHW or NHWC out.
//
// Memory bound: per element one input byte is read and 2 or 4 output bytes are written, so
// the kernels are built around coalesced, wide accesses. Each block copies the table (the 256
// possible results per channel, computed on the host) into shared memory once, then its
// threads loop over the image(s) it covers. Consecutive threads handle consecutive pixels,
// so every warp store covers one contiguous range of an output plane.
#include <cuda_runtime.h>

#include "normalize_kernel.h"

namespace sluice::gpu {
namespace {

template <typename Out>
struct alignas(4 * sizeof(Out)) Vec4 {
  Out v[4];
};

/// Byte k (0 = lowest address) of a little-endian word.
__device__ __forceinline__ uint32_t ByteOf(uint32_t word, int k) { return (word >> (8 * k)) & 0xffu; }

/// Fills the block's shared table from the launch parameter and waits for all threads.
template <typename Out>
__device__ __forceinline__ void LoadTable(const NormalizeKernelArgs& a, Out* table) {
  for (uint32_t i = threadIdx.x; i < a.channels * 256u; i += blockDim.x) table[i] = static_cast<Out>(a.table[i]);
  __syncthreads();
}

/// NCHW, 3 channels: a step is 4 pixels = 12 input bytes (3 aligned words: r0 g0 b0 r1 | g1 b1
/// r2 g2 | b2 r3 g3 b3) and one 4-element store into each of the 3 planes.
template <typename Out>
__global__ void __launch_bounds__(kNormalizeThreads) NchwVec3(const __grid_constant__ NormalizeKernelArgs a) {
  __shared__ Out table[3 * 256];
  LoadTable(a, table);
  const uint32_t pixels = a.pixels, steps = pixels / 4;
  const Out* r = table;
  const Out* g = table + 256;
  const Out* b = table + 512;
  for (int64_t n = blockIdx.y; n < a.batch; n += gridDim.y) {
    const uint32_t* in = reinterpret_cast<const uint32_t*>(a.input + n * pixels * 3);
    Out* out = static_cast<Out*>(a.output) + n * pixels * 3;
    for (uint32_t s = blockIdx.x * blockDim.x + threadIdx.x; s < steps; s += gridDim.x * blockDim.x) {
      const uint32_t w0 = __ldg(in + 3 * s), w1 = __ldg(in + 3 * s + 1), w2 = __ldg(in + 3 * s + 2);
      const Vec4<Out> vr{{r[ByteOf(w0, 0)], r[ByteOf(w0, 3)], r[ByteOf(w1, 2)], r[ByteOf(w2, 1)]}};
      const Vec4<Out> vg{{g[ByteOf(w0, 1)], g[ByteOf(w1, 0)], g[ByteOf(w1, 3)], g[ByteOf(w2, 2)]}};
      const Vec4<Out> vb{{b[ByteOf(w0, 2)], b[ByteOf(w1, 1)], b[ByteOf(w2, 0)], b[ByteOf(w2, 3)]}};
      reinterpret_cast<Vec4<Out>*>(out)[s] = vr;
      reinterpret_cast<Vec4<Out>*>(out + pixels)[s] = vg;
      reinterpret_cast<Vec4<Out>*>(out + 2 * pixels)[s] = vb;
    }
  }
}

/// NCHW, any channel count and alignment: a step is one pixel, C scalar stores.
template <typename Out>
__global__ void __launch_bounds__(kNormalizeThreads) NchwScalar(const __grid_constant__ NormalizeKernelArgs a) {
  __shared__ Out table[kNormalizeMaxChannels * 256];
  LoadTable(a, table);
  const uint32_t pixels = a.pixels, channels = a.channels;
  for (int64_t n = blockIdx.y; n < a.batch; n += gridDim.y) {
    const uint8_t* in = a.input + n * pixels * channels;
    Out* out = static_cast<Out*>(a.output) + n * pixels * channels;
    for (uint32_t p = blockIdx.x * blockDim.x + threadIdx.x; p < pixels; p += gridDim.x * blockDim.x) {
      for (uint32_t c = 0; c < channels; ++c) out[c * pixels + p] = table[c * 256 + __ldg(in + p * channels + c)];
    }
  }
}

/// NHWC: output order is input order; a step is 4 elements (one word in, one vector store out).
template <typename Out>
__global__ void __launch_bounds__(kNormalizeThreads) NhwcVec4(const __grid_constant__ NormalizeKernelArgs a) {
  __shared__ Out table[kNormalizeMaxChannels * 256];
  LoadTable(a, table);
  const uint32_t channels = a.channels, elements = a.pixels * channels, steps = elements / 4;
  for (int64_t n = blockIdx.y; n < a.batch; n += gridDim.y) {
    const uint32_t* in = reinterpret_cast<const uint32_t*>(a.input + n * elements);
    Vec4<Out>* out = reinterpret_cast<Vec4<Out>*>(static_cast<Out*>(a.output) + n * elements);
    for (uint32_t s = blockIdx.x * blockDim.x + threadIdx.x; s < steps; s += gridDim.x * blockDim.x) {
      const uint32_t w = __ldg(in + s);
      uint32_t c = (4 * s) % channels;
      Vec4<Out> v;
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        v.v[k] = table[c * 256 + ByteOf(w, k)];
        c = c + 1 == channels ? 0 : c + 1;
      }
      out[s] = v;
    }
  }
}

/// NHWC, any size and alignment: a step is one element.
template <typename Out>
__global__ void __launch_bounds__(kNormalizeThreads) NhwcScalar(const __grid_constant__ NormalizeKernelArgs a) {
  __shared__ Out table[kNormalizeMaxChannels * 256];
  LoadTable(a, table);
  const uint32_t channels = a.channels, elements = a.pixels * channels;
  for (int64_t n = blockIdx.y; n < a.batch; n += gridDim.y) {
    const uint8_t* in = a.input + n * elements;
    Out* out = static_cast<Out*>(a.output) + n * elements;
    for (uint32_t e = blockIdx.x * blockDim.x + threadIdx.x; e < elements; e += gridDim.x * blockDim.x) {
      out[e] = table[(e % channels) * 256 + __ldg(in + e)];
    }
  }
}

template <typename Out>
void Launch(NormalizeVariant variant, dim3 grid, cudaStream_t stream, const NormalizeKernelArgs& args) {
  switch (variant) {
    case NormalizeVariant::kNchwVec3: NchwVec3<Out><<<grid, kNormalizeThreads, 0, stream>>>(args); break;
    case NormalizeVariant::kNchwScalar: NchwScalar<Out><<<grid, kNormalizeThreads, 0, stream>>>(args); break;
    case NormalizeVariant::kNhwcVec4: NhwcVec4<Out><<<grid, kNormalizeThreads, 0, stream>>>(args); break;
    case NormalizeVariant::kNhwcScalar: NhwcScalar<Out><<<grid, kNormalizeThreads, 0, stream>>>(args); break;
  }
}

}  // namespace

int LaunchNormalizeKernel(const NormalizeLaunchPlan& plan, const NormalizeKernelArgs& args, void* stream) {
  // Clear an error left by an earlier, unrelated runtime call so that the check below reports
  // this launch's own error (all of sluice's calls check their results where they happen).
  (void)cudaGetLastError();
  const dim3 grid(plan.grid_x, plan.grid_y);
  const auto s = static_cast<cudaStream_t>(stream);
  if (plan.element_bytes == 4) {
    Launch<uint32_t>(plan.variant, grid, s, args);
  } else {
    Launch<uint16_t>(plan.variant, grid, s, args);
  }
  return static_cast<int>(cudaGetLastError());
}

}  // namespace sluice::gpu
