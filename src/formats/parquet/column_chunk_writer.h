#pragma once
/// Encodes one column of one row group into a Parquet column chunk: levels (RLE), values
/// (PLAIN, or a dictionary page + RLE_DICTIONARY for string/binary columns with few distinct
/// values), data pages v1 of about `page_bytes`, compression, and statistics (null count; min
/// and max for numeric columns and for short strings).
///
/// Threading: plain functions.

#include <cstdint>
#include <string>
#include <vector>

#include "metadata.h"
#include "sluice/column.h"

namespace sluice::parquet {

/// How a sluice column is laid out in Parquet.
struct ColumnLayout {
  std::string name;
  DataType type = DataType::Int32();
  PhysicalType physical = PhysicalType::kInt32;
  int32_t type_length = 0;
  bool is_list = false;
  std::vector<SchemaElement> elements;  // this column's schema nodes, depth first
  std::vector<std::string> path;
};

Result<ColumnLayout> LayoutFor(const std::string& name, const DataType& type);

struct ChunkOptions {
  Codec codec = Codec::kZstd;
  int64_t page_bytes = int64_t{1} << 20;
  bool dictionary = true;
};

struct EncodedChunk {
  std::vector<uint8_t> bytes;         // the pages
  ColumnMetaData meta;                // offsets relative to the chunk start (fixed up by the file writer)
  bool has_dictionary = false;
};

/// `parts` are the column's pieces in this row group, in order.
Result<EncodedChunk> EncodeColumnChunk(const ColumnLayout& layout, const std::vector<Column>& parts, const ChunkOptions& options);

}  // namespace sluice::parquet
