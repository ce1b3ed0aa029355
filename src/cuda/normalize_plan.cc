#include "normalize_plan.h"

#include <algorithm>

namespace sluice::gpu {

NormalizeLaunchPlan PlanNormalizeLaunch(const NormalizeSpec& spec, uintptr_t input, uintptr_t output, int sm_count) {
  NormalizeLaunchPlan plan;
  plan.element_bytes = static_cast<int>(DTypeSize(spec.dtype));
  const int64_t pixels = spec.height * spec.width;
  const bool nchw = spec.layout == Layout::kNCHW;
  // Per image: NCHW steps over pixels (all channels of a pixel at once), NHWC over elements.
  const int64_t units = nchw ? pixels : pixels * spec.channels;
  const bool aligned = input % 4 == 0 && output % (4 * static_cast<uintptr_t>(plan.element_bytes)) == 0;
  bool vec;
  if (nchw) {
    vec = aligned && spec.channels == 3 && pixels % 4 == 0;
    plan.variant = vec ? NormalizeVariant::kNchwVec3 : NormalizeVariant::kNchwScalar;
  } else {
    vec = aligned && units % 4 == 0;
    plan.variant = vec ? NormalizeVariant::kNhwcVec4 : NormalizeVariant::kNhwcScalar;
  }
  const int64_t steps = vec ? units / 4 : units;
  const int64_t blocks_per_image = std::max<int64_t>(1, (steps + kNormalizeThreads - 1) / kNormalizeThreads);
  const int64_t grid_y = std::min(spec.batch, kMaxGridY);
  // About two waves of full occupancy (8 blocks of 256 threads per multiprocessor) in all; each
  // thread loops, so every block copies the 3-4 KiB table to shared memory only once per many
  // elements, and small batches still spread an image over many blocks.
  const int64_t target_blocks = static_cast<int64_t>(std::max(sm_count, 1)) * 16;
  const int64_t grid_x = std::clamp<int64_t>((target_blocks + grid_y - 1) / grid_y, 1, blocks_per_image);
  plan.grid_x = static_cast<uint32_t>(grid_x);
  plan.grid_y = static_cast<uint32_t>(grid_y);
  return plan;
}

NormalizeKernelArgs MakeNormalizeKernelArgs(const NormalizeSpec& spec, const uint8_t* input, void* output) {
  NormalizeKernelArgs args;
  args.input = input;
  args.output = output;
  args.batch = spec.batch;
  args.pixels = static_cast<uint32_t>(spec.height * spec.width);
  args.channels = static_cast<uint32_t>(spec.channels);
  for (int c = 0; c < spec.channels; ++c) {
    for (int v = 0; v < 256; ++v) args.table[c * 256 + v] = NormalizedBits(spec, c, static_cast<uint8_t>(v));
  }
  return args;
}

}  // namespace sluice::gpu
