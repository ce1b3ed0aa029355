// The CPU reference of the normalize kernel, and the per-value math both share. Plain C++: it
// is what the GPU results are compared with, so it must not depend on CUDA.
#include <bit>
#include <cstring>

#include "sluice/cuda_preprocess.h"
#include "sluice/float16.h"

namespace sluice {

uint32_t NormalizedBits(const NormalizeSpec& spec, int channel, uint8_t v) {
  // torchvision (and the CPU Preprocessor's table): ToTensor divides by 255 in float32, then
  // Normalize subtracts and divides, each step rounded to float32. Not (x - m) * (1 / s): that
  // differs in the last bit for some values.
  const float x = static_cast<float>(v) / 255.0f;
  const float y = (x - spec.mean[static_cast<size_t>(channel)]) / spec.std[static_cast<size_t>(channel)];
  switch (spec.dtype) {
    case DType::kFloat16: return FloatToHalf(y);
    case DType::kBFloat16: return FloatToBFloat16(y);
    default: return std::bit_cast<uint32_t>(y);
  }
}

Status NormalizeReference(const NormalizeSpec& spec, const uint8_t* input, void* output) {
  RETURN_IF_ERROR(spec.Validate());
  if (spec.batch == 0) return Status::OK();
  if (input == nullptr || output == nullptr) return Status::InvalidArgument("normalize reference: null input or output");
  const auto in_begin = reinterpret_cast<uintptr_t>(input), out_begin = reinterpret_cast<uintptr_t>(output);
  if (in_begin < out_begin + static_cast<uintptr_t>(spec.output_bytes()) && out_begin < in_begin + static_cast<uintptr_t>(spec.input_bytes())) {
    return Status::InvalidArgument("normalize reference: input and output overlap");
  }
  const int64_t pixels = spec.height * spec.width, channels = spec.channels;
  const bool nchw = spec.layout == Layout::kNCHW;
  const size_t size = static_cast<size_t>(DTypeSize(spec.dtype));
  auto* out = static_cast<uint8_t*>(output);
  for (int64_t n = 0; n < spec.batch; ++n) {
    for (int64_t p = 0; p < pixels; ++p) {
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t in_index = (n * pixels + p) * channels + c;
        const int64_t out_index = nchw ? (n * channels + c) * pixels + p : in_index;
        const uint32_t bits = NormalizedBits(spec, static_cast<int>(c), input[in_index]);
        const uint16_t low = static_cast<uint16_t>(bits);
        // memcpy: the caller's buffer need not be aligned for the element type (x86 is little-endian, as the GPU).
        std::memcpy(out + static_cast<size_t>(out_index) * size, size == 4 ? static_cast<const void*>(&bits) : &low, size);
      }
    }
  }
  return Status::OK();
}

}  // namespace sluice
