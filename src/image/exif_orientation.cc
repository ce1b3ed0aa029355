// EXIF orientation: read from a JPEG's APP1 "Exif" segment and applied by rotating/flipping.
#include <cstring>

#include "decoder.h"

namespace sluice::image {
namespace {

uint16_t Read16(const uint8_t* p, bool little) { return little ? (p[0] | (p[1] << 8)) : ((p[0] << 8) | p[1]); }
uint32_t Read32(const uint8_t* p, bool little) {
  return little ? (p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24))
                : ((static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
}

}  // namespace

int JpegExifOrientation(std::string_view bytes) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 2;
  while (i + 4 <= bytes.size() && b[i] == 0xff) {
    const uint8_t marker = b[i + 1];
    const size_t len = (b[i + 2] << 8) | b[i + 3];
    if (marker == 0xda || marker == 0xd9 || len < 2 || i + 2 + len > bytes.size()) break;
    if (marker == 0xe1 && len >= 16 && std::memcmp(b + i + 4, "Exif\0\0", 6) == 0) {
      const uint8_t* tiff = b + i + 10;
      const size_t tiff_len = len - 8;
      const bool little = tiff[0] == 'I';
      const uint32_t ifd = Read32(tiff + 4, little);
      if (ifd + 2 > tiff_len) return 1;
      const uint16_t entries = Read16(tiff + ifd, little);
      for (uint16_t e = 0; e < entries; ++e) {
        const size_t at = ifd + 2 + static_cast<size_t>(e) * 12;
        if (at + 12 > tiff_len) break;
        if (Read16(tiff + at, little) == 0x0112) {
          const int o = Read16(tiff + at + 8, little);
          return o >= 1 && o <= 8 ? o : 1;
        }
      }
      return 1;
    }
    i += 2 + len;
  }
  return 1;
}

void ApplyOrientation(int o, DecodedImage* img) {
  if (o <= 1 || o > 8) return;
  const int w = img->width, h = img->height;
  const bool transpose = o >= 5;  // 5-8 swap width and height
  const int ow = transpose ? h : w, oh = transpose ? w : h;
  std::vector<uint8_t> out(img->pixels.size());
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      int sx, sy;  // source pixel for output (x, y)
      switch (o) {
        case 2: sx = w - 1 - x, sy = y; break;          // mirror horizontal
        case 3: sx = w - 1 - x, sy = h - 1 - y; break;  // rotate 180
        case 4: sx = x, sy = h - 1 - y; break;          // mirror vertical
        case 5: sx = y, sy = x; break;                  // transpose
        case 6: sx = y, sy = h - 1 - x; break;          // rotate 90 clockwise
        case 7: sx = w - 1 - y, sy = h - 1 - x; break;  // transverse
        default: sx = w - 1 - y, sy = x; break;         // 8: rotate 270 clockwise
      }
      std::memcpy(&out[(static_cast<size_t>(y) * ow + x) * 3], &img->pixels[(static_cast<size_t>(sy) * w + sx) * 3], 3);
    }
  }
  img->pixels.swap(out);
  img->width = ow;
  img->height = oh;
}

}  // namespace sluice::image
