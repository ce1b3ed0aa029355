// NormalizeSpec: validation, sizes and shapes. Plain C++ (no CUDA).
#include <cmath>
#include <limits>
#include <string>

#include "sluice/cuda_preprocess.h"

namespace sluice {

Result<NormalizeSpec> NormalizeSpec::FromPreprocessSpec(const PreprocessSpec& target, int64_t batch) {
  RETURN_IF_ERROR(target.Validate());
  if (target.dtype == DType::kUInt8) {
    return Status::InvalidArgument("normalize: the target dtype is uint8; the GPU step produces float32, float16 or bfloat16");
  }
  NormalizeSpec s;
  const auto row = target.RowShape();
  s.batch = batch;
  s.height = target.layout == Layout::kNCHW ? row[1] : row[0];
  s.width = target.layout == Layout::kNCHW ? row[2] : row[1];
  s.channels = 3;
  // Without normalization ToTensor alone remains: (x/255 - 0) / 1 is exactly x/255.
  s.mean = target.normalize ? std::vector<float>(target.mean.begin(), target.mean.end()) : std::vector<float>{0, 0, 0};
  s.std = target.normalize ? std::vector<float>(target.std.begin(), target.std.end()) : std::vector<float>{1, 1, 1};
  s.layout = target.layout;
  s.dtype = target.dtype;
  RETURN_IF_ERROR(s.Validate());
  return s;
}

Status NormalizeSpec::Validate() const {
  auto bad = [](const std::string& m) { return Status::InvalidArgument("normalize: " + m); };
  if (batch < 0) return bad("batch must be >= 0 (got " + std::to_string(batch) + ")");
  if (height <= 0 || width <= 0) {
    return bad("height and width must be > 0 (got " + std::to_string(height) + "x" + std::to_string(width) + ")");
  }
  if (channels < 1 || channels > kMaxChannels) {
    return bad("channels must be 1.." + std::to_string(kMaxChannels) + " (got " + std::to_string(channels) + ")");
  }
  if (mean.size() != static_cast<size_t>(channels) || std.size() != static_cast<size_t>(channels)) {
    return bad("mean and std need one value per channel (" + std::to_string(channels) + "), got " +
               std::to_string(mean.size()) + " and " + std::to_string(std.size()));
  }
  for (int c = 0; c < channels; ++c) {
    const float m = mean[static_cast<size_t>(c)], s = std[static_cast<size_t>(c)];
    if (!std::isfinite(m)) return bad("mean[" + std::to_string(c) + "] must be finite (got " + std::to_string(m) + ")");
    if (!std::isfinite(s) || !(s > 0)) return bad("std[" + std::to_string(c) + "] must be finite and > 0 (got " + std::to_string(s) + ")");
  }
  if (layout != Layout::kNCHW && layout != Layout::kNHWC) {
    return bad("layout must be NCHW or NHWC (got enum value " + std::to_string(static_cast<int>(layout)) + ")");
  }
  if (dtype != DType::kFloat32 && dtype != DType::kFloat16 && dtype != DType::kBFloat16) {
    const int64_t v = static_cast<int64_t>(dtype);
    const std::string got = v >= 0 && v <= static_cast<int64_t>(DType::kFloat64) ? std::string(DTypeName(dtype)) : "enum value " + std::to_string(v);
    return bad("dtype must be float32, float16 or bfloat16 (got " + got + ")");
  }
  // One image's elements are indexed in 32 bits on the device.
  const int64_t image_limit = std::numeric_limits<int32_t>::max();
  if (height > image_limit / width || height * width > image_limit / channels) {
    return bad("an image of " + std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels) +
               " has 2^31 or more elements");
  }
  const int64_t per_image_bytes = height * width * channels * DTypeSize(dtype);
  if (batch > 0 && batch > std::numeric_limits<int64_t>::max() / per_image_bytes) {
    return bad("a batch of " + std::to_string(batch) + " images of " + std::to_string(per_image_bytes) + " bytes overflows int64");
  }
  return Status::OK();
}

std::vector<int64_t> NormalizeSpec::InputShape() const { return {batch, height, width, static_cast<int64_t>(channels)}; }

std::vector<int64_t> NormalizeSpec::OutputShape() const {
  if (layout == Layout::kNHWC) return InputShape();
  return {batch, static_cast<int64_t>(channels), height, width};
}

}  // namespace sluice
