#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "decoder.h"
#include "sluice/raw_image.h"

namespace sluice::image {
namespace {

/// Pillow's MULDIV255: a * b / 255 rounded the way Pillow does.
inline int MulDiv255(int a, int b) {
  const int tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

/// Whether the JPEG has an Adobe APP14 segment (its CMYK is stored inverted).
bool HasAdobeMarker(std::string_view b) {
  size_t i = 2;
  while (i + 4 <= b.size() && static_cast<uint8_t>(b[i]) == 0xff) {
    const uint8_t marker = static_cast<uint8_t>(b[i + 1]);
    if (marker == 0xda || marker == 0xd9) break;  // start of scan / end of image
    const size_t len = (static_cast<uint8_t>(b[i + 2]) << 8) | static_cast<uint8_t>(b[i + 3]);
    if (marker == 0xee && len >= 7 && i + 9 <= b.size() && b.compare(i + 4, 5, "Adobe") == 0) return true;
    i += 2 + len;
  }
  return false;
}

}  // namespace

Decoder::Decoder() : tj_(tjInitDecompress()) {}
Decoder::~Decoder() {
  if (tj_) tjDestroy(static_cast<tjhandle>(tj_));
}

ImageFormat SniffFormat(std::string_view b) {
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xff && static_cast<uint8_t>(b[1]) == 0xd8 && static_cast<uint8_t>(b[2]) == 0xff) {
    return ImageFormat::kJpeg;
  }
  if (b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return ImageFormat::kPng;
  if (b.size() >= 12 && b.compare(0, 4, "RIFF") == 0 && b.compare(8, 4, "WEBP") == 0) return ImageFormat::kWebp;
  if (IsRawImage(b)) return ImageFormat::kRaw;
  return ImageFormat::kUnknown;
}

Status Decoder::Decode(std::string_view bytes, const DecodeOptions& options, DecodedImage* out) {
  out->x0 = out->y0 = out->region_width = out->region_height = 0;  // the whole image
  Status st;
  switch (SniffFormat(bytes)) {
    case ImageFormat::kJpeg:
      st = DecodeJpeg(bytes, options, out);
      if (st.ok() && options.exif_orientation) ApplyOrientation(JpegExifOrientation(bytes), out);
      return st;
    case ImageFormat::kPng: return DecodePng(bytes, options, out);
    case ImageFormat::kWebp: return DecodeWebp(bytes, options, out);
    case ImageFormat::kRaw: return DecodeRaw(bytes, options, out);
    case ImageFormat::kUnknown: break;
  }
  if (bytes.empty()) return Status::InvalidData("empty image");
  return Status::InvalidData("not a JPEG, PNG or WebP image (first bytes unknown)");
}

Status Decoder::DecodeJpeg(std::string_view bytes, const DecodeOptions& options, DecodedImage* out) {
  auto tj = static_cast<tjhandle>(tj_);
  if (!tj) return Status::Internal("TurboJPEG could not be initialized");
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  // libjpeg keeps state from a failed read in the handle (the next header then reads as 0x0):
  // every error replaces the handle.
  auto fail = [this](Status st) {
    tjDestroy(static_cast<tjhandle>(tj_));
    tj_ = tjInitDecompress();
    return st;
  };
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, data, size, &w, &h, &subsamp, &colorspace) != 0) {
    return fail(Status::InvalidData(std::string("JPEG header: ") + tjGetErrorStr2(tj)));
  }
  if (w <= 0 || h <= 0) return fail(Status::InvalidData("JPEG of " + std::to_string(w) + "x" + std::to_string(h) + " pixels"));
  if (static_cast<int64_t>(w) * h > options.max_pixels) {
    return Status::InvalidData("JPEG of " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
                               std::to_string(options.max_pixels));
  }
  // Fast mode: the largest DCT-domain reduction that keeps the short side large enough.
  int num = 1, denom = 1;
  if (options.min_short_side > 0) {
    for (int d : {8, 4, 2}) {
      if (std::min(w, h) / d >= options.min_short_side) {
        denom = d;
        break;
      }
    }
  }
  const int ow = (w * num + denom - 1) / denom, oh = (h * num + denom - 1) / denom;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int pf = cmyk ? TJPF_CMYK : TJPF_RGB;
  const int bpp = cmyk ? 4 : 3;
  unsigned char* dst;
  if (cmyk) {
    scratch_.resize(static_cast<size_t>(ow) * oh * 4);
    dst = scratch_.data();
  } else {
    out->pixels.resize(static_cast<size_t>(ow) * oh * 3);
    dst = out->pixels.data();
  }
  if (tjDecompress2(tj, data, size, dst, ow, ow * bpp, oh, pf, 0) != 0) {
    const std::string why = tjGetErrorStr2(tj);
    if (tjGetErrorCode(tj) == TJERR_FATAL || why.find("Premature end") != std::string::npos) {
      return fail(Status::InvalidData((why.find("Premature end") != std::string::npos ? "truncated JPEG: " : "corrupt JPEG: ") + why));
    }
    // Other warnings (extraneous bytes before a marker, ...) leave a complete image, as in PIL.
  }
  out->width = ow;
  out->height = oh;
  if (cmyk) {
    const bool inverted = HasAdobeMarker(bytes);
    out->pixels.resize(static_cast<size_t>(ow) * oh * 3);
    for (size_t i = 0, n = static_cast<size_t>(ow) * oh; i < n; ++i) {
      const uint8_t* p = &scratch_[i * 4];
      int c = p[0], m = p[1], y = p[2], k = p[3];
      if (inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
      const int nk = 255 - k;
      out->pixels[i * 3] = static_cast<uint8_t>(std::clamp(nk - MulDiv255(c, nk), 0, 255));
      out->pixels[i * 3 + 1] = static_cast<uint8_t>(std::clamp(nk - MulDiv255(m, nk), 0, 255));
      out->pixels[i * 3 + 2] = static_cast<uint8_t>(std::clamp(nk - MulDiv255(y, nk), 0, 255));
    }
  }
  return Status::OK();
}

}  // namespace sluice::image
