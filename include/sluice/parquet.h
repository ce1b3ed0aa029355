#pragma once
/// Parquet files: a streaming reader (by row group, with column projection, through
/// RandomAccessFile so local files and S3 objects read alike) and a writer (row groups by size,
/// dictionary and plain encodings, ZSTD/SNAPPY/GZIP/LZ4_RAW/BROTLI, statistics, lists,
/// key-value metadata, atomic publish). Written from the parquet-format specification.
///
/// Types read: BOOLEAN -> bool; INT32 with INTEGER(8/16/32, signed or not) or INT_8/16,
/// UINT_8/16/32 -> int8/int16/int32/uint8/uint16/uint32 (written back the same way); other
/// INT32 (DATE, DECIMAL raw) -> int32; INT64 with UINT_64 -> uint64; other INT64 (timestamps,
/// DECIMAL raw) -> int64;
/// INT96 -> int64 nanoseconds since the epoch; FLOAT -> float32; DOUBLE -> float64;
/// BYTE_ARRAY -> string when annotated UTF8/STRING/ENUM/JSON, else binary;
/// FIXED_LEN_BYTE_ARRAY -> binary (or a tensor column when sluice wrote it as one);
/// one level of LIST (3-level, legacy 2-level, bare repeated) -> list<element>.
/// Structs, maps and nested lists are refused, by column name, when selected.
///
/// Threading: a ParquetReader may be used by several threads at once (ReadRowGroup is const on
/// the metadata and reads through a thread-safe RandomAccessFile). A ParquetWriter is used by
/// one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/batch.h"
#include "sluice/random_access_file.h"
#include "sluice/status.h"

namespace sluice {

struct ParquetColumnInfo {
  std::string name;
  DataType type = DataType::Int32();
  bool nullable = false;
  std::string unsupported;  // non-empty: why the column cannot be read
};

/// Limits that keep a hostile file from making the reader allocate without bound. A file's
/// metadata may claim rows that compress to almost nothing (a run of nulls), so the limits are
/// on claimed counts, not on bytes.
struct ParquetReadOptions {
  int64_t max_row_group_rows = int64_t{1} << 28;
  /// Values (levels) in one column chunk; lists have one per element.
  int64_t max_chunk_values = int64_t{1} << 31;
};

/// One row group read a slice of rows at a time, page by page, so the memory it holds is
/// about one read window and one decoded page per column plus the rows asked for, however
/// large the row group (a 1 GB row group of raw images streams through a 32 MiB budget).
/// Used by one thread at a time; the ParquetReader that made it must outlive it.
class ParquetRowGroupStream {
 public:
  virtual ~ParquetRowGroupStream() = default;
  /// The next `rows` rows (fewer only at the row group's end); nullopt when it is done.
  virtual Result<std::optional<Batch>> Next(int64_t rows) = 0;
  /// Bytes held now: read windows, decoded values not yet returned, dictionaries.
  virtual int64_t buffered_bytes() const = 0;
};

class ParquetReader {
 public:
  static Result<std::unique_ptr<ParquetReader>> Open(std::shared_ptr<RandomAccessFile> file,
                                                     ParquetReadOptions options = {});
  ~ParquetReader();

  const std::string& name() const;
  int num_row_groups() const;
  int64_t num_rows() const;
  int64_t row_group_rows(int row_group) const;
  const std::vector<ParquetColumnInfo>& columns() const;
  const std::vector<std::pair<std::string, std::string>>& key_value_metadata() const;
  const std::string& created_by() const;

  /// Row group `row_group` with the named columns in the given order (all when empty). Reads
  /// only the byte ranges of those column chunks, nearby ranges coalesced into one read.
  Result<Batch> ReadRowGroup(int row_group, const std::vector<std::string>& columns = {}) const;
  /// The same rows as ReadRowGroup, as a stream of slices (ParquetRowGroupStream).
  Result<std::unique_ptr<ParquetRowGroupStream>> StreamRowGroup(int row_group, const std::vector<std::string>& columns = {}) const;
  /// Schema, row groups, sizes, encodings, compression and statistics, for people.
  std::string Inspect() const;

  /// The reader's state; opaque outside the Parquet module (defined in src/formats/parquet).
  struct Impl;

 private:
  explicit ParquetReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ParquetWriteOptions {
  std::string compression = "zstd";  // zstd | snappy | gzip | lz4_raw | brotli | none
  int64_t row_group_bytes = int64_t{128} << 20;  // cut a row group at this many bytes of data
  int64_t row_group_rows = 0;                    // and/or at this many rows (0: no row limit)
  int64_t page_bytes = int64_t{1} << 20;
  bool dictionary = true;  // dictionary-encode string/binary columns with few distinct values
  /// How tensor columns are stored: "sluice" (FIXED_LEN_BYTE_ARRAY rows + sluice.tensor.*
  /// metadata, read back without a copy) or "ray" (Ray Data's current layout: a LIST of the
  /// elements with ray.data.arrow_tensor_v2 and the shape in ARROW:schema, so Ray reads it).
  std::string tensor_layout = "sluice";
  std::vector<std::pair<std::string, std::string>> metadata;
};

class ParquetWriter {
 public:
  /// Writes through the FileSystem for `path` (a path or URI), which publishes the file
  /// atomically at Close (locally: a temporary file beside it, then rename). The schema comes
  /// from the first batch written (a batch with zero rows sets it without adding rows).
  static Result<std::unique_ptr<ParquetWriter>> Open(const std::string& path, ParquetWriteOptions options = {});
  ~ParquetWriter();  // aborts unless closed

  /// Appends rows; the batch must have the first batch's column names and types.
  Status Write(const Batch& batch);
  /// Flushes, writes the footer and publishes the file.
  Status Close();
  /// Drops the temporary file.
  void Abort();

 private:
  struct Impl;
  explicit ParquetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A zero-row column of `type` (to describe a schema with an empty batch).
Column EmptyColumn(const DataType& type);

}  // namespace sluice
