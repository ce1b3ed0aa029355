#include <webp/decode.h>

#include <string>

#include "decoder.h"

namespace sluice::image {

Status DecodeWebp(std::string_view bytes, const DecodeOptions& options, DecodedImage* out) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  int w = 0, h = 0;
  if (!WebPGetInfo(data, bytes.size(), &w, &h)) return Status::InvalidData("WebP: corrupt header");
  if (static_cast<int64_t>(w) * h > options.max_pixels) {
    return Status::InvalidData("WebP of " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
                               std::to_string(options.max_pixels));
  }
  out->pixels.resize(static_cast<size_t>(w) * h * 3);
  if (!WebPDecodeRGBInto(data, bytes.size(), out->pixels.data(), out->pixels.size(), w * 3)) {
    return Status::InvalidData("WebP: corrupt or truncated image data");
  }
  out->width = w;
  out->height = h;
  return Status::OK();
}

}  // namespace sluice::image
