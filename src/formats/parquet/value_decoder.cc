#include "value_decoder.h"

#include <algorithm>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "rle_bit_packed.h"

namespace sluice::parquet {
namespace {

Status Corrupt(const std::string& encoding, const std::string& what) {
  return Status::InvalidData("corrupt " + encoding + " values: " + what);
}

void AppendBytes(PhysicalValues* out, const uint8_t* p, size_t n) {
  AppendRaw(out->bytes, p, n);
  out->offsets.push_back(static_cast<int64_t>(out->bytes.size()));
}

/// Walks `count` PLAIN byte arrays (4-byte length, bytes) in [p, end), checking every length,
/// and calls on_value(bytes, length) for each. on_value may move the value to an address below
/// `p` (in-place compaction): the next length is read only after it returns and lies beyond.
template <typename F>
Status ForEachPlainByteArray(const uint8_t* p, const uint8_t* end, int64_t count, PhysicalValues* out, F&& on_value) {
  out->offsets.reserve(out->offsets.size() + std::min<size_t>(static_cast<size_t>(count), static_cast<size_t>(end - p) / 4));
  for (int64_t i = 0; i < count; ++i) {
    if (end - p < 4) return Corrupt("PLAIN", "truncated length of value " + std::to_string(i));
    uint32_t n;
    std::memcpy(&n, p, 4);
    p += 4;
    if (n > static_cast<uint64_t>(end - p)) {
      return Corrupt("PLAIN", "value " + std::to_string(i) + " of " + std::to_string(n) + " bytes past the page end");
    }
    on_value(p, n);
    p += n;
  }
  return Status::OK();
}

Status DecodePlain(const uint8_t* data, size_t size, int64_t count, const LeafColumn& leaf, PhysicalValues* out) {
  if (leaf.physical == PhysicalType::kBoolean) {
    if (static_cast<uint64_t>(count) > static_cast<uint64_t>(size) * 8) return Corrupt("PLAIN", "too few bytes for " + std::to_string(count) + " booleans");
    const size_t at = out->fixed.size();
    out->fixed.resize(at + static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) out->fixed[at + static_cast<size_t>(i)] = (data[i / 8] >> (i % 8)) & 1;
  } else if (leaf.physical == PhysicalType::kByteArray) {
    RETURN_IF_ERROR(ForEachPlainByteArray(data, data + size, count, out, [&](const uint8_t* p, uint32_t n) { AppendBytes(out, p, n); }));
  } else {
    const size_t width = static_cast<size_t>(PhysicalWidth(leaf.physical, leaf.type_length));
    if (static_cast<uint64_t>(count) * width > size) {
      return Corrupt("PLAIN", std::to_string(count) + " values of " + std::to_string(width) + " bytes in a " + std::to_string(size) + "-byte page");
    }
    AppendRaw(out->fixed, data, static_cast<size_t>(count) * width);
  }
  out->count += count;
  return Status::OK();
}

/// dst[i] = lut[src[i]] for n bytes; returns the largest index seen (for the bounds check).
uint8_t LookupBytesScalar(const uint8_t* lut, const uint8_t* src, uint8_t* dst, size_t n) {
  uint8_t worst = 0;
  for (size_t i = 0; i < n; ++i) {
    worst = std::max(worst, src[i]);
    dst[i] = lut[src[i]];
  }
  return worst;
}

#if defined(__x86_64__)
/// The same with AVX-512 VBMI: a 256-entry byte table is four registers, looked up 64 bytes at
/// a time (two 128-entry permutes and a blend on the index's top bit).
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) uint8_t LookupBytesVbmi(const uint8_t* lut, const uint8_t* src, uint8_t* dst,
                                                                               size_t n) {
  const __m512i t0 = _mm512_loadu_si512(lut), t1 = _mm512_loadu_si512(lut + 64);
  const __m512i t2 = _mm512_loadu_si512(lut + 128), t3 = _mm512_loadu_si512(lut + 192);
  __m512i worst = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i idx = _mm512_loadu_si512(src + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, idx, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, idx, t3);
    _mm512_storeu_si512(dst + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), low, high));
    worst = _mm512_max_epu8(worst, idx);
  }
  alignas(64) uint8_t lanes[64];
  _mm512_store_si512(lanes, worst);
  uint8_t w = LookupBytesScalar(lut, src + i, dst + i, n - i);
  for (uint8_t v : lanes) w = std::max(w, v);
  return w;
}
#endif

