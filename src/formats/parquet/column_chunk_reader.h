#pragma once
/// Reads one column chunk (its pages, already in memory) into levels and dense values, and
/// assembles those into a sluice Column.
///
/// Hostile input is refused with an error naming the file, row group, column and page: page
/// sizes beyond the chunk, decompressed sizes beyond what the page could justify, level or
/// value counts that disagree with the row group.
///
/// Threading: plain functions over caller-owned data.

#include <cstdint>
#include <string>
#include <vector>

#include "metadata.h"
#include "schema.h"
#include "sluice/column.h"
#include "value_decoder.h"

namespace sluice::parquet {

struct LeafData {
  std::vector<int16_t> def;  // one per slot; empty when max_def == 0
  std::vector<int16_t> rep;  // one per slot; empty when max_rep == 0
  int64_t slots = 0;
  PhysicalValues values;     // the non-null values, dense
};

/// `where` = "'file' row group 3 column 'a.b'", prefixed to every error.
Status ReadColumnChunk(const uint8_t* data, size_t size, const ColumnMetaData& meta, const LeafColumn& leaf,
                       const std::string& where, LeafData* out);

/// Builds the column of `field` (`rows` rows expected) from its leaf's data.
Result<Column> AssembleColumn(LeafData data, const Field& field, const LeafColumn& leaf, int64_t rows,
                              const std::string& where);

}  // namespace sluice::parquet
