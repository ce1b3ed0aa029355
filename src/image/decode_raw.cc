// Raw pixels in sluice's container (sluice/raw_image.h) to RGB, as PIL's convert("RGB") would
// turn an L or RGBA array into RGB.
#include "decoder.h"
#include "sluice/raw_image.h"

namespace sluice::image {

Status DecodeRaw(std::string_view bytes, const DecodeOptions& options, DecodedImage* out) {
  ASSIGN_OR_RETURN(RawImageView v, ParseRawImage(bytes));
  const int64_t pixels = static_cast<int64_t>(v.height) * v.width;
  if (pixels > options.max_pixels) {
    return Status::InvalidData("raw image of " + std::to_string(pixels) + " pixels is over the limit of " + std::to_string(options.max_pixels));
  }
  out->width = static_cast<int>(v.width);
  out->height = static_cast<int>(v.height);
  out->pixels.resize(static_cast<size_t>(pixels) * 3);
  uint8_t* d = out->pixels.data();
  const uint8_t* s = v.pixels;
  for (int64_t i = 0; i < pixels; ++i, d += 3, s += v.channels) {
    d[0] = s[0];
    d[1] = v.channels >= 3 ? s[1] : s[0];
    d[2] = v.channels >= 3 ? s[2] : s[0];
  }
  return Status::OK();
}

}  // namespace sluice::image
