#include "sluice/image.h"

namespace sluice {

PreprocessSpec PreprocessSpec::ImageNet() { return PreprocessSpec{}; }

Result<PreprocessSpec> PreprocessSpec::Preset(std::string_view name) {
  if (name == "imagenet") return ImageNet();
  return Status::InvalidArgument("unknown preprocessing preset '" + std::string(name) + "' (known: imagenet)");
}

Status PreprocessSpec::Validate() const {
  auto bad = [](const std::string& m) { return Status::InvalidArgument("preprocess: " + m); };
  if (resize == ResizeMode::kShorterSide && resize_size <= 0) return bad("resize size must be positive");
  if (resize == ResizeMode::kExact && (resize_height <= 0 || resize_width <= 0)) return bad("resize height and width must be positive");
  if (crop_height < 0 || crop_width < 0 || (crop_height == 0) != (crop_width == 0)) return bad("crop needs both height and width");
  if (crop_height == 0 && resize != ResizeMode::kExact) {
    return bad("the output needs a fixed size: give a crop, or an exact resize (height and width)");
  }
  for (int c = 0; c < 3; ++c) {
    if (!(std[c] > 0)) return bad("std must be positive");
  }
  if (dtype != DType::kUInt8 && dtype != DType::kFloat32 && dtype != DType::kFloat16 && dtype != DType::kBFloat16) {
    return bad("output dtype must be uint8, float16, bfloat16 or float32");
  }
  if (max_pixels <= 0) return bad("max_pixels must be positive");
  return Status::OK();
}

std::vector<int64_t> PreprocessSpec::RowShape() const {
  const int64_t h = crop_height > 0 ? crop_height : resize_height;
  const int64_t w = crop_width > 0 ? crop_width : resize_width;
  return layout == Layout::kNCHW ? std::vector<int64_t>{3, h, w} : std::vector<int64_t>{h, w, 3};
}

}  // namespace sluice
