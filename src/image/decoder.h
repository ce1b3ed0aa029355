#pragma once
/// Decodes JPEG, PNG and WebP bytes to interleaved RGB uint8, the way PIL's
/// Image.open(...).convert("RGB") does (what torchvision users trained with):
/// - JPEG (libjpeg-turbo, TurboJPEG API): baseline and progressive, ISLOW IDCT and fancy
///   upsampling as PIL; grayscale expanded to 3 channels; CMYK/YCCK converted with Pillow's
///   formula (Adobe files are stored inverted); a truncated file is an error (PIL refuses it;
///   libjpeg-turbo would only warn).
/// - PNG (libpng): palette, grayscale (1-16 bit), alpha and 16-bit; alpha is dropped without
///   compositing; 16-bit color keeps the high byte and 16-bit grayscale clips at 255, as Pillow.
/// - WebP (libwebp): alpha dropped.
/// - Raw pixels in sluice's container (Ray's variable-shaped tensors): copied.
/// Images over `max_pixels` are refused from their header, before any pixel is allocated.
/// EXIF orientation is applied only on request (PIL's decoders and torchvision do not).
///
/// Threading: a Decoder is used by one thread (it keeps a TurboJPEG handle and scratch).

#include <cstdint>
#include <string_view>
#include <vector>

#include "resample.h"
#include "sluice/status.h"

namespace sluice::image {

struct DecodeOptions {
  int64_t max_pixels = 100'000'000;
  bool exif_orientation = false;
  /// JPEG only: decode at 1/2, 1/4 or 1/8 scale while the image stays at least this large on
  /// its short side (the `fast` mode); 0 decodes at full size.
  int min_short_side = 0;
};

struct DecodedImage {
  std::vector<uint8_t> pixels;  // RGB, rows tightly packed
  int width = 0, height = 0;
  /// A region decode (Decoder::DecodeJpegRegion): `pixels` holds columns [x0, x0 + region_width)
  /// and rows [y0, y0 + region_height) of the width x height image. Zero: the whole image.
  int x0 = 0, y0 = 0, region_width = 0, region_height = 0;
  ImageView view() const {
    const int row = region_width > 0 ? region_width : width;
    return ImageView{pixels.data(), width, height, 3, static_cast<int64_t>(row) * 3, x0, y0, region_width, region_height};
  }
};

/// What a JPEG's header says, for choosing how to decode it.
struct JpegInfo {
  int width = 0, height = 0;
  bool cmyk = false;         // CMYK or YCCK (converted with Pillow's formula: whole-image path)
  bool ends_with_eoi = false;  // the file ends with its end-of-image marker (not truncated)
};

/// kRaw: sluice's raw-pixel container (sluice/raw_image.h), how variable-shaped tensors arrive.
enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kRaw };
ImageFormat SniffFormat(std::string_view bytes);

class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// Errors are InvalidData with the reason ("truncated JPEG", "PNG: CRC error", ...).
  Status Decode(std::string_view bytes, const DecodeOptions& options, DecodedImage* out);
  /// The header of a JPEG (false: not a readable JPEG header).
  bool ReadJpegInfo(std::string_view bytes, JpegInfo* info);
  /// Decodes at least `region` of a JPEG (not CMYK; at full scale), skipping the scanlines
  /// above and below it and the iMCU columns left and right of it (libjpeg's
  /// jpeg_skip_scanlines / jpeg_crop_scanline); the pixels of the region equal a full decode's
  /// (decode_jpeg_region.cc keeps a margin from the cropped edges for the upsampler).
  Status DecodeJpegRegion(std::string_view bytes, const DecodeOptions& options, const Window& region, DecodedImage* out);

 private:
  Status DecodeJpeg(std::string_view bytes, const DecodeOptions& options, DecodedImage* out);
  void* tj_ = nullptr;
  std::vector<uint8_t> scratch_;
};

Status DecodePng(std::string_view bytes, const DecodeOptions& options, DecodedImage* out);
Status DecodeWebp(std::string_view bytes, const DecodeOptions& options, DecodedImage* out);
/// Gray is expanded to RGB and alpha dropped, as PIL's convert("RGB").
Status DecodeRaw(std::string_view bytes, const DecodeOptions& options, DecodedImage* out);

/// EXIF orientation (1-8) of a JPEG's APP1 segment, 1 when absent.
int JpegExifOrientation(std::string_view bytes);
/// Rotates/flips `img` in place so orientation `o` becomes 1.
void ApplyOrientation(int o, DecodedImage* img);

}  // namespace sluice::image
