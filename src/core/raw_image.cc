#include "sluice/raw_image.h"

#include <cstring>

namespace sluice {
namespace {

void AppendU32(uint32_t v, std::string* out) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian machines only (x86-64, aarch64)
  out->append(b, 4);
}

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

void AppendRawImage(uint32_t height, uint32_t width, uint32_t channels, const uint8_t* pixels, std::string* out) {
  out->append(kRawImageMagic);
  AppendU32(height, out);
  AppendU32(width, out);
  AppendU32(channels, out);
  out->append(reinterpret_cast<const char*>(pixels), static_cast<size_t>(height) * width * channels);
}

void AppendRawImageError(std::string_view reason, std::string* out) {
  out->append(kRawImageMagic);
  AppendU32(0, out);
  AppendU32(0, out);
  AppendU32(0, out);
  out->append(reason);
}

bool IsRawImage(std::string_view bytes) { return bytes.size() >= kRawImageHeaderBytes && bytes.substr(0, 4) == kRawImageMagic; }

Result<RawImageView> ParseRawImage(std::string_view bytes) {
  if (!IsRawImage(bytes)) return Status::InvalidData("not a raw image (no SLRI header)");
  RawImageView v;
  v.height = LoadU32(bytes.data() + 4);
  v.width = LoadU32(bytes.data() + 8);
  v.channels = LoadU32(bytes.data() + 12);
  const std::string_view body = bytes.substr(kRawImageHeaderBytes);
  if (v.height == 0 && v.width == 0 && v.channels == 0) return Status::InvalidData(std::string(body));
  if (v.height == 0 || v.width == 0) {
    return Status::InvalidData("raw image of " + std::to_string(v.height) + "x" + std::to_string(v.width) + " pixels");
  }
  if (v.channels != 1 && v.channels != 3 && v.channels != 4) {
    return Status::InvalidData("raw image with " + std::to_string(v.channels) + " channels (1, 3 or 4 can be images)");
  }
  const uint64_t need = static_cast<uint64_t>(v.height) * v.width * v.channels;
  if (body.size() != need) {
    return Status::InvalidData("raw image of shape [" + std::to_string(v.height) + ", " + std::to_string(v.width) + ", " +
                               std::to_string(v.channels) + "] needs " + std::to_string(need) + " bytes; the row holds " +
                               std::to_string(body.size()));
  }
  v.pixels = reinterpret_cast<const uint8_t*>(body.data());
  return v;
}

}  // namespace sluice
