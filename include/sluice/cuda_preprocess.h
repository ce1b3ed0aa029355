#pragma once
/// Normalization of uint8 images on the GPU: the last step of image preprocessing (ToTensor +
/// Normalize) moved to the device, so the CPU side sends uint8 crops (4x fewer bytes than
/// float32) and no float image ever exists in host memory.
///
/// Input: a batch of uint8 HWC images, N x H x W x C, contiguous, already decoded, resized and
/// cropped on the host (PreprocessSpec with dtype uint8 and layout NHWC produces exactly this).
/// Output: (x / 255 - mean[c]) / std[c], computed in float32 exactly as torchvision and the CPU
/// Preprocessor compute it, stored as float32, float16 or bfloat16 (round to nearest even), in
/// NCHW or NHWC (channels-last) layout. GPU, CPU reference and CPU Preprocessor agree bit for
/// bit: the kernel gathers from a per-channel table of the 256 possible results, which the host
/// builds with NormalizedBits.
///
/// Only builds with SLUICE_WITH_CUDA have these functions (library sluice_cuda). This header
/// needs no CUDA headers: streams are passed as `void*` (a cudaStream_t; nullptr = the legacy
/// default stream).
///
/// Threading: NormalizeSpec is a value. The functions are thread-safe; LaunchNormalize may be
/// called from any thread for any stream (each launch carries its own table, nothing global).

#include <cstdint>
#include <vector>

#include "sluice/data_type.h"
#include "sluice/image.h"
#include "sluice/status.h"

namespace sluice {

struct NormalizeSpec {
  /// Channels per pixel the kernel supports (gray, RGB, RGBA).
  static constexpr int kMaxChannels = 4;

  int64_t batch = 0;                   // N (0 is a valid empty batch)
  int64_t height = 0, width = 0;       // H, W of every image
  int channels = 3;                    // C, 1..kMaxChannels
  std::vector<float> mean{0.485f, 0.456f, 0.406f};  // one per channel
  std::vector<float> std{0.229f, 0.224f, 0.225f};   // one per channel, finite and > 0
  Layout layout = Layout::kNCHW;       // of the output; the input is always NHWC
  DType dtype = DType::kFloat32;       // of the output: float32 | float16 | bfloat16

  /// The GPU half of `target`: `target` describes the tensor the model wants (its crop size,
  /// mean/std or no normalization, layout, float dtype); the CPU half runs `target` with dtype
  /// uint8 and layout NHWC and produces this spec's input.
  static Result<NormalizeSpec> FromPreprocessSpec(const PreprocessSpec& target, int64_t batch);

  /// InvalidArgument naming the field, the expected and the given value. Also refuses sizes
  /// whose byte counts overflow int64, and images of 2^31 or more elements (the kernel indexes
  /// within an image in 32 bits, which is what keeps its index arithmetic cheap).
  Status Validate() const;
  /// N*H*W*C: elements (= bytes) of the input, and elements of the output.
  int64_t elements() const { return batch * height * width * channels; }
  int64_t input_bytes() const { return elements(); }
  int64_t output_bytes() const { return elements() * DTypeSize(dtype); }
  /// [N, H, W, C]
  std::vector<int64_t> InputShape() const;
  /// [N, C, H, W] (NCHW) or [N, H, W, C] (NHWC)
  std::vector<int64_t> OutputShape() const;
};

/// What input value `v` of channel `channel` becomes: the bits of the output element (float32
/// bits, or float16/bfloat16 bits in the low 16). `spec` must be valid. The kernel's table is
/// made of these values, so this function is the definition of the result.
uint32_t NormalizedBits(const NormalizeSpec& spec, int channel, uint8_t v);

/// The CPU reference: writes spec.output_bytes() to `output` from spec.input_bytes() of
/// `input` (both host memory, not overlapping). What the GPU kernel must reproduce bit for bit.
Status NormalizeReference(const NormalizeSpec& spec, const uint8_t* input, void* output);

/// Enqueues the kernel on `stream` and returns without waiting. `input` and `output` must be
/// memory the current device can address (device, managed, or pinned host memory), not
/// overlapping, and stay valid until the stream has run the kernel. Errors: InvalidArgument for
/// a bad spec or pointer (pageable host memory, overlap), else the CUDA launch error; faults
/// during execution surface at the next synchronization of the stream.
Status LaunchNormalize(const NormalizeSpec& spec, const uint8_t* input, void* output, void* stream);

}  // namespace sluice
