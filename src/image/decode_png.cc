#include <png.h>

#include <csetjmp>
#include <cstring>
#include <string>

#include "decoder.h"

namespace sluice::image {
namespace {

/// Lives at one address that libpng holds, so what it owns survives (and is freed after) a
/// longjmp out of libpng.
struct PngReadState {
  std::string_view bytes;
  size_t pos = 0;
  std::string error;
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;
};

void ReadData(png_structp png, png_bytep out, png_size_t n) {
  auto* s = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (n > s->bytes.size() - s->pos) {
    s->error = "truncated PNG";
    png_longjmp(png, 1);
  }
  std::memcpy(out, s->bytes.data() + s->pos, n);
  s->pos += n;
}

void OnError(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngReadState*>(png_get_error_ptr(png));
  if (s->error.empty()) s->error = message;
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}

}  // namespace

Status DecodePng(std::string_view bytes, const DecodeOptions& options, DecodedImage* out) {
  PngReadState state;
  state.bytes = bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, OnError, OnWarning);
  if (!png) return Status::Internal("png_create_read_struct failed");
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return Status::InvalidData("PNG: " + (state.error.empty() ? std::string("corrupt") : state.error));
  }
  png_set_read_fn(png, &state, ReadData);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (static_cast<int64_t>(w) * h > options.max_pixels) {
    png_destroy_read_struct(&png, &info, nullptr);
    return Status::InvalidData("PNG of " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
                               std::to_string(options.max_pixels));
  }
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  // Palette -> RGB, 1/2/4-bit gray -> 8-bit (scaled like Pillow's L;1/L;2/L;4), tRNS -> alpha.
  png_set_expand(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  const int out_depth = png_get_bit_depth(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  std::vector<uint8_t>& raw = state.raw;
  state.rows.resize(h);
  raw.resize(rowbytes * h);
  for (png_uint_32 y = 0; y < h; ++y) state.rows[y] = raw.data() + y * rowbytes;
  png_read_image(png, state.rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  (void)color;
  (void)depth;
  out->width = static_cast<int>(w);
  out->height = static_cast<int>(h);
  out->pixels.resize(static_cast<size_t>(w) * h * 3);
  const bool gray = channels <= 2;  // L or LA
  const size_t bytes_per_sample = out_depth == 16 ? 2 : 1;
  for (size_t i = 0, n = static_cast<size_t>(w) * h; i < n; ++i) {
    const uint8_t* p = raw.data() + i * channels * bytes_per_sample;
    uint8_t* q = &out->pixels[i * 3];
    if (bytes_per_sample == 2) {
      if (gray && channels == 1) {
        // Pillow opens 16-bit grayscale as I;16 and converting to RGB clips at 255.
        const int v = (p[0] << 8) | p[1];
        q[0] = q[1] = q[2] = static_cast<uint8_t>(v > 255 ? 255 : v);
      } else if (gray) {
        q[0] = q[1] = q[2] = p[0];  // LA;16B: high byte
      } else {
        q[0] = p[0], q[1] = p[2], q[2] = p[4];  // RGB(A);16B: high bytes
      }
    } else if (gray) {
      q[0] = q[1] = q[2] = p[0];
    } else {
      q[0] = p[0], q[1] = p[1], q[2] = p[2];
    }
  }
  return Status::OK();
}

}  // namespace sluice::image
