#pragma once
/// From Parquet's flattened schema tree to what sluice reads: one leaf column per column chunk
/// and one top-level field per batch column. A field is a primitive (required or optional) or
/// a one-level list: the standard 3-level LIST layout, the legacy 2-level one, or a bare
/// repeated primitive. Structs, maps and nested lists are recognized and refused by name when
/// selected.
///
/// Threading: plain values.

#include <cstdint>
#include <string>
#include <vector>

#include "metadata.h"
#include "sluice/data_type.h"

namespace sluice::parquet {

/// How raw physical values become the sluice value type.
/// kNarrow: INT32 values kept in the column's narrower width (int8/int16/uint8/uint16); the
/// value decoder narrows them as it decodes.
enum class ValueConversion { kAsIs, kNarrow, kInt96ToNanos };

struct LeafColumn {
  std::vector<std::string> path;
  PhysicalType physical = PhysicalType::kInt32;
  int32_t type_length = 0;
  int16_t max_def = 0;
  int16_t max_rep = 0;
  DataType value_type = DataType::Int32();  // element type for lists
  ValueConversion conversion = ValueConversion::kAsIs;
  std::string dotted() const;
};

struct Field {
  std::string name;
  int leaf = -1;                 // index of its leaf column (= column chunk index)
  bool is_list = false;
  bool nullable = false;         // optional primitive, or optional list
  bool element_nullable = false; // lists: elements may be null
  int16_t list_present_def = 0;  // lists: def level from which the list is not null
  DataType type = DataType::Int32();
  std::string unsupported;       // non-empty: why this field cannot be read
  /// A struct of two LIST columns named data and shape (Ray's variable-shaped tensor storage):
  /// those lists, each read like a top-level list. Read only when the file's Arrow schema says
  /// the struct is a variable-shaped tensor (variable_tensor).
  std::vector<Field> parts;
  bool variable_tensor = false;  // read as raw images (sluice/raw_image.h), one per row
};

struct Schema {
  std::vector<LeafColumn> leaves;
  std::vector<Field> fields;
  int FindField(const std::string& name) const;
};

/// `file` names the file in errors.
Result<Schema> BuildSchema(const FileMetaData& meta, const std::string& file);

/// Bytes of one plain-encoded value (BOOLEAN: 1, as decoded one byte per value).
int PhysicalWidth(PhysicalType type, int32_t type_length);

}  // namespace sluice::parquet
