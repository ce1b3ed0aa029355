#include "compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace sluice::parquet {
namespace {

Status SizeMismatch(size_t got, size_t want) {
  return Status::InvalidData("decompressed to " + std::to_string(got) + " bytes, the page header says " + std::to_string(want));
}

Status Inflate(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Status::Internal("zlib inflateInit2 failed");  // gzip or zlib header
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(in_size);
  z.next_out = out;
  z.avail_out = static_cast<uInt>(out_size);
  const int rc = inflate(&z, Z_FINISH);
  const size_t produced = out_size - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    if (rc == Z_BUF_ERROR && z.avail_out == 0) return Status::InvalidData("GZIP data inflates to more than the page header says");
    return Status::InvalidData(std::string("GZIP data is corrupt (zlib: ") + (z.msg ? z.msg : std::to_string(rc)) + ")");
  }
  return produced == out_size ? Status::OK() : SizeMismatch(produced, out_size);
}

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

/// Old writers framed LZ4 blocks the Hadoop way: [decompressed u32 BE][compressed u32 BE][block]...
bool TryHadoopLz4(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  size_t pos = 0, produced = 0;
  while (in_size - pos >= 8) {
    const uint32_t raw = BigEndian32(in + pos), packed = BigEndian32(in + pos + 4);
    pos += 8;
    if (packed > in_size - pos || raw > out_size - produced) return false;
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in + pos), reinterpret_cast<char*>(out + produced),
                                      static_cast<int>(packed), static_cast<int>(raw));
    if (n < 0 || static_cast<uint32_t>(n) != raw) return false;
    pos += packed;
    produced += raw;
  }
  return pos == in_size && produced == out_size;
}

Status Lz4Raw(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out),
                                    static_cast<int>(in_size), static_cast<int>(out_size));
  if (n < 0) return Status::InvalidData("LZ4 data is corrupt");
  return static_cast<size_t>(n) == out_size ? Status::OK() : SizeMismatch(static_cast<size_t>(n), out_size);
}

}  // namespace

Status Decompress(Codec codec, const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  switch (codec) {
    case Codec::kUncompressed:
      if (in_size != out_size) return SizeMismatch(in_size, out_size);
      if (in_size > 0) std::memcpy(out, in, in_size);
      return Status::OK();
    case Codec::kSnappy: {
      size_t n = 0;
      if (snappy_uncompressed_length(reinterpret_cast<const char*>(in), in_size, &n) != SNAPPY_OK) {
        return Status::InvalidData("SNAPPY data is corrupt (bad length header)");
      }
      if (n != out_size) return SizeMismatch(n, out_size);
      if (snappy_uncompress(reinterpret_cast<const char*>(in), in_size, reinterpret_cast<char*>(out), &n) != SNAPPY_OK) {
        return Status::InvalidData("SNAPPY data is corrupt");
      }
      return Status::OK();
    }
    case Codec::kGzip:
      return Inflate(in, in_size, out, out_size);
    case Codec::kZstd: {
      const size_t n = ZSTD_decompress(out, out_size, in, in_size);
      if (ZSTD_isError(n)) return Status::InvalidData(std::string("ZSTD data is corrupt (") + ZSTD_getErrorName(n) + ")");
      return n == out_size ? Status::OK() : SizeMismatch(n, out_size);
    }
    case Codec::kLz4Raw:
      return Lz4Raw(in, in_size, out, out_size);
    case Codec::kLz4:
      if (TryHadoopLz4(in, in_size, out, out_size)) return Status::OK();
      return Lz4Raw(in, in_size, out, out_size);
    case Codec::kBrotli: {
      size_t n = out_size;
      if (BrotliDecoderDecompress(in_size, in, &n, out) != BROTLI_DECODER_RESULT_SUCCESS) {
        return Status::InvalidData("BROTLI data is corrupt or larger than the page header says");
      }
      return n == out_size ? Status::OK() : SizeMismatch(n, out_size);
    }
    case Codec::kLzo:
      break;
  }
  return Status::Unimplemented("compression codec " + CodecName(codec) + " is not supported");
}

Result<std::vector<uint8_t>> Compress(Codec codec, const uint8_t* in, size_t size) {
  std::vector<uint8_t> out;
  switch (codec) {
    case Codec::kUncompressed:
      out.assign(in, in + size);
      return out;
    case Codec::kSnappy: {
      size_t n = snappy_max_compressed_length(size);
      out.resize(n);
      if (snappy_compress(reinterpret_cast<const char*>(in), size, reinterpret_cast<char*>(out.data()), &n) != SNAPPY_OK) {
        return Status::Internal("snappy_compress failed");
      }
      out.resize(n);
      return out;
    }
    case Codec::kGzip: {
      z_stream z{};
      if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return Status::Internal("zlib deflateInit2 failed");
      }
      out.resize(deflateBound(&z, static_cast<uLong>(size)) + 32);
      z.next_in = const_cast<Bytef*>(in);
      z.avail_in = static_cast<uInt>(size);
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&z, Z_FINISH);
      out.resize(out.size() - z.avail_out);
      deflateEnd(&z);
      if (rc != Z_STREAM_END) return Status::Internal("zlib deflate failed");
      return out;
    }
    case Codec::kZstd: {
      out.resize(ZSTD_compressBound(size));
      const size_t n = ZSTD_compress(out.data(), out.size(), in, size, 1);
      if (ZSTD_isError(n)) return Status::Internal(std::string("ZSTD_compress: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return out;
    }
    case Codec::kLz4Raw: {
      out.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(size))));
      const int n = LZ4_compress_default(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out.data()),
                                         static_cast<int>(size), static_cast<int>(out.size()));
      if (n <= 0 && size > 0) return Status::Internal("LZ4_compress_default failed");
      out.resize(static_cast<size_t>(n));
      return out;
    }
    case Codec::kBrotli: {
      size_t n = BrotliEncoderMaxCompressedSize(size);
      out.resize(n == 0 ? size + 1024 : n);
      n = out.size();
      if (!BrotliEncoderCompress(1, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, size, in, &n, out.data())) {
        return Status::Internal("BrotliEncoderCompress failed");
      }
      out.resize(n);
      return out;
    }
    default:
      break;
  }
  return Status::Unimplemented("writing with compression " + CodecName(codec) + " is not supported");
}

Result<Codec> ParseCodec(const std::string& name) {
  if (name == "zstd") return Codec::kZstd;
  if (name == "snappy") return Codec::kSnappy;
  if (name == "gzip") return Codec::kGzip;
  if (name == "none" || name == "uncompressed") return Codec::kUncompressed;
  if (name == "lz4_raw" || name == "lz4") return Codec::kLz4Raw;
  if (name == "brotli") return Codec::kBrotli;
  return Status::InvalidArgument("unknown compression '" + name + "' (use zstd, snappy, gzip, lz4_raw, brotli or none)");
}

}  // namespace sluice::parquet