uint8_t LookupBytes(const uint8_t* lut, const uint8_t* src, uint8_t* dst, size_t n) {
#if defined(__x86_64__)
  static const bool vbmi = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
  if (vbmi) return LookupBytesVbmi(lut, src, dst, n);
#endif
  return LookupBytesScalar(lut, src, dst, n);
}

Status DecodeDictionaryIndices(const uint8_t* data, size_t size, int64_t count, const PhysicalValues& dict,
                               const LeafColumn& leaf, PhysicalValues* out) {
  if (count == 0) return Status::OK();
  if (size < 1) return Corrupt("RLE_DICTIONARY", "no bit width");
  const int width = data[0];
  if (width > 32) return Corrupt("RLE_DICTIONARY", "bit width " + std::to_string(width));
  RleBitPackedDecoder dec(data + 1, size - 1, width);
  auto bad_index = [&](uint32_t i) {
    return Corrupt("RLE_DICTIONARY", "index " + std::to_string(i) + " out of a dictionary of " + std::to_string(dict.count));
  };
  // Pieces at a time (an RLE run, or up to 1024 bit-packed indices): no index array for the
  // whole page, and runs fill without a lookup per value.
  uint32_t idx[1024];
  // Every index, checked, one at a time (the general case: byte arrays, odd widths).
  auto each_index = [&](auto&& take) -> Status {
    for (int64_t left = count; left > 0;) {
      bool repeated;
      uint32_t value;
      ASSIGN_OR_RETURN(int64_t k, dec.GetPiece(std::min<int64_t>(left, 1024), &repeated, &value, idx));
      for (int64_t j = 0; j < k; ++j) {
        const uint32_t i = repeated ? value : idx[j];
        if (i >= static_cast<uint64_t>(dict.count)) return bad_index(i);
        take(i);
      }
      left -= k;
    }
    return Status::OK();
  };
  if (leaf.physical == PhysicalType::kByteArray) {
    RETURN_IF_ERROR(each_index([&](uint32_t i) {
      AppendBytes(out, dict.bytes.data() + dict.offsets[i], static_cast<size_t>(dict.offsets[i + 1] - dict.offsets[i]));
    }));
    out->count += count;
    return Status::OK();
  }
  // The dictionary's own width: narrowed integer columns have narrowed dictionaries.
  const size_t width_bytes = dict.count > 0 ? dict.fixed.size() / static_cast<size_t>(dict.count)
                                            : static_cast<size_t>(PhysicalWidth(leaf.physical, leaf.type_length));
  const size_t at = out->fixed.size();
  out->fixed.resize(at + static_cast<size_t>(count) * width_bytes);
  uint8_t* dst = out->fixed.data() + at;
  const uint8_t* table = dict.fixed.data();
  auto gather = [&](auto word) -> Status {  // typed copies: a memcpy call per value costs more
    using W = decltype(word);
    for (int64_t left = count; left > 0;) {
      bool repeated;
      uint32_t value;
      ASSIGN_OR_RETURN(int64_t k, dec.GetPiece(std::min<int64_t>(left, 1024), &repeated, &value, idx));
      if (repeated) {
        if (value >= static_cast<uint64_t>(dict.count)) return bad_index(value);
        W v;
        std::memcpy(&v, table + static_cast<size_t>(value) * sizeof(W), sizeof(W));
        for (int64_t j = 0; j < k; ++j) std::memcpy(dst + static_cast<size_t>(j) * sizeof(W), &v, sizeof(W));
      } else {
        uint32_t worst = 0;
        for (int64_t j = 0; j < k; ++j) worst = std::max(worst, idx[j]);
        if (worst >= static_cast<uint64_t>(dict.count)) return bad_index(worst);
        for (int64_t j = 0; j < k; ++j) {
          W v;
          std::memcpy(&v, table + static_cast<size_t>(idx[j]) * sizeof(W), sizeof(W));
          std::memcpy(dst + static_cast<size_t>(j) * sizeof(W), &v, sizeof(W));
        }
      }
      dst += static_cast<size_t>(k) * sizeof(W);
      left -= k;
    }
    return Status::OK();
  };
  if (width_bytes == 1 && width == 8) {  // uint8 images (Ray's): byte indices into a byte table
    uint8_t lut[256] = {};
    std::memcpy(lut, table, static_cast<size_t>(std::min<int64_t>(dict.count, 256)));
    for (int64_t left = count; left > 0;) {
      bool repeated;
      uint32_t value;
      const uint8_t* src = nullptr;
      ASSIGN_OR_RETURN(int64_t k, dec.GetPieceBytes(left, &repeated, &value, &src));
      if (repeated) {
        if (value >= static_cast<uint64_t>(dict.count)) return bad_index(value);
        std::memset(dst, lut[value], static_cast<size_t>(k));
      } else {
        const uint8_t worst = LookupBytes(lut, src, dst, static_cast<size_t>(k));
        if (worst >= dict.count) return bad_index(worst);
      }
      dst += k;
      left -= k;
    }
    out->count += count;
    return Status::OK();
  }
  switch (width_bytes) {
    case 1: RETURN_IF_ERROR(gather(uint8_t{})); break;
    case 2: RETURN_IF_ERROR(gather(uint16_t{})); break;
    case 4: RETURN_IF_ERROR(gather(uint32_t{})); break;
    case 8: RETURN_IF_ERROR(gather(uint64_t{})); break;
    default:
      RETURN_IF_ERROR(each_index([&](uint32_t i) {
        std::memcpy(dst, table + static_cast<size_t>(i) * width_bytes, width_bytes);
        dst += width_bytes;
      }));
  }
  out->count += count;
  return Status::OK();
}

