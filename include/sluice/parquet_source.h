#pragma once
/// ParquetSource: Parquet files as an executor Source.
///
/// Tasks are whole files by default (the file is opened inside the task, so footers are read
/// in parallel by the source's workers); with row_groups_per_task > 0 each file is split into
/// ranges of that many row groups (its footer is read when the task list reaches it) so one
/// large file feeds many parallel read tasks. Each row group becomes one batch with the
/// projected columns, converted to tensors where `tensor_columns` says so.
///
/// Threading: as Source: NextTask is called by one thread at a time; tasks run in parallel.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/parquet.h"
#include "sluice/plan.h"

namespace sluice {

/// How to read a column as a fixed-shape tensor: a LIST column whose rows all hold
/// prod(shape) non-null elements, or a binary / FIXED_LEN_BYTE_ARRAY column whose values all
/// hold prod(shape) * sizeof(dtype) bytes.
struct TensorSpec {
  DType dtype = DType::kUInt8;
  std::vector<int64_t> shape;
};

struct ParquetSourceOptions {
  std::vector<std::string> paths;  // paths or URIs (expand globs with sluice::Glob)
  std::vector<std::string> columns;  // empty: all
  int row_groups_per_task = 0;       // 0: one task per file
  std::map<std::string, TensorSpec> tensor_columns;
  ParquetReadOptions read;
  /// Opens a path or URI; default: the FileSystem for it (FileSystemFor).
  std::function<Result<std::shared_ptr<RandomAccessFile>>(const std::string&)> open;
};

class ParquetSource : public Source {
 public:
  explicit ParquetSource(ParquetSourceOptions options);
  Result<std::unique_ptr<ReadTask>> NextTask() override;

 private:
  ParquetSourceOptions o_;
  size_t next_path_ = 0;
  std::shared_ptr<ParquetReader> splitting_;  // the file being split into ranges
  int next_row_group_ = 0;
};

/// Converts a column to a tensor column as `spec` says (see TensorSpec); errors name `where`.
Result<Column> ColumnToTensor(const Column& column, const TensorSpec& spec, const std::string& where);

}  // namespace sluice
