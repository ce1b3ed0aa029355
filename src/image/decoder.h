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
  ImageView view() const { return ImageView{pixels.data(), width, height, 3, static_cast<int64_t>(width) * 3}; }
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
