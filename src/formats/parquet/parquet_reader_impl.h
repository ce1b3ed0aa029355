#pragma once
// The state behind sluice::ParquetReader, shared by its translation units (reading, inspect).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "metadata.h"
#include "schema.h"
#include "sluice/parquet.h"
#include "tensor_metadata.h"

namespace sluice {

struct ParquetReader::Impl {
  std::shared_ptr<RandomAccessFile> file;
  ParquetReadOptions options;
  int64_t file_size = 0;
  parquet::FileMetaData meta;
  parquet::Schema schema;
  std::vector<ParquetColumnInfo> columns;
  std::vector<std::pair<std::string, std::string>> kv;
  std::vector<parquet::TensorColumnMeta> tensors;  // tensor columns the metadata declares
  std::vector<std::string> tensor_notes;            // extension types that could not be read, and why

  /// Field indices for `wanted` names (all fields when empty); NotFound lists the columns.
  Result<std::vector<int>> ResolveFields(const std::vector<std::string>& wanted) const;
  /// "'file' row group 3 column 'a'": the prefix of errors about one column chunk.
  std::string ChunkName(int row_group, const parquet::Field& f) const;
  /// Checks that field `f`'s chunk of row group `g` can be read and lies inside the file.
  Status CheckChunk(int g, const parquet::Field& f) const;
  /// A column assembled from the file, turned into the tensor the file's metadata declares.
  Result<Column> FinishColumn(Column col, const parquet::Field& f, const std::string& where) const;
  /// A field's column from its parts as assembled (one; two for a variable-shaped tensor).
  Result<Column> FinishField(std::vector<Column> parts, const parquet::Field& f, const std::string& where) const;
};

}  // namespace sluice
