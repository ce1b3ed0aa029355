#include <chrono>
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
  bool partial_decode = true;
  bool timing = false;
  StepTimes times;
  double Now() const { return timing ? std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count() : 0; }

  /// Where an image of width x height goes: the resize target, the part of it the center crop
  /// keeps (win) and the zero padding around it when the crop is larger than the image.
  struct Geometry {
    int rw = 0, rh = 0;
    Window win;
    int ch = 0, cw = 0, pad_top = 0, pad_left = 0;
  };
  Geometry GeometryFor(int width, int height) const;
  image::Filter filter() const {
    return spec.interpolation == Interpolation::kNearest   ? image::Filter::kNearest
           : spec.interpolation == Interpolation::kBicubic ? image::Filter::kBicubic
                                                            : image::Filter::kBilinear;
  }
  /// Exact mode: decodes only the part of a JPEG the resize reads, when that saves work;
  /// false when the image is not such a JPEG (then it is decoded whole).
  Result<bool> DecodePartOfJpeg(std::string_view encoded);
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

void Preprocessor::set_partial_decode(bool on) { impl_->partial_decode = on; }
void Preprocessor::set_step_timing(bool on) { impl_->timing = on; }
Preprocessor::StepTimes Preprocessor::step_times() const { return impl_->times; }

Status Preprocessor::ProcessEncoded(std::string_view encoded, uint8_t* dst) {
  const double t0 = impl_->Now();
  ASSIGN_OR_RETURN(const bool partial, impl_->DecodePartOfJpeg(encoded));
  if (!partial) RETURN_IF_ERROR(impl_->decoder.Decode(encoded, impl_->decode_options, &impl_->decoded));
  impl_->times.decode_s += impl_->Now() - t0;
  return impl_->Transform(impl_->decoded.view(), dst);
}

Status Preprocessor::ProcessRaw(const uint8_t* pixels, int height, int width, int64_t stride, uint8_t* dst) {
  if (height <= 0 || width <= 0) return Status::InvalidData("raw image of " + std::to_string(height) + "x" + std::to_string(width));
  return impl_->Transform(ImageView{pixels, width, height, 3, stride}, dst);
}

Result<bool> Preprocessor::Impl::DecodePartOfJpeg(std::string_view encoded) {
  image::JpegInfo info;
  // Not for EXIF orientation (it turns the image after decoding), CMYK (converted whole) or a
  // file without its end marker (a truncated file must fail, as in PIL, even when the missing
  // part lies outside the region).
  if (!partial_decode || spec.mode != Fidelity::kExact || spec.exif_orientation || filter() == image::Filter::kNearest ||
      !decoder.ReadJpegInfo(encoded, &info) || info.cmyk || !info.ends_with_eoi) {
    return false;
  }
  const Geometry g = GeometryFor(info.width, info.height);
  if (g.rw <= 0 || g.rh <= 0) return false;
  const Window src = resampler.SourceRegion(info.width, info.height, g.rw, g.rh, g.win, filter(), spec.antialias);
  // Worth it when it leaves out a tenth of the pixels or more.
  if (static_cast<int64_t>(src.w) * src.h * 10 > static_cast<int64_t>(info.width) * info.height * 9) return false;
  RETURN_IF_ERROR(decoder.DecodeJpegRegion(encoded, decode_options, src, &decoded));
  return true;
}

Preprocessor::Impl::Geometry Preprocessor::Impl::GeometryFor(int width, int height) const {
  Geometry g;
  // Resize target, as torchvision computes it.
  int rw = width, rh = height;
  if (spec.resize == ResizeMode::kShorterSide) {
    const bool w_short = width <= height;
    const int64_t s = w_short ? width : height, l = w_short ? height : width;
    const int new_long = static_cast<int>(static_cast<double>(static_cast<int64_t>(spec.resize_size) * l) / static_cast<double>(s));
    rw = w_short ? spec.resize_size : new_long;
    rh = w_short ? new_long : spec.resize_size;
  } else if (spec.resize == ResizeMode::kExact) {
    rw = spec.resize_width;
    rh = spec.resize_height;
  }
  g.rw = rw;
  g.rh = rh;
  if (rw <= 0 || rh <= 0) return g;
  // Center crop (torchvision: pad with zeros when the crop is larger, offsets rounded half to even).
  g.ch = spec.crop_height > 0 ? spec.crop_height : rh;
  g.cw = spec.crop_width > 0 ? spec.crop_width : rw;
  g.pad_top = g.ch > rh ? (g.ch - rh) / 2 : 0;
  g.pad_left = g.cw > rw ? (g.cw - rw) / 2 : 0;
  const int top = g.ch > rh ? 0 : static_cast<int>(std::nearbyint((rh - g.ch) / 2.0));
  const int left = g.cw > rw ? 0 : static_cast<int>(std::nearbyint((rw - g.cw) / 2.0));
  g.win = Window{left, top, std::min(g.cw, rw), std::min(g.ch, rh)};
  return g;
}

Status Preprocessor::Impl::Transform(const ImageView& in, uint8_t* dst) {
  const Geometry g = GeometryFor(in.width, in.height);
  const int rw = g.rw, rh = g.rh, ch = g.ch, cw = g.cw, pad_top = g.pad_top, pad_left = g.pad_left;
  const Window& win = g.win;
  if (rw <= 0 || rh <= 0) return Status::InvalidData("image of " + std::to_string(in.width) + "x" + std::to_string(in.height) + " resizes to nothing");
  const image::Filter filter = this->filter();
  const double t0 = Now();
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
  const double t1 = Now();
  Convert(crop.data(), dst);
  times.resize_crop_s += t1 - t0;
  times.normalize_s += Now() - t1;
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
