#include <cmath>
#include <cstring>

#include "decoder.h"
#include "resample.h"
#include "sluice/float16.h"
#include "sluice/image.h"

namespace sluice {

using image::DecodedImage;
using image::ImageView;
using image::Window;

struct Preprocessor::Impl {
  PreprocessSpec spec;
  image::Decoder decoder;
  image::DecodeOptions decode_options;
  DecodedImage decoded;
  image::Resampler resampler;
  std::vector<uint8_t> crop;         // uint8 HWC, crop_h x crop_w x 3
  std::vector<uint8_t> part;         // the resized part of a crop larger than the image
  std::array<std::array<float, 256>, 3> lut{};  // uint8 -> ToTensor+Normalize value per channel
  int out_h = 0, out_w = 0;

  Status Transform(const ImageView& in, uint8_t* dst);
  void Convert(const uint8_t* src, uint8_t* dst) const;
};

Preprocessor::Preprocessor(const PreprocessSpec& spec) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.spec = spec;
  im.decode_options.max_pixels = spec.max_pixels;
  im.decode_options.exif_orientation = spec.exif_orientation;
  if (spec.mode == Fidelity::kFast && spec.resize == ResizeMode::kShorterSide) im.decode_options.min_short_side = spec.resize_size;
  const auto shape = spec.RowShape();
  im.out_h = static_cast<int>(spec.layout == Layout::kNCHW ? shape[1] : shape[0]);
  im.out_w = static_cast<int>(spec.layout == Layout::kNCHW ? shape[2] : shape[1]);
  im.crop.resize(static_cast<size_t>(im.out_h) * im.out_w * 3);
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      // torchvision: to_tensor divides by 255 in float32, then normalize subtracts and divides.
      const float x = static_cast<float>(v) / 255.0f;
      im.lut[c][v] = spec.normalize ? (x - spec.mean[c]) / spec.std[c] : x;
    }
  }
}

Preprocessor::~Preprocessor() = default;

const std::vector<uint8_t>& Preprocessor::last_crop() const { return impl_->crop; }

Status Preprocessor::ProcessEncoded(std::string_view encoded, uint8_t* dst) {
  RETURN_IF_ERROR(impl_->decoder.Decode(encoded, impl_->decode_options, &impl_->decoded));
  return impl_->Transform(impl_->decoded.view(), dst);
}

Status Preprocessor::ProcessRaw(const uint8_t* pixels, int height, int width, int64_t stride, uint8_t* dst) {
  if (height <= 0 || width <= 0) return Status::InvalidData("raw image of " + std::to_string(height) + "x" + std::to_string(width));
  return impl_->Transform(ImageView{pixels, width, height, 3, stride}, dst);
}

Status Preprocessor::Impl::Transform(const ImageView& in, uint8_t* dst) {
  // Resize target, as torchvision computes it.
  int rw = in.width, rh = in.height;
  if (spec.resize == ResizeMode::kShorterSide) {
    const bool w_short = in.width <= in.height;
    const int64_t s = w_short ? in.width : in.height, l = w_short ? in.height : in.width;
    const int new_long = static_cast<int>(static_cast<double>(static_cast<int64_t>(spec.resize_size) * l) / static_cast<double>(s));
    rw = w_short ? spec.resize_size : new_long;
    rh = w_short ? new_long : spec.resize_size;
  } else if (spec.resize == ResizeMode::kExact) {
    rw = spec.resize_width;
    rh = spec.resize_height;
  }
  if (rw <= 0 || rh <= 0) return Status::InvalidData("image of " + std::to_string(in.width) + "x" + std::to_string(in.height) + " resizes to nothing");
  // Center crop (torchvision: pad with zeros when the crop is larger, offsets rounded half to even).
  const int ch = spec.crop_height > 0 ? spec.crop_height : rh, cw = spec.crop_width > 0 ? spec.crop_width : rw;
  const int pad_top = ch > rh ? (ch - rh) / 2 : 0, pad_left = cw > rw ? (cw - rw) / 2 : 0;
  const int top = ch > rh ? 0 : static_cast<int>(std::nearbyint((rh - ch) / 2.0));
  const int left = cw > rw ? 0 : static_cast<int>(std::nearbyint((rw - cw) / 2.0));
  const Window win{left, top, std::min(cw, rw), std::min(ch, rh)};
  const image::Filter filter = spec.interpolation == Interpolation::kNearest    ? image::Filter::kNearest
                               : spec.interpolation == Interpolation::kBicubic ? image::Filter::kBicubic
                                                                                : image::Filter::kBilinear;
  if (win.w == cw && win.h == ch) {
    RETURN_IF_ERROR(resampler.Resize(in, rw, rh, win, filter, spec.antialias, crop.data()));
  } else {
    std::fill(crop.begin(), crop.end(), 0);
    part.resize(static_cast<size_t>(win.w) * win.h * 3);
    RETURN_IF_ERROR(resampler.Resize(in, rw, rh, win, filter, spec.antialias, part.data()));
    for (int y = 0; y < win.h; ++y) {
      std::memcpy(&crop[(static_cast<size_t>(y + pad_top) * cw + pad_left) * 3], &part[static_cast<size_t>(y) * win.w * 3],
                  static_cast<size_t>(win.w) * 3);
    }
  }
  Convert(crop.data(), dst);
  return Status::OK();
}

void Preprocessor::ConvertCrop(const uint8_t* crop_hwc, uint8_t* dst) const { impl_->Convert(crop_hwc, dst); }

void Preprocessor::Impl::Convert(const uint8_t* src, uint8_t* dst) const {
  const size_t pixels = static_cast<size_t>(out_h) * out_w;
  const bool nchw = spec.layout == Layout::kNCHW;
  auto index = [&](size_t p, int c) { return nchw ? static_cast<size_t>(c) * pixels + p : p * 3 + static_cast<size_t>(c); };
  switch (spec.dtype) {
    case DType::kUInt8:
      if (!nchw) {
        std::memcpy(dst, src, pixels * 3);
      } else {
        for (size_t p = 0; p < pixels; ++p) {
          for (int c = 0; c < 3; ++c) dst[index(p, c)] = src[p * 3 + c];
        }
      }
      break;
    case DType::kFloat32: {
      auto* out = reinterpret_cast<float*>(dst);
      for (size_t p = 0; p < pixels; ++p) {
        for (int c = 0; c < 3; ++c) out[index(p, c)] = lut[c][src[p * 3 + c]];
      }
      break;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      auto* out = reinterpret_cast<uint16_t*>(dst);
      const bool half = spec.dtype == DType::kFloat16;
      for (size_t p = 0; p < pixels; ++p) {
        for (int c = 0; c < 3; ++c) {
          const float v = lut[c][src[p * 3 + c]];
          out[index(p, c)] = half ? FloatToHalf(v) : FloatToBFloat16(v);
        }
      }
      break;
    }
    default:
      break;  // Validate refuses other dtypes
  }
}

}  // namespace sluice
