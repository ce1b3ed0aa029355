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
  std::vector<int16_t> def;  // one per slot; empty when max_def == 0 or `dense`
  std::vector<int16_t> rep;  // one per slot; empty when max_rep == 0 or `dense`
  int64_t slots = 0;
  PhysicalValues values;     // the non-null values, dense
  /// Dense lists: while every page of a list column has had each list and element present (a
  /// tensor stored as a list: Ray's images, 196,608 levels a row), the levels are not expanded;
  /// rows start at the slots in `starts`. A page with a null turns this back into rep/def.
  bool dense = false;
  std::vector<int64_t> starts;
};

/// Expands a dense LeafData's row starts into rep/def levels (`max_def` for every slot).
void MaterializeLevels(LeafData* data, int16_t max_def);

/// Decodes a column chunk's pages one at a time, keeping the dictionary between them.
class PageDecoder {
 public:
  PageDecoder(const ColumnMetaData& meta, const LeafColumn& leaf) : meta_(meta), leaf_(leaf) {}
  /// Refuses a page whose sizes the chunk (`bytes_left` after its header) cannot hold.
  static Status CheckSizes(const PageHeader& h, size_t bytes_left, const std::string& pw);
  /// Appends the page's levels and values to `out` (a dictionary page is kept instead).
  /// `values_left`: the chunk's values not yet decoded; `pw` names the page in errors.
  Status Decode(const PageHeader& h, const uint8_t* page_data, int64_t values_left, const std::string& pw, LeafData* out);
  int64_t dictionary_bytes() const {
    return static_cast<int64_t>(dictionary_.fixed.capacity() + dictionary_.bytes.capacity() + dictionary_.offsets.capacity() * 8);
  }
  int64_t scratch_bytes() const { return static_cast<int64_t>(scratch_.capacity()); }
  /// Frees the dictionary and scratch once the chunk's last page is decoded.
  void Release() {
    dictionary_ = PhysicalValues{};
    scratch_ = LargeBytes{};
  }

 private:
  /// A list leaf whose pages so far were all dense (or none was decoded yet).
  bool DenseCandidate(const LeafData& out) const;
  /// A data page's rep and def levels: when every list and element is present, records the row
  /// starts in `out` (dense mode) and returns true; otherwise leaves `out` as it was.
  bool TryDenseLevels(const uint8_t* rep, size_t rep_len, const uint8_t* def, size_t def_len, int64_t n, LeafData* out);
  /// The same for a v1 page's length-prefixed levels at `p`, moving `p` past them on success.
  bool TryDenseLevelsV1(const uint8_t*& p, const uint8_t* end, int64_t n, LeafData* out);

  const ColumnMetaData& meta_;
  const LeafColumn& leaf_;
  PhysicalValues dictionary_;
  bool has_dictionary_ = false;
  LargeBytes scratch_;
};

/// `where` = "'file' row group 3 column 'a.b'", prefixed to every error.
Status ReadColumnChunk(const uint8_t* data, size_t size, const ColumnMetaData& meta, const LeafColumn& leaf,
                       const std::string& where, LeafData* out);

/// Builds the column of `field` (`rows` rows expected) from its leaf's data.
Result<Column> AssembleColumn(LeafData data, const Field& field, const LeafColumn& leaf, int64_t rows,
                              const std::string& where);

}  // namespace sluice::parquet
