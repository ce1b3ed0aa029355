#pragma once
/// Image resampling that reproduces Pillow's Image.resize (what torchvision's transforms do on
/// PIL images): separable convolution with the filter stretched by the downscale factor
/// (antialiasing), coefficients normalized per output pixel and quantized to 22-bit fixed
/// point, a horizontal pass into an 8-bit intermediate over only the rows the vertical pass
/// needs, then the vertical pass; the same rounding and clamping as Pillow.
///
/// Only a window of the output is computed (the center crop): each output pixel depends only on
/// its own coefficients, so the window's pixels equal those of the full resize, at a fraction of
/// the cost when the crop discards most of the image.
///
/// Threading: a Resampler is used by one thread (it keeps scratch buffers).

#include <cstdint>
#include <vector>

#include "sluice/status.h"

namespace sluice::image {

enum class Filter { kNearest, kBilinear, kBicubic };

/// An interleaved 8-bit image of width x height with `channels` channels; `stride` bytes
/// between rows. A region view (region_width > 0) holds only columns [x0, x0 + region_width)
/// and rows [y0, y0 + region_height) of the image, `data` being pixel (x0, y0): what a partial
/// decode gives (Resampler::SourceRegion says which part a resize reads).
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0, channels = 3;
  int64_t stride = 0;
  int x0 = 0, y0 = 0, region_width = 0, region_height = 0;

  int data_width() const { return region_width > 0 ? region_width : width; }
  int data_height() const { return region_width > 0 ? region_height : height; }
};

/// Output window [x0, x0 + w) x [y0, y0 + h) of a resize to out_width x out_height.
struct Window {
  int x0 = 0, y0 = 0, w = 0, h = 0;
};

class Resampler {
 public:
  /// Resizes `in` to out_width x out_height and writes the pixels of `window` to `out` (tightly
  /// packed rows of window.w * channels bytes). `antialias` false keeps the filter at its
  /// nominal support (a plain interpolation; not what Pillow does).
  Status Resize(const ImageView& in, int out_width, int out_height, const Window& window, Filter filter, bool antialias,
                uint8_t* out);
  /// The input pixels (as a window of the in_width x in_height image) that Resize reads for
  /// `window` of an out_width x out_height resize: all of them for kNearest.
  Window SourceRegion(int in_width, int in_height, int out_width, int out_height, const Window& window, Filter filter, bool antialias);

 private:
  struct Coeffs {
    std::vector<int> bounds;  // per output: first input index, count
    std::vector<int32_t> k;   // per output: ksize fixed-point weights
    int ksize = 0;
  };
  void Precompute(int in_size, int out_size, int first, int count, Filter filter, bool antialias, Coeffs* c);

  Coeffs horiz_, vert_;
  std::vector<uint8_t> temp_;
  std::vector<double> weights_;  // Precompute's scratch
};

}  // namespace sluice::image
