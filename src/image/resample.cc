#include "resample.h"

#include <immintrin.h>

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

// The passes below compute exactly Pillow's integer sums; integer addition is associative, so
// the SIMD versions (lanes over channels or columns) give bit-identical pixels. Shifting right
// and saturating to int16 then uint8 is Pillow's clip8.

/// One output row of the horizontal pass for 3-channel pixels: out[x] from taps at row[xmin..].
void HorizontalRowScalar(const uint8_t* row, int width, const int* bounds, const int32_t* k, int ksize, int count, uint8_t* out) {
  for (int x = 0; x < count; ++x) {
    const int xmin = bounds[x * 2], xmax = bounds[x * 2 + 1];
    const int32_t* kk = k + static_cast<size_t>(x) * ksize;
    int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
    const uint8_t* p = row + xmin * 3;
    for (int i = 0; i < xmax; ++i) {
      s0 += p[i * 3] * kk[i];
      s1 += p[i * 3 + 1] * kk[i];
      s2 += p[i * 3 + 2] * kk[i];
    }
    out[x * 3] = Clip8(s0);
    out[x * 3 + 1] = Clip8(s1);
    out[x * 3 + 2] = Clip8(s2);
  }
  (void)width;
}

__attribute__((target("sse4.1"))) void HorizontalRowSse41(const uint8_t* row, int width, const int* bounds, const int32_t* k,
                                                           int ksize, int count, uint8_t* out) {
  const __m128i round = _mm_set1_epi32(1 << (kPrecisionBits - 1));
  for (int x = 0; x < count; ++x) {
    const int xmin = bounds[x * 2], xmax = bounds[x * 2 + 1];
    const int32_t* kk = k + static_cast<size_t>(x) * ksize;
    __m128i acc = round;
    const uint8_t* p = row + xmin * 3;
    // A 4-byte load takes one byte past the pixel: safe except at the row's last pixel.
    const int safe = xmin + xmax < width ? xmax : xmax - 1;
    int i = 0;
    for (; i < safe; ++i) {
      uint32_t v;
      std::memcpy(&v, p + i * 3, 4);
      acc = _mm_add_epi32(acc, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(v))), _mm_set1_epi32(kk[i])));
    }
    for (; i < xmax; ++i) {
      const uint32_t v = p[i * 3] | (p[i * 3 + 1] << 8) | (p[i * 3 + 2] << 16);
      acc = _mm_add_epi32(acc, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(v))), _mm_set1_epi32(kk[i])));
    }
    const __m128i packed = _mm_packus_epi16(_mm_packs_epi32(_mm_srai_epi32(acc, kPrecisionBits), _mm_setzero_si128()), _mm_setzero_si128());
    const uint32_t px = static_cast<uint32_t>(_mm_cvtsi128_si32(packed));
    out[x * 3] = static_cast<uint8_t>(px);
    out[x * 3 + 1] = static_cast<uint8_t>(px >> 8);
    out[x * 3 + 2] = static_cast<uint8_t>(px >> 16);
  }
}

/// Two output pixels per 256-bit operation (one per 128-bit half); weights past a pixel's own
/// taps are zero (Precompute pads them), so both run the longer tap count. Pairs whose loads
/// would reach the row's last pixel go through the SSE4.1 version.
__attribute__((target("avx2"))) void HorizontalRowAvx2(const uint8_t* row, int width, const int* bounds, const int32_t* k,
                                                       int ksize, int count, uint8_t* out) {
  const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  int x = 0;
  for (; x + 2 <= count; x += 2) {
    const int xmin0 = bounds[x * 2], xmin1 = bounds[x * 2 + 2];
    const int taps = std::max(bounds[x * 2 + 1], bounds[x * 2 + 3]);
    if (std::max(xmin0, xmin1) + taps >= width) break;  // the rest touch the row end
    const int32_t* k0 = k + static_cast<size_t>(x) * ksize;
    const int32_t* k1 = k0 + ksize;
    const uint8_t* p0 = row + xmin0 * 3;
    const uint8_t* p1 = row + xmin1 * 3;
    __m256i acc = round;
    for (int i = 0; i < taps; ++i) {
      uint32_t a, b;
      std::memcpy(&a, p0 + i * 3, 4);
      std::memcpy(&b, p1 + i * 3, 4);
      const __m256i px = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>((static_cast<uint64_t>(b) << 32) | a)));
      const __m256i w = _mm256_setr_m128i(_mm_set1_epi32(i < ksize ? k0[i] : 0), _mm_set1_epi32(i < ksize ? k1[i] : 0));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(px, w));
    }
    const __m256i shifted = _mm256_srai_epi32(acc, kPrecisionBits);
    const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(_mm256_castsi256_si128(shifted), _mm256_extracti128_si256(shifted, 1)),
                                           _mm_setzero_si128());
    const uint64_t v = static_cast<uint64_t>(_mm_cvtsi128_si64(bytes));
    out[x * 3] = static_cast<uint8_t>(v), out[x * 3 + 1] = static_cast<uint8_t>(v >> 8), out[x * 3 + 2] = static_cast<uint8_t>(v >> 16);
    out[x * 3 + 3] = static_cast<uint8_t>(v >> 32), out[x * 3 + 4] = static_cast<uint8_t>(v >> 40), out[x * 3 + 5] = static_cast<uint8_t>(v >> 48);
  }
  HorizontalRowSse41(row, width, bounds + x * 2, k + static_cast<size_t>(x) * ksize, ksize, count - x, out + x * 3);
}

