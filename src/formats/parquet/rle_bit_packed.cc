#include "rle_bit_packed.h"

#include <cstring>

namespace sluice::parquet {
namespace {

Status Corrupt(const std::string& what) { return Status::InvalidData("corrupt RLE/bit-packed data: " + what); }

bool ReadUleb(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    const uint8_t b = *p++;
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

/// `width` bits at bit offset `bit` of `base`; the caller guarantees the bits are in range.
uint64_t LoadBits(const uint8_t* base, int64_t bit, int width, const uint8_t* end) {
  const uint8_t* p = base + bit / 8;
  uint8_t buf[16] = {};
  const size_t avail = static_cast<size_t>(end - p);
  std::memcpy(buf, p, avail < 9 ? avail : 9);
  uint64_t lo;
  std::memcpy(&lo, buf, 8);
  const int shift = static_cast<int>(bit % 8);
  uint64_t v = lo >> shift;
  if (shift + width > 64) v |= static_cast<uint64_t>(buf[8]) << (64 - shift);
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

void AppendUleb(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value > 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

Status RleBitPackedDecoder::NextRun() {
  uint64_t header;
  if (!ReadUleb(p_, end_, &header)) return Corrupt("truncated run header");
  if (header & 1) {
    const uint64_t groups = header >> 1;
    const uint64_t bytes = groups * static_cast<uint64_t>(width_);
    if (groups == 0) return Corrupt("empty bit-packed run");
    if (bytes > static_cast<uint64_t>(end_ - p_)) {
      // Writers may end the last run early when the values run out: accept what is there.
      packed_left_ = width_ == 0 ? static_cast<int64_t>(groups * 8) : (end_ - p_) * 8 / width_;
      if (packed_left_ == 0) return Corrupt("bit-packed run of " + std::to_string(groups) + " groups past the end");
    } else {
      packed_left_ = static_cast<int64_t>(groups * 8);
    }
    packed_ = p_;
    packed_bit_ = 0;
    p_ += bytes > static_cast<uint64_t>(end_ - p_) ? (end_ - p_) : static_cast<int64_t>(bytes);
  } else {
    rle_left_ = static_cast<int64_t>(header >> 1);
    if (rle_left_ == 0) return Corrupt("empty RLE run");
    const int nbytes = (width_ + 7) / 8;
    if (end_ - p_ < nbytes) return Corrupt("truncated RLE value");
    uint32_t v = 0;
    for (int i = 0; i < nbytes; ++i) v |= static_cast<uint32_t>(p_[i]) << (8 * i);
    p_ += nbytes;
    if (width_ < 32 && (v >> width_) != 0) return Corrupt("RLE value " + std::to_string(v) + " wider than " + std::to_string(width_) + " bits");
    rle_value_ = v;
  }
  return Status::OK();
}

Status RleBitPackedDecoder::Get(int64_t n, uint32_t* out) {
  while (n > 0) {
    if (rle_left_ == 0 && packed_left_ == 0) RETURN_IF_ERROR(NextRun());
    if (rle_left_ > 0) {
      const int64_t k = rle_left_ < n ? rle_left_ : n;
      for (int64_t i = 0; i < k; ++i) out[i] = rle_value_;
      out += k;
      n -= k;
      rle_left_ -= k;
    } else {
      const int64_t k = packed_left_ < n ? packed_left_ : n;
      if (width_ == 0) {
        std::memset(out, 0, static_cast<size_t>(k) * sizeof(uint32_t));
      } else {
        Unpack(k, out);
      }
      out += k;
      n -= k;
      packed_left_ -= k;
    }
  }
  return Status::OK();
}

void RleBitPackedDecoder::Unpack(int64_t k, uint32_t* out) {
  int64_t i = 0;
  if (width_ == 8 && packed_bit_ % 8 == 0) {  // dictionary indices of up to 256 entries: bytes
    const uint8_t* b = packed_ + packed_bit_ / 8;
    for (; i < k; ++i) out[i] = b[i];
    packed_bit_ += 8 * k;
    return;
  }
  // A direct 64-bit load while 8 bytes are readable; the careful load near the end.
  const uint64_t mask = width_ == 32 ? 0xffffffffu : (uint64_t{1} << width_) - 1;
  for (; i < k; ++i) {
    const uint8_t* b = packed_ + packed_bit_ / 8;
    if (p_ - b < 8) break;
    uint64_t word;
    std::memcpy(&word, b, 8);
    out[i] = static_cast<uint32_t>((word >> (packed_bit_ % 8)) & mask);
    packed_bit_ += width_;
  }
  for (; i < k; ++i) {
    out[i] = static_cast<uint32_t>(LoadBits(packed_, packed_bit_, width_, p_));
    packed_bit_ += width_;
  }
}

Result<int64_t> RleBitPackedDecoder::BeginPiece(int64_t n, bool* repeated, uint32_t* value) {
  if (rle_left_ == 0 && packed_left_ == 0) RETURN_IF_ERROR(NextRun());
  *repeated = rle_left_ > 0;
  if (*repeated) {
    const int64_t k = rle_left_ < n ? rle_left_ : n;
    *value = rle_value_;
    rle_left_ -= k;
    return k;
  }
  return packed_left_ < n ? packed_left_ : n;
}

Result<int64_t> RleBitPackedDecoder::GetPieceBytes(int64_t n, bool* repeated, uint32_t* value, const uint8_t** bytes) {
  ASSIGN_OR_RETURN(const int64_t k, BeginPiece(n, repeated, value));
  if (*repeated) return k;
  *bytes = packed_ + packed_bit_ / 8;  // width 8: whole bytes, inside the run (packed_left_ counts them)
  packed_bit_ += 8 * k;
  packed_left_ -= k;
  return k;
}

Result<int64_t> RleBitPackedDecoder::GetPiece(int64_t n, bool* repeated, uint32_t* value, uint32_t* out) {
  ASSIGN_OR_RETURN(const int64_t k, BeginPiece(n, repeated, value));
  if (*repeated) return k;
  if (width_ == 0) {
    std::memset(out, 0, static_cast<size_t>(k) * sizeof(uint32_t));
  } else {
    Unpack(k, out);
  }
  packed_left_ -= k;
  return k;
}

std::vector<uint8_t> RleBitPackedEncoder::Finish() const {
  std::vector<uint8_t> out;
  const size_t n = values_.size();
  const int value_bytes = (width_ + 7) / 8;
  auto run_at = [&](size_t i) {
    size_t j = i;
    while (j < n && values_[j] == values_[i]) ++j;
    return j - i;
  };
  size_t i = 0;
  while (i < n) {
    const size_t run = run_at(i);
    if (run >= 8) {
      AppendUleb(out, static_cast<uint64_t>(run) << 1);
      for (int b = 0; b < value_bytes; ++b) out.push_back(static_cast<uint8_t>(values_[i] >> (8 * b)));
      i += run;
      continue;
    }
    // Bit-pack groups of 8 until a long run starts at a group boundary (or 63 groups).
    size_t end = i;
    int groups = 0;
    do {
      end += 8;
      ++groups;
    } while (end < n && groups < 63 && run_at(end) < 8);
    AppendUleb(out, (static_cast<uint64_t>(groups) << 1) | 1);
    const size_t start = out.size();
    out.resize(start + static_cast<size_t>(groups) * static_cast<size_t>(width_), 0);
    int64_t bit = 0;
    for (size_t k = i; k < end; ++k, bit += width_) {
      const uint64_t v = k < n ? values_[k] : 0;
      for (int b = 0; b < width_; ++b) {
        if ((v >> b) & 1) out[start + static_cast<size_t>((bit + b) / 8)] |= static_cast<uint8_t>(1u << ((bit + b) % 8));
      }
    }
    i = end;
  }
  return out;
}

Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, std::vector<int64_t>* values, size_t* consumed) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  auto corrupt = [](const std::string& w) { return Status::InvalidData("corrupt DELTA_BINARY_PACKED data: " + w); };
  uint64_t block_size, miniblocks, total, first_zz;
  if (!ReadUleb(p, end, &block_size) || !ReadUleb(p, end, &miniblocks) || !ReadUleb(p, end, &total) ||
      !ReadUleb(p, end, &first_zz)) {
    return corrupt("truncated header");
  }
  if (block_size == 0 || block_size % 128 != 0 || miniblocks == 0 || block_size % miniblocks != 0 ||
      (block_size / miniblocks) % 32 != 0) {
    return corrupt("block size " + std::to_string(block_size) + " with " + std::to_string(miniblocks) + " miniblocks");
  }
  // Every block takes at least 1 + miniblocks bytes (its min delta and bit widths), so the bytes
  // bound how many values can follow; refuse counts they cannot hold.
  const uint64_t max_blocks = static_cast<uint64_t>(end - p) / (1 + miniblocks) + 1;
  if (total > 1 + max_blocks * block_size) return corrupt("value count " + std::to_string(total) + " larger than the data can hold");
  const uint64_t per_mini = block_size / miniblocks;
  values->clear();
  values->reserve(total);
  uint64_t last = (first_zz >> 1) ^ (~(first_zz & 1) + 1);
  if (total > 0) values->push_back(static_cast<int64_t>(last));
  std::vector<uint8_t> widths(miniblocks);
  while (values->size() < total) {
    uint64_t min_zz;
    if (!ReadUleb(p, end, &min_zz)) return corrupt("truncated block header");
    const uint64_t min_delta = (min_zz >> 1) ^ (~(min_zz & 1) + 1);
    if (static_cast<uint64_t>(end - p) < miniblocks) return corrupt("truncated miniblock widths");
    std::memcpy(widths.data(), p, miniblocks);
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && values->size() < total; ++m) {
      const int w = widths[m];
      if (w > 64) return corrupt("miniblock bit width " + std::to_string(w));
      const uint64_t bytes = per_mini * static_cast<uint64_t>(w) / 8;
      const uint64_t avail = static_cast<uint64_t>(end - p);
      const uint64_t want = total - values->size();
      const uint64_t take = want < per_mini ? want : per_mini;
      if ((take * static_cast<uint64_t>(w) + 7) / 8 > avail) return corrupt("truncated miniblock");
      for (uint64_t k = 0; k < take; ++k) {
        const uint64_t delta = w == 0 ? 0 : LoadBits(p, static_cast<int64_t>(k * static_cast<uint64_t>(w)), w, end);
        last = last + min_delta + delta;  // wraps like the writer's arithmetic
        values->push_back(static_cast<int64_t>(last));
      }
      p += bytes < avail ? bytes : avail;
    }
  }
  *consumed = static_cast<size_t>(p - data);
  return Status::OK();
}

}  // namespace sluice::parquet
