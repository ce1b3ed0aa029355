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
  std::vector<parquet::TensorColumnMeta> tensors;  // FIXED_LEN_BYTE_ARRAY columns sluice wrote from tensors
};

}  // namespace sluice
