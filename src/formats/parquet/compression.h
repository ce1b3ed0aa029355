#pragma once
/// Page compression codecs: SNAPPY, GZIP, ZSTD, LZ4_RAW (and Hadoop-framed LZ4), BROTLI,
/// through the Debian libraries (libsnappy, zlib, libzstd, liblz4, libbrotli).
///
/// Threading: stateless functions; safe from any thread.

#include <cstdint>
#include <vector>

#include "metadata.h"
#include "sluice/status.h"

namespace sluice::parquet {

/// Decompresses `in` into exactly `out_size` bytes at `out`; an error if the data is corrupt or
/// does not decompress to that size. Messages say what went wrong, the caller adds where.
Status Decompress(Codec codec, const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size);

/// Compresses `in` (the writer supports UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW, BROTLI).
Result<std::vector<uint8_t>> Compress(Codec codec, const uint8_t* in, size_t size);

/// "zstd" | "snappy" | "gzip" | "none"/"uncompressed" | "lz4_raw" | "brotli"
Result<Codec> ParseCodec(const std::string& name);

}  // namespace sluice::parquet
