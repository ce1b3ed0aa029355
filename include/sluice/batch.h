#pragma once
/// Batch: N rows in named columns of equal length; the unit every stage consumes and emits.
///
/// Copying a Batch copies column handles, never data. Slices are zero-copy. ByteSize() is the
/// exact sum of the columns' row bytes and is what the executor charges to its memory budget.
///
/// Threading: immutable value; share across threads freely. Build a new batch to change one.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sluice/column.h"
#include "sluice/status.h"

namespace sluice {

class Batch {
 public:
  /// An empty batch with no columns and zero rows.
  Batch() = default;
  /// Checks that names are unique and non-empty and that all columns have the same length.
  static Result<Batch> Make(std::vector<std::string> names, std::vector<Column> columns);
  /// A batch of `num_rows` rows and no columns (e.g. a count-only source).
  static Batch Empty(int64_t num_rows);

  int64_t num_rows() const { return num_rows_; }
  int num_columns() const { return static_cast<int>(columns_.size()); }
  const std::vector<std::string>& names() const { return names_; }
  const Column& column(int i) const { return columns_[static_cast<size_t>(i)]; }
  const std::string& name(int i) const { return names_[static_cast<size_t>(i)]; }
  /// Index of the named column, or -1.
  int FindColumn(std::string_view name) const;
  /// The named column or NotFound naming the column and the batch's columns.
  Result<Column> GetColumn(std::string_view name) const;

  /// Adds or replaces a column (same length as the batch).
  Result<Batch> WithColumn(std::string name, Column column) const;
  /// The named columns in the given order.
  Result<Batch> Select(const std::vector<std::string>& names) const;

  Batch Slice(int64_t start, int64_t length) const;
  /// The rows at `rows`, in that order (copied): e.g. the rows left after bad ones are dropped.
  Result<Batch> Take(std::span<const int64_t> rows) const;
  int64_t ByteSize() const;
  /// The rows of `parts` in order; all parts must have the same column names and types.
  static Result<Batch> Concat(std::span<const Batch> parts, Allocator* allocator = HostAllocator());

  bool Equals(const Batch& other) const;
  /// "3 rows: id int64, image binary"
  std::string Describe() const;

 private:
  int64_t num_rows_ = 0;
  std::vector<std::string> names_;
  std::vector<Column> columns_;
};

}  // namespace sluice
