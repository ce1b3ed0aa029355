#pragma once
/// Column: N values of one DataType, backed by shared Buffers.
///
/// Layout (all row-major, no padding between rows):
///   fixed width (numeric, tensor): values = length * fixed_row_bytes bytes from `offset`;
///   binary/string: offsets = int64[length + 1] (absolute positions in `values`), values = bytes;
///   list: offsets = int64[length + 1] (absolute element positions in `child`), child = a column
///     of the element type with its own validity (null elements), no values buffer;
///   validity (optional): one byte per row, 1 = valid, 0 = null. Absent means no nulls.
///   Tensors have no validity: a row that cannot be produced is a bad row, not a null.
/// A slice shares the buffers and moves `offset`, so slicing never copies.
///
/// Byte accounting: ByteSize() counts the bytes of this column's own rows (values in range,
/// their offsets and validity), so slices of one buffer add up to the whole and the executor's
/// memory budget can sum it over batches.
///
/// Threading: immutable once built; any thread may read. Mutable accessors are for the single
/// task that fills a freshly allocated column before it is published.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/data_type.h"
#include "sluice/memory.h"
#include "sluice/status.h"

namespace sluice {

class Column {
 public:
  Column() : type_(DataType::Int64()) {}

  /// Assembles a column from existing buffers (zero-copy), checking that they fit the type.
  static Result<Column> FromBuffers(DataType type, int64_t length, std::shared_ptr<Buffer> values,
                                    std::shared_ptr<Buffer> offsets = nullptr,
                                    std::shared_ptr<Buffer> validity = nullptr);
  /// Copies numeric values; `validity` is empty (no nulls) or one byte per value.
  template <typename T>
  static Column FromValues(std::span<const T> values, std::span<const uint8_t> validity = {});
  template <typename T>
  static Column FromValues(const std::vector<T>& values, const std::vector<uint8_t>& validity = {}) {
    if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> is not contiguous
      std::unique_ptr<bool[]> flat(new bool[values.size()]);
      std::copy(values.begin(), values.end(), flat.get());
      return FromValues<bool>(std::span<const bool>(flat.get(), values.size()), std::span<const uint8_t>(validity));
    } else {
      return FromValues<T>(std::span<const T>(values), std::span<const uint8_t>(validity));
    }
  }
  /// Copies binary or string values (`type` is Binary() or String()).
  static Column FromStrings(const std::vector<std::string>& values, DataType type = DataType::String(),
                            const std::vector<uint8_t>& validity = {});
  /// A list column: row i holds child rows [offsets[i], offsets[i + 1]); `validity` marks null lists.
  static Result<Column> MakeList(int64_t length, std::shared_ptr<Buffer> offsets, Column child,
                                 std::shared_ptr<Buffer> validity = nullptr);
  /// Uninitialized fixed-width column (numeric or tensor) of `length` rows, to be filled in place.
  static Result<Column> Allocate(DataType type, int64_t length, Allocator* allocator = HostAllocator(),
                                 bool with_validity = false);

  const DataType& type() const { return type_; }
  int64_t length() const { return length_; }
  int64_t offset() const { return offset_; }
  MemoryKind memory_kind() const;

  bool has_validity() const { return validity_ != nullptr; }
  bool IsValid(int64_t i) const { return !validity_ || validity_->data()[offset_ + i] != 0; }
  int64_t null_count() const;
  /// Marks row i valid or null; the column must have been allocated with validity.
  void SetValid(int64_t i, bool valid) { validity_->data()[offset_ + i] = valid ? 1 : 0; }

  /// First value of a numeric column, typed (bool is uint8_t storage: use Value<bool>).
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(values_->data()) + offset_;
  }
  template <typename T>
  T* mutable_data() {
    return reinterpret_cast<T*>(values_->data()) + offset_;
  }
  template <typename T>
  T Value(int64_t i) const {
    if constexpr (std::is_same_v<T, bool>) return data<uint8_t>()[i] != 0;
    else return data<T>()[i];
  }
  /// Bytes of row i of a binary/string column.
  std::string_view ValueBytes(int64_t i) const;
  /// Start of row i of a fixed-width column (tensor rows: fixed_row_bytes() bytes).
  const uint8_t* RowData(int64_t i) const { return values_->data() + (offset_ + i) * row_bytes(); }
  uint8_t* MutableRowData(int64_t i) { return values_->data() + (offset_ + i) * row_bytes(); }
  /// Elements of list row i are child() rows [ListBegin(i), ListEnd(i)).
  const Column& child() const { return *child_; }
  int64_t ListBegin(int64_t i) const { return offsets()[i]; }
  int64_t ListEnd(int64_t i) const { return offsets()[i + 1]; }
  /// Tensor shape of the whole column: [length, row_shape...].
  std::vector<int64_t> TensorShape() const;

  /// Rows [start, start + length) sharing this column's buffers.
  Column Slice(int64_t start, int64_t length) const;
  /// Bytes of this column's rows (see the header comment).
  int64_t ByteSize() const;
  /// A new column holding the rows of `parts` in order; all must have the same type and be
  /// CPU-accessible.
  static Result<Column> Concat(std::span<const Column> parts, Allocator* allocator = HostAllocator());

  /// A new column holding rows `rows` (in that order, repeats allowed), copied; CPU memory only.
  Result<Column> Take(std::span<const int64_t> rows) const;

  /// Same type, length, validity and values (null slots are not compared).
  bool Equals(const Column& other) const;

  const std::shared_ptr<Buffer>& values_buffer() const { return values_; }
  const std::shared_ptr<Buffer>& offsets_buffer() const { return offsets_; }
  const std::shared_ptr<Buffer>& validity_buffer() const { return validity_; }

 private:
  int64_t row_bytes() const { return type_.fixed_row_bytes(); }
  const int64_t* offsets() const { return reinterpret_cast<const int64_t*>(offsets_->data()) + offset_; }

  DataType type_;
  int64_t length_ = 0;
  int64_t offset_ = 0;
  std::shared_ptr<Buffer> values_;
  std::shared_ptr<Buffer> offsets_;
  std::shared_ptr<Buffer> validity_;
  std::shared_ptr<const Column> child_;  // lists only
};

/// Builds a binary or string column value by value into growing buffers, without a heap
/// allocation per value. Threading: one thread.
class BinaryBuilder {
 public:
  explicit BinaryBuilder(DataType type = DataType::Binary());
  void Reserve(int64_t rows, int64_t bytes);
  void Append(std::string_view value);
  void AppendNull();
  int64_t length() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  Column Finish();

 private:
  DataType type_;
  std::vector<uint8_t> bytes_;
  std::vector<int64_t> offsets_{0};
  std::vector<uint8_t> validity_;
  bool has_null_ = false;
};

}  // namespace sluice
