#pragma once
/// The RLE / bit-packing hybrid encoding (definition and repetition levels, dictionary
/// indices, RLE booleans) and DELTA_BINARY_PACKED integers.
///
/// Decoders read from a bounded range and fail, never read past it, on corrupt input.
/// Threading: one thread per instance.

#include <cstdint>
#include <vector>

#include "sluice/status.h"

namespace sluice::parquet {

class RleBitPackedDecoder {
 public:
  /// `bit_width` 0..32.
  RleBitPackedDecoder(const uint8_t* data, size_t size, int bit_width) : p_(data), end_(data + size), width_(bit_width) {}
  /// Decodes exactly `n` values into `out`.
  Status Get(int64_t n, uint32_t* out);
  /// The next piece of at most `n` values, without expanding runs: an RLE run sets *repeated
  /// and *value (nothing is written to `out`); a bit-packed piece writes its values to `out`
  /// (room for `n`). Returns the piece's length (> 0).
  Result<int64_t> GetPiece(int64_t n, bool* repeated, uint32_t* value, uint32_t* out);
  /// Bit width 8 only: like GetPiece, but a bit-packed piece is returned as a pointer to its
  /// bytes (one value each) instead of being copied out.
  Result<int64_t> GetPieceBytes(int64_t n, bool* repeated, uint32_t* value, const uint8_t** bytes);
  /// Bytes consumed so far (for length-less level runs).
  const uint8_t* position() const { return p_; }

 private:
  Status NextRun();
  /// `k` values of the current bit-packed run (width > 0) into `out`.
  void Unpack(int64_t k, uint32_t* out);
  /// The next piece's length; an RLE run is consumed here (*repeated, *value), a bit-packed
  /// piece is left for the caller to take.
  Result<int64_t> BeginPiece(int64_t n, bool* repeated, uint32_t* value);

  const uint8_t* p_;
  const uint8_t* end_;
  int width_;
  int64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  int64_t packed_left_ = 0;       // values left in the current bit-packed run
  const uint8_t* packed_ = nullptr;
  int64_t packed_bit_ = 0;        // bit offset of the next packed value
};

/// Encodes values with the hybrid encoding: RLE for runs of 8 or more equal values, bit-packed
/// groups of 8 otherwise (at most 63 groups per run, as other writers do).
class RleBitPackedEncoder {
 public:
  explicit RleBitPackedEncoder(int bit_width) : width_(bit_width) {}
  void Put(uint32_t value) { values_.push_back(value); }
  /// The encoded bytes (no length prefix).
  std::vector<uint8_t> Finish() const;

 private:
  int width_;
  std::vector<uint32_t> values_;
};

/// Bits needed for values up to `max_value`.
int BitWidth(uint64_t max_value);

/// DELTA_BINARY_PACKED: decodes the whole run of values at `data`.
/// `consumed` receives the bytes the encoded values occupy (data that follows, e.g. the bytes of
/// DELTA_LENGTH_BYTE_ARRAY, starts there).
Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, std::vector<int64_t>* values, size_t* consumed);

}  // namespace sluice::parquet