Status DecodeRleBooleans(const uint8_t* data, size_t size, int64_t count, PhysicalValues* out) {
  if (size < 4) return Corrupt("RLE", "no length prefix");
  uint32_t n;
  std::memcpy(&n, data, 4);
  if (n > size - 4) return Corrupt("RLE", "length " + std::to_string(n) + " past the page end");
  std::vector<uint32_t> v(static_cast<size_t>(count));
  RleBitPackedDecoder dec(data + 4, n, 1);
  RETURN_IF_ERROR(dec.Get(count, v.data()));
  for (uint32_t b : v) out->fixed.push_back(static_cast<uint8_t>(b));
  out->count += count;
  return Status::OK();
}

Status DecodeDeltaIntegers(const uint8_t* data, size_t size, int64_t count, const LeafColumn& leaf, PhysicalValues* out) {
  std::vector<int64_t> v;
  size_t used;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, &v, &used));
  if (static_cast<int64_t>(v.size()) < count) return Corrupt("DELTA_BINARY_PACKED", std::to_string(v.size()) + " values, need " + std::to_string(count));
  const size_t width = leaf.physical == PhysicalType::kInt32 ? 4 : 8;
  const size_t at = out->fixed.size();
  out->fixed.resize(at + static_cast<size_t>(count) * width);
  for (int64_t i = 0; i < count; ++i) {
    if (width == 4) {
      const int32_t x = static_cast<int32_t>(v[static_cast<size_t>(i)]);
      std::memcpy(out->fixed.data() + at + static_cast<size_t>(i) * 4, &x, 4);
    } else {
      std::memcpy(out->fixed.data() + at + static_cast<size_t>(i) * 8, &v[static_cast<size_t>(i)], 8);
    }
  }
  out->count += count;
  return Status::OK();
}

