#include "resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sluice::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

double BilinearFilter(double x) {
  if (x < 0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double BicubicFilter(double x) {
  constexpr double a = -0.5;  // Pillow's (and torchvision's PIL path) bicubic
  if (x < 0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

inline uint8_t Clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

}  // namespace

void Resampler::Precompute(int in_size, int out_size, int first, int count, Filter filter, bool antialias, Coeffs* c) {
  const double support_unit = filter == Filter::kBicubic ? 2.0 : 1.0;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = antialias ? std::max(scale, 1.0) : 1.0;
  const double support = support_unit * filterscale;
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c->ksize = ksize;
  c->bounds.assign(static_cast<size_t>(count) * 2, 0);
  c->k.assign(static_cast<size_t>(count) * ksize, 0);
  std::vector<double> w(static_cast<size_t>(ksize));
  for (int i = 0; i < count; ++i) {
    const int xx = first + i;
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double total = 0;
    for (int x = 0; x < xmax; ++x) {
      const double arg = (x + xmin - center + 0.5) * ss;
      w[static_cast<size_t>(x)] = filter == Filter::kBicubic ? BicubicFilter(arg) : BilinearFilter(arg);
      total += w[static_cast<size_t>(x)];
    }
    int32_t* k = &c->k[static_cast<size_t>(i) * ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = total != 0.0 ? w[static_cast<size_t>(x)] / total : w[static_cast<size_t>(x)];
      // Pillow rounds half away from zero when quantizing.
      k[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c->bounds[static_cast<size_t>(i) * 2] = xmin;
    c->bounds[static_cast<size_t>(i) * 2 + 1] = xmax;
  }
}

Status Resampler::Resize(const ImageView& in, int out_width, int out_height, const Window& win, Filter filter, bool antialias,
                         uint8_t* out) {
  if (in.width <= 0 || in.height <= 0 || out_width <= 0 || out_height <= 0) {
    return Status::InvalidArgument("resize of a " + std::to_string(in.width) + "x" + std::to_string(in.height) + " image to " +
                                   std::to_string(out_width) + "x" + std::to_string(out_height));
  }
  if (win.x0 < 0 || win.y0 < 0 || win.w <= 0 || win.h <= 0 || win.x0 + win.w > out_width || win.y0 + win.h > out_height) {
    return Status::InvalidArgument("resize window outside the output");
  }
  const int ch = in.channels;
  if (filter == Filter::kNearest) {
    // Pillow maps output pixel centers back to the input and truncates.
    const double sx = static_cast<double>(in.width) / out_width, sy = static_cast<double>(in.height) / out_height;
    for (int y = 0; y < win.h; ++y) {
      const int iy = std::min(in.height - 1, static_cast<int>((win.y0 + y + 0.5) * sy));
      const uint8_t* row = in.data + iy * in.stride;
      uint8_t* dst = out + static_cast<size_t>(y) * win.w * ch;
      for (int x = 0; x < win.w; ++x) {
        const int ix = std::min(in.width - 1, static_cast<int>((win.x0 + x + 0.5) * sx));
        std::memcpy(dst + x * ch, row + ix * ch, static_cast<size_t>(ch));
      }
    }
    return Status::OK();
  }
  const bool need_h = out_width != in.width, need_v = out_height != in.height;
  Precompute(in.width, out_width, win.x0, win.w, filter, antialias, &horiz_);
  Precompute(in.height, out_height, win.y0, win.h, filter, antialias, &vert_);
  // Source rows the vertical pass reads (all of them when there is no vertical pass).
  const int row_first = need_v ? vert_.bounds[0] : win.y0;
  const int row_last = need_v ? vert_.bounds[static_cast<size_t>(win.h - 1) * 2] + vert_.bounds[static_cast<size_t>(win.h - 1) * 2 + 1]
                              : win.y0 + win.h;
  const int rows = row_last - row_first;
  // Horizontal pass: rows [row_first, row_last) of the input, output columns of the window.
  const uint8_t* src = in.data + static_cast<int64_t>(row_first) * in.stride;
  int64_t src_stride = in.stride;
  int src_x0 = win.x0;  // column offset when there is no horizontal pass
  if (need_h) {
    temp_.resize(static_cast<size_t>(rows) * win.w * ch);
    for (int y = 0; y < rows; ++y) {
      const uint8_t* row = src + static_cast<int64_t>(y) * in.stride;
      uint8_t* dst = temp_.data() + static_cast<size_t>(y) * win.w * ch;
      for (int x = 0; x < win.w; ++x) {
        const int xmin = horiz_.bounds[static_cast<size_t>(x) * 2], xmax = horiz_.bounds[static_cast<size_t>(x) * 2 + 1];
        const int32_t* k = &horiz_.k[static_cast<size_t>(x) * horiz_.ksize];
        for (int c = 0; c < ch; ++c) {
          int32_t ss = 1 << (kPrecisionBits - 1);
          const uint8_t* p = row + xmin * ch + c;
          for (int i = 0; i < xmax; ++i) ss += p[i * ch] * k[i];
          dst[x * ch + c] = Clip8(ss);
        }
      }
    }
    src = temp_.data();
    src_stride = static_cast<int64_t>(win.w) * ch;
    src_x0 = 0;
  }
  // Vertical pass over the (horizontally resized) rows.
  for (int y = 0; y < win.h; ++y) {
    uint8_t* dst = out + static_cast<size_t>(y) * win.w * ch;
    if (!need_v) {
      std::memcpy(dst, src + static_cast<int64_t>(y + win.y0 - row_first) * src_stride + src_x0 * ch, static_cast<size_t>(win.w) * ch);
      continue;
    }
    const int ymin = vert_.bounds[static_cast<size_t>(y) * 2] - row_first, ymax = vert_.bounds[static_cast<size_t>(y) * 2 + 1];
    const int32_t* k = &vert_.k[static_cast<size_t>(y) * vert_.ksize];
    for (int x = 0; x < win.w * ch; ++x) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      const uint8_t* p = src + static_cast<int64_t>(ymin) * src_stride + src_x0 * ch + x;
      for (int i = 0; i < ymax; ++i) ss += p[i * src_stride] * k[i];
      dst[x] = Clip8(ss);
    }
  }
  return Status::OK();
}

}  // namespace sluice::image