/// One output row of the vertical pass: out[x] = sum_i src[(i) * stride + x] * k[i].
void VerticalRowScalar(const uint8_t* src, int64_t stride, const int32_t* k, int taps, int n, uint8_t* out) {
  for (int x = 0; x < n; ++x) {
    int32_t ss = 1 << (kPrecisionBits - 1);
    for (int i = 0; i < taps; ++i) ss += src[i * stride + x] * k[i];
    out[x] = Clip8(ss);
  }
}

__attribute__((target("avx2"))) void VerticalRowAvx2(const uint8_t* src, int64_t stride, const int32_t* k, int taps, int n, uint8_t* out) {
  const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    __m256i acc = round;
    for (int i = 0; i < taps; ++i) {
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i * stride + x));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(v), _mm256_set1_epi32(k[i])));
    }
    const __m256i shifted = _mm256_srai_epi32(acc, kPrecisionBits);
    const __m128i lo = _mm256_castsi256_si128(shifted), hi = _mm256_extracti128_si256(shifted, 1);
    const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(lo, hi), _mm_setzero_si128());
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + x), bytes);
  }
  VerticalRowScalar(src + x, stride, k, taps, n - x, out + x);
}

using HorizontalRowFn = void (*)(const uint8_t*, int, const int*, const int32_t*, int, int, uint8_t*);
using VerticalRowFn = void (*)(const uint8_t*, int64_t, const int32_t*, int, int, uint8_t*);

HorizontalRowFn PickHorizontal() {
  if (__builtin_cpu_supports("avx2")) return HorizontalRowAvx2;
  return __builtin_cpu_supports("sse4.1") ? HorizontalRowSse41 : HorizontalRowScalar;
}
VerticalRowFn PickVertical() { return __builtin_cpu_supports("avx2") ? VerticalRowAvx2 : VerticalRowScalar; }

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
  std::vector<double>& w = weights_;
  w.resize(static_cast<size_t>(ksize));
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
    if (in.x0 != 0 || in.y0 != 0 || in.data_width() != in.width || in.data_height() != in.height) {
      return Status::InvalidArgument("nearest-neighbour resizing reads the whole image, not a region");
    }
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
  // A region view must hold every pixel the passes read.
  const int col_first = need_h ? horiz_.bounds[0] : win.x0;
  const int col_last = need_h ? horiz_.bounds[static_cast<size_t>(win.w - 1) * 2] + horiz_.bounds[static_cast<size_t>(win.w - 1) * 2 + 1]
                              : win.x0 + win.w;
  if (row_first < in.y0 || row_last > in.y0 + in.data_height() || col_first < in.x0 || col_last > in.x0 + in.data_width()) {
    return Status::InvalidArgument("the resize reads pixels outside the image region it was given");
  }
  if (need_h && in.x0 != 0) {  // the region's own column numbers
    for (int x = 0; x < win.w; ++x) horiz_.bounds[static_cast<size_t>(x) * 2] -= in.x0;
  }
  // Horizontal pass: rows [row_first, row_last) of the input, output columns of the window.
  const uint8_t* src = in.data + static_cast<int64_t>(row_first - in.y0) * in.stride;
  int64_t src_stride = in.stride;
  int src_x0 = win.x0 - in.x0;  // column offset when there is no horizontal pass
  if (need_h) {
    temp_.resize(static_cast<size_t>(rows) * win.w * ch);
    static const HorizontalRowFn horizontal = PickHorizontal();
    for (int y = 0; y < rows; ++y) {
      const uint8_t* row = src + static_cast<int64_t>(y) * in.stride;
      uint8_t* dst = temp_.data() + static_cast<size_t>(y) * win.w * ch;
      if (ch == 3) {
        horizontal(row, in.data_width(), horiz_.bounds.data(), horiz_.k.data(), horiz_.ksize, win.w, dst);
        continue;
      }
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
    static const VerticalRowFn vertical = PickVertical();
    const int ymin = vert_.bounds[static_cast<size_t>(y) * 2] - row_first, ymax = vert_.bounds[static_cast<size_t>(y) * 2 + 1];
    vertical(src + static_cast<int64_t>(ymin) * src_stride + src_x0 * ch, src_stride, &vert_.k[static_cast<size_t>(y) * vert_.ksize], ymax,
             win.w * ch, dst);
  }
  return Status::OK();
}

Window Resampler::SourceRegion(int in_width, int in_height, int out_width, int out_height, const Window& win, Filter filter,
                               bool antialias) {
  if (filter == Filter::kNearest || in_width <= 0 || in_height <= 0 || win.w <= 0 || win.h <= 0) return Window{0, 0, in_width, in_height};
  const auto span = [&](int in_size, int out_size, int first, int count, Coeffs* c) -> std::pair<int, int> {
    if (in_size == out_size) return {first, first + count};  // no pass in this direction: the window itself
    Precompute(in_size, out_size, first, count, filter, antialias, c);
    return {c->bounds[0], c->bounds[static_cast<size_t>(count - 1) * 2] + c->bounds[static_cast<size_t>(count - 1) * 2 + 1]};
  };
  const auto [x0, x1] = span(in_width, out_width, win.x0, win.w, &horiz_);
  const auto [y0, y1] = span(in_height, out_height, win.y0, win.h, &vert_);
  return Window{x0, y0, x1 - x0, y1 - y0};
}

}  // namespace sluice::image