/// Lengths (DELTA_BINARY_PACKED) then the concatenated bytes.
Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, int64_t count, std::vector<int64_t>* lengths,
                                  const uint8_t** bytes, size_t* bytes_size) {
  size_t used;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, lengths, &used));
  if (static_cast<int64_t>(lengths->size()) < count) return Corrupt("DELTA_LENGTH_BYTE_ARRAY", "too few lengths");
  uint64_t total = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t n = (*lengths)[static_cast<size_t>(i)];
    if (n < 0) return Corrupt("DELTA_LENGTH_BYTE_ARRAY", "negative length");
    total += static_cast<uint64_t>(n);
  }
  if (total > size - used) return Corrupt("DELTA_LENGTH_BYTE_ARRAY", "values past the page end");
  *bytes = data + used;
  *bytes_size = size - used;
  return Status::OK();
}

Status DecodeDeltaByteArrayFamily(Encoding encoding, const uint8_t* data, size_t size, int64_t count,
                                  const LeafColumn& leaf, PhysicalValues* out) {
  std::vector<int64_t> prefixes;
  size_t prefix_bytes = 0;
  if (encoding == Encoding::kDeltaByteArray) {
    RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, &prefixes, &prefix_bytes));
    if (static_cast<int64_t>(prefixes.size()) < count) return Corrupt("DELTA_BYTE_ARRAY", "too few prefix lengths");
  }
  std::vector<int64_t> lengths;
  const uint8_t* bytes = nullptr;
  size_t bytes_size = 0;
  RETURN_IF_ERROR(DecodeDeltaLengthByteArray(data + prefix_bytes, size - prefix_bytes, count, &lengths, &bytes, &bytes_size));
  std::string previous, value;
  const bool fixed = leaf.physical == PhysicalType::kFixedLenByteArray;
  for (int64_t i = 0; i < count; ++i) {
    const size_t n = static_cast<size_t>(lengths[static_cast<size_t>(i)]);
    if (encoding == Encoding::kDeltaByteArray) {
      const int64_t prefix = prefixes[static_cast<size_t>(i)];
      if (prefix < 0 || static_cast<size_t>(prefix) > previous.size()) return Corrupt("DELTA_BYTE_ARRAY", "prefix longer than the previous value");
      value.assign(previous, 0, static_cast<size_t>(prefix));
      value.append(reinterpret_cast<const char*>(bytes), n);
    } else {
      value.assign(reinterpret_cast<const char*>(bytes), n);
    }
    bytes += n;
    if (fixed) {
      if (value.size() != static_cast<size_t>(leaf.type_length)) return Corrupt(EncodingName(encoding), "value of the wrong fixed length");
      AppendRaw(out->fixed, reinterpret_cast<const uint8_t*>(value.data()), value.size());
    } else {
      AppendBytes(out, reinterpret_cast<const uint8_t*>(value.data()), value.size());
    }
    previous.swap(value);
  }
  out->count += count;
  return Status::OK();
}

Status DecodeByteStreamSplit(const uint8_t* data, size_t size, int64_t count, const LeafColumn& leaf, PhysicalValues* out) {
  const size_t width = static_cast<size_t>(PhysicalWidth(leaf.physical, leaf.type_length));
  if (width == 0 || leaf.physical == PhysicalType::kBoolean || leaf.physical == PhysicalType::kInt96) {
    return Status::Unimplemented("BYTE_STREAM_SPLIT for " + PhysicalTypeName(leaf.physical));
  }
  if (static_cast<uint64_t>(count) * width > size) return Corrupt("BYTE_STREAM_SPLIT", "too few bytes");
  // Stream b holds byte b of each of the page's `count` values.
  const size_t n = static_cast<size_t>(count);
  const size_t at = out->fixed.size();
  out->fixed.resize(at + static_cast<size_t>(count) * width);
  uint8_t* dst = out->fixed.data() + at;
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    for (size_t b = 0; b < width; ++b) dst[i * width + b] = data[b * n + i];
  }
  out->count += count;
  return Status::OK();
}

}  // namespace

