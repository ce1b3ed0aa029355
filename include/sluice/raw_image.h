#pragma once
/// A raw uint8 image carried in one binary value, so that images stored as pixel arrays of
/// varying shapes (Ray Data's variable-shaped tensors) travel through a pipeline exactly like
/// encoded JPEG/PNG bytes: the decoder recognizes the header and copies the pixels.
///
///   "SLRI" | uint32 height | uint32 width | uint32 channels (little-endian) | pixels (HWC)
///
/// A row that cannot be an image (a shape that disagrees with its data, an empty row, a shape
/// of the wrong rank) is written as the header with zero dimensions followed by the reason, so
/// decoding it fails with that reason and the row becomes a bad row, not a crash.
///
/// Threading: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice {

inline constexpr std::string_view kRawImageMagic{"SLRI", 4};
inline constexpr size_t kRawImageHeaderBytes = 16;

/// Appends a raw image of `height` x `width` x `channels` pixels.
void AppendRawImage(uint32_t height, uint32_t width, uint32_t channels, const uint8_t* pixels, std::string* out);
/// Appends a value that decodes to InvalidData(`reason`).
void AppendRawImageError(std::string_view reason, std::string* out);

struct RawImageView {
  uint32_t height = 0, width = 0, channels = 0;
  const uint8_t* pixels = nullptr;
};

bool IsRawImage(std::string_view bytes);
/// The image in `bytes` (which must start with the magic), checked: dimensions, channel count
/// (1, 3 or 4) and that the pixels are all there.
Result<RawImageView> ParseRawImage(std::string_view bytes);

}  // namespace sluice
