#pragma once
/// IEEE half and bfloat16 conversions (round to nearest even), for tensors written on the CPU.
///
/// Threading: pure functions.

#include <cstdint>
#include <cstring>

namespace sluice {

inline uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

inline uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t abs = x & 0x7fffffff;
  if (abs > 0x7f800000) return static_cast<uint16_t>(sign | 0x7e00);           // NaN
  if (abs >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);          // overflow -> inf
  if (abs < 0x38800000) {                                                      // subnormal or zero
    if (abs < 0x33000000) return static_cast<uint16_t>(sign);
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    const int shift = 113 - static_cast<int>(abs >> 23) + 13;  // 126 - exp + 13
    const uint32_t half_mant = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    const uint32_t round = rest > halfway || (rest == halfway && (half_mant & 1));
    return static_cast<uint16_t>(sign | (half_mant + round));
  }
  const uint32_t rebased = abs - 0x38000000;  // exponent 127 -> 15
  const uint32_t round = ((rebased >> 13) & 1) + 0xfff;
  return static_cast<uint16_t>(sign | ((rebased + round) >> 13));
}

inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalize
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) mant <<= 1, --exp;
      x = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000 | (mant << 13);
  } else {
    x = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace sluice