Status CompactPlainByteArrays(PhysicalValues* out, size_t region_start, size_t values_offset, int64_t count) {
  uint8_t* base = out->bytes.data();
  uint8_t* dst = base + region_start;
  RETURN_IF_ERROR(ForEachPlainByteArray(base + values_offset, base + out->bytes.size(), count, out,
                                        [&](const uint8_t* p, uint32_t n) {
                                          std::memmove(dst, p, n);
                                          dst += n;
                                          out->offsets.push_back(dst - base);
                                        }));
  out->bytes.resize(static_cast<size_t>(dst - base));
  out->count += count;
  return Status::OK();
}

namespace {

/// The low `w` (1 or 2) bytes of `n` little-endian INT32s; `dst` may be `src` (forward is safe:
/// value i moves from 4i down to i*w).
void NarrowInt32(const uint8_t* src, size_t n, size_t w, uint8_t* dst) {
  for (size_t i = 0; i < n; ++i) {
    dst[i * w] = src[4 * i];
    if (w == 2) dst[i * w + 1] = src[4 * i + 1];
  }
}

}  // namespace

Status DecodeValues(Encoding encoding, const uint8_t* data, size_t size, int64_t count, const LeafColumn& leaf,
                    const PhysicalValues* dictionary, PhysicalValues* out) {
  // int8/int16/uint8/uint16 columns: INT32 values narrowed as they are decoded, in one pass for
  // PLAIN pages (the layout of Ray's uint8 images) and through the (already narrow) dictionary.
  if (leaf.conversion == ValueConversion::kNarrow && leaf.physical == PhysicalType::kInt32) {
    const size_t w = static_cast<size_t>(leaf.value_type.fixed_row_bytes());
    if (encoding == Encoding::kPlain) {
      if (static_cast<uint64_t>(count) * 4 > size) {
        return Corrupt("PLAIN", std::to_string(count) + " values of 4 bytes in a " + std::to_string(size) + "-byte page");
      }
      const size_t at = out->fixed.size();
      out->fixed.resize(at + static_cast<size_t>(count) * w);
      NarrowInt32(data, static_cast<size_t>(count), w, out->fixed.data() + at);
      out->count += count;
      return Status::OK();
    }
    if (encoding != Encoding::kPlainDictionary && encoding != Encoding::kRleDictionary) {
      const size_t at = out->fixed.size();
      LeafColumn wide = leaf;
      wide.conversion = ValueConversion::kAsIs;
      RETURN_IF_ERROR(DecodeValues(encoding, data, size, count, wide, dictionary, out));
      const size_t n = (out->fixed.size() - at) / 4;
      NarrowInt32(out->fixed.data() + at, n, w, out->fixed.data() + at);
      out->fixed.resize(at + n * w);
      return Status::OK();
    }
  }
  switch (encoding) {
    case Encoding::kPlain:
      return DecodePlain(data, size, count, leaf, out);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary:
      if (dictionary == nullptr) return Status::InvalidData("dictionary-encoded page without a dictionary page");
      return DecodeDictionaryIndices(data, size, count, *dictionary, leaf, out);
    case Encoding::kRle:
      if (leaf.physical != PhysicalType::kBoolean) break;
      return DecodeRleBooleans(data, size, count, out);
    case Encoding::kDeltaBinaryPacked:
      if (leaf.physical != PhysicalType::kInt32 && leaf.physical != PhysicalType::kInt64) break;
      return DecodeDeltaIntegers(data, size, count, leaf, out);
    case Encoding::kDeltaLengthByteArray:
      if (leaf.physical != PhysicalType::kByteArray) break;
      return DecodeDeltaByteArrayFamily(encoding, data, size, count, leaf, out);
    case Encoding::kDeltaByteArray:
      if (leaf.physical != PhysicalType::kByteArray && leaf.physical != PhysicalType::kFixedLenByteArray) break;
      return DecodeDeltaByteArrayFamily(encoding, data, size, count, leaf, out);
    case Encoding::kByteStreamSplit:
      return DecodeByteStreamSplit(data, size, count, leaf, out);
    case Encoding::kBitPacked:
      break;
  }
  return Status::Unimplemented("encoding " + EncodingName(encoding) + " for " + PhysicalTypeName(leaf.physical) + " values");
}

}  // namespace sluice::parquet
