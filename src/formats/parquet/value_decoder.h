#pragma once
/// Decodes the values of a data or dictionary page into dense (non-null) physical values.
///
/// Fixed-width physical types append raw little-endian values to `fixed` (BOOLEAN as one byte
/// per value, INT96 as 12 bytes); BYTE_ARRAY values append to `bytes` with `offsets`. Every
/// decoder checks its input bounds and the value count it was asked for.
///
/// Threading: plain functions over caller-owned data.

#include <cstdint>
#include <cstring>
#include <vector>

#include "metadata.h"
#include "schema.h"
#include "sluice/huge_pages.h"
#include "sluice/status.h"

namespace sluice::parquet {

/// Byte vectors that may grow to hundreds of megabytes: huge pages.
using LargeBytes = std::vector<uint8_t, HugePageAllocator<uint8_t>>;

/// Appends `n` bytes with one memcpy. (insert() on a vector whose allocator has its own
/// construct() copies byte by byte at -O2: 2.3x slower reads of tensor columns.)
template <typename T, typename A>
void AppendRaw(std::vector<T, A>& v, const T* p, size_t n) {
  const size_t at = v.size();
  v.resize(at + n);
  if (n) std::memcpy(v.data() + at, p, n * sizeof(T));
}

struct PhysicalValues {
  LargeBytes fixed;
  LargeBytes bytes;
  std::vector<int64_t, HugePageAllocator<int64_t>> offsets{0};
  int64_t count = 0;
};

/// PLAIN byte arrays whose page was decompressed into `out->bytes` itself, at
/// [region_start, ...) with the values from `values_offset`: drops the 4-byte lengths by moving
/// each value down in place, so the values cost no second copy. Appends `count` values.
Status CompactPlainByteArrays(PhysicalValues* out, size_t region_start, size_t values_offset, int64_t count);

/// Decodes `count` values encoded with `encoding` from [data, data + size) and appends them to
/// `out`. `dictionary` is required for the dictionary encodings.
Status DecodeValues(Encoding encoding, const uint8_t* data, size_t size, int64_t count, const LeafColumn& leaf,
                    const PhysicalValues* dictionary, PhysicalValues* out);

}  // namespace sluice::parquet
