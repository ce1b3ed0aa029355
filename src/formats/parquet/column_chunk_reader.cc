#include "column_chunk_reader.h"

#include <algorithm>
#include <cstring>

#include "compression.h"
#include "rle_bit_packed.h"
#include "thrift_compact.h"

namespace sluice::parquet {
namespace {

/// A page may not claim to inflate to more than this; ratios beyond 1024x from a page that is
/// itself larger than the floor mean a hostile header, not a real page.
constexpr int64_t kUncompressedFloor = int64_t{64} << 20;
constexpr int64_t kUncompressedCeiling = int64_t{2} << 30;

Status ReadLevels(const uint8_t* data, size_t size, int64_t n, int16_t max_level, std::vector<int16_t>* out) {
  std::vector<uint32_t> v(static_cast<size_t>(n));
  RleBitPackedDecoder dec(data, size, BitWidth(static_cast<uint64_t>(max_level)));
  RETURN_IF_ERROR(dec.Get(n, v.data()));
  for (uint32_t x : v) {
    if (x > static_cast<uint32_t>(max_level)) return Status::InvalidData("level " + std::to_string(x) + " above the maximum " + std::to_string(max_level));
    out->push_back(static_cast<int16_t>(x));
  }
  return Status::OK();
}

/// v1 pages prefix each level run with its 4-byte length.
Status ReadPrefixedLevels(const uint8_t*& p, const uint8_t* end, int64_t n, int16_t max_level, std::vector<int16_t>* out) {
  if (end - p < 4) return Status::InvalidData("truncated level length");
  uint32_t len;
  std::memcpy(&len, p, 4);
  p += 4;
  if (len > static_cast<uint64_t>(end - p)) return Status::InvalidData("levels of " + std::to_string(len) + " bytes past the page end");
  RETURN_IF_ERROR(ReadLevels(p, len, n, max_level, out));
  p += len;
  return Status::OK();
}

/// Walks `n` levels in [data, data + size) a piece at a time without expanding RLE runs:
/// on_level_run(value, count, position) for each run of equal levels (a bit-packed piece is
/// runs of one). False when on_level_run says stop, or on corrupt data (the full decode then
/// reports it).
template <typename F>
bool VisitLevels(const uint8_t* data, size_t size, int64_t n, int16_t max_level, F&& on_level_run) {
  RleBitPackedDecoder dec(data, size, BitWidth(static_cast<uint64_t>(max_level)));
  uint32_t buf[512];
  for (int64_t at = 0; at < n;) {
    bool repeated;
    uint32_t value;
    auto k = dec.GetPiece(std::min<int64_t>(n - at, 512), &repeated, &value, buf);
    if (!k.ok()) return false;
    for (int64_t i = 0; i < (repeated ? 1 : *k); ++i) {
      if (!on_level_run(repeated ? value : buf[i], repeated ? *k : 1, at + i)) return false;
    }
    at += *k;
  }
  return true;
}

int64_t CountNonNull(const std::vector<int16_t>& def, size_t from, int16_t max_def, int64_t n) {
  if (max_def == 0) return n;
  return std::count(def.begin() + static_cast<ptrdiff_t>(from), def.end(), max_def);
}

Status DecompressInto(Codec codec, const uint8_t* in, size_t in_size, int64_t out_size, LargeBytes* scratch) {
  scratch->resize(static_cast<size_t>(out_size));
  return Decompress(codec, in, in_size, scratch->data(), static_cast<size_t>(out_size));
}

/// Converts raw physical values to the leaf's value type (in place of `v`).
void ConvertValues(const LeafColumn& leaf, PhysicalValues* v) {
  // kNarrow: DecodeValues already wrote the narrow values.
  if (leaf.conversion == ValueConversion::kInt96ToNanos) {
    LargeBytes out(static_cast<size_t>(v->count) * 8);
    for (int64_t i = 0; i < v->count; ++i) {
      int64_t nanos_of_day;
      int32_t julian_day;
      std::memcpy(&nanos_of_day, v->fixed.data() + i * 12, 8);
      std::memcpy(&julian_day, v->fixed.data() + i * 12 + 8, 4);
      const int64_t ns = (static_cast<int64_t>(julian_day) - 2440588) * 86400LL * 1000000000LL + nanos_of_day;
      std::memcpy(out.data() + i * 8, &ns, 8);
    }
    v->fixed.swap(out);
  }
}

/// The dense values as a column of the leaf's value type.
Result<Column> DenseColumn(const LeafColumn& leaf, PhysicalValues v) {
  const int64_t n = v.count;
  if (leaf.physical == PhysicalType::kByteArray) {
    return Column::FromBuffers(leaf.value_type, n, Buffer::FromVector(std::move(v.bytes)), Buffer::FromVector(std::move(v.offsets)));
  }
  if (leaf.physical == PhysicalType::kFixedLenByteArray) {
    std::vector<int64_t> offsets(static_cast<size_t>(n) + 1);
    for (int64_t i = 0; i <= n; ++i) offsets[static_cast<size_t>(i)] = i * leaf.type_length;
    return Column::FromBuffers(leaf.value_type, n, Buffer::FromVector(std::move(v.fixed)), Buffer::FromVector(std::move(offsets)));
  }
  return Column::FromBuffers(leaf.value_type, n, Buffer::FromVector(std::move(v.fixed)));
}

/// Spreads `dense` over the slots where `valid` is 1; null slots get validity 0.
Result<Column> Scatter(const Column& dense, const std::vector<uint8_t>& valid) {
  const int64_t n = static_cast<int64_t>(valid.size());
  const bool all_valid = std::find(valid.begin(), valid.end(), 0) == valid.end();
  if (all_valid) return dense;
  auto validity = Buffer::FromVector(valid);
  const DataType& type = dense.type();
  if (type.is_variable_width()) {
    std::vector<int64_t> offsets(static_cast<size_t>(n) + 1);
    int64_t k = 0;  // dense values start at byte 0 of their buffer
    for (int64_t i = 0; i < n; ++i) {
      const int64_t len = valid[static_cast<size_t>(i)] ? static_cast<int64_t>(dense.ValueBytes(k++).size()) : 0;
      offsets[static_cast<size_t>(i) + 1] = offsets[static_cast<size_t>(i)] + len;
    }
    return Column::FromBuffers(type, n, dense.values_buffer(), Buffer::FromVector(std::move(offsets)), validity);
  }
  const int64_t w = type.fixed_row_bytes();
  std::vector<uint8_t> values(static_cast<size_t>(n * w), 0);
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (valid[static_cast<size_t>(i)]) std::memcpy(values.data() + i * w, dense.RowData(k++), static_cast<size_t>(w));
  }
  return Column::FromBuffers(type, n, Buffer::FromVector(std::move(values)), nullptr, validity);
}

}  // namespace

Status PageDecoder::CheckSizes(const PageHeader& h, size_t bytes_left, const std::string& pw) {
  const int64_t compressed = h.compressed_page_size, uncompressed = h.uncompressed_page_size;
  if (compressed < 0 || static_cast<uint64_t>(compressed) > bytes_left) {
    return Status::InvalidData(pw + ": page of " + std::to_string(compressed) + " bytes but " + std::to_string(bytes_left) +
                               " bytes left in the column chunk");
  }
  if (uncompressed < 0 || uncompressed > kUncompressedCeiling ||
      (uncompressed > kUncompressedFloor && uncompressed / 1024 > compressed)) {
    return Status::InvalidData(pw + ": implausible uncompressed size " + std::to_string(uncompressed) + " for a " +
                               std::to_string(compressed) + "-byte page");
  }
  return Status::OK();
}

Status PageDecoder::Decode(const PageHeader& h, const uint8_t* page_data, int64_t values_left, const std::string& pw,
                           LeafData* out) {
  const int64_t compressed = h.compressed_page_size, uncompressed = h.uncompressed_page_size;
  auto in_page = [&](Status s) { return s.ok() ? s : s.WithContext(pw); };
  if (h.type == PageType::kDictionaryPage) {
    if (!h.dictionary_page) return Status::InvalidData(pw + ": dictionary page without its header");
    if (has_dictionary_) return Status::InvalidData(pw + ": a second dictionary page");
    if (h.dictionary_page->num_values < 0) return Status::InvalidData(pw + ": negative dictionary size");
    RETURN_IF_ERROR(in_page(DecompressInto(meta_.codec, page_data, static_cast<size_t>(compressed), uncompressed, &scratch_)));
    RETURN_IF_ERROR(in_page(DecodeValues(Encoding::kPlain, scratch_.data(), scratch_.size(), h.dictionary_page->num_values,
                                         leaf_, nullptr, &dictionary_)));
    has_dictionary_ = true;
    return Status::OK();
  }
  const uint8_t* values = nullptr;
  size_t values_size = 0;
  int64_t n = 0;
  Encoding encoding;
  const size_t def_before = out->def.size();
  if (h.type == PageType::kDataPage) {
    if (!h.data_page) return Status::InvalidData(pw + ": data page without its header");
    n = h.data_page->num_values;
    encoding = h.data_page->encoding;
    if (n < 0 || n > values_left) return Status::InvalidData(pw + ": " + std::to_string(n) + " values is more than the chunk has left");
    const bool in_place = encoding == Encoding::kPlain && leaf_.physical == PhysicalType::kByteArray;
    LargeBytes* target = in_place ? &out->values.bytes : &scratch_;
    const size_t region = in_place ? target->size() : 0;
    target->resize(region + static_cast<size_t>(uncompressed));
    RETURN_IF_ERROR(in_page(Decompress(meta_.codec, page_data, static_cast<size_t>(compressed), target->data() + region,
                                       static_cast<size_t>(uncompressed))));
    const uint8_t* p = target->data() + region;
    const uint8_t* end = p + uncompressed;
    if (in_place || !TryDenseLevelsV1(p, end, n, out)) {
      if (out->dense) MaterializeLevels(out, leaf_.max_def);
      if (leaf_.max_rep > 0) RETURN_IF_ERROR(in_page(ReadPrefixedLevels(p, end, n, leaf_.max_rep, &out->rep)));
      if (leaf_.max_def > 0) RETURN_IF_ERROR(in_page(ReadPrefixedLevels(p, end, n, leaf_.max_def, &out->def)));
    }
    if (in_place) {
      const int64_t non_null = CountNonNull(out->def, def_before, leaf_.max_def, n);
      RETURN_IF_ERROR(in_page(CompactPlainByteArrays(&out->values, region, static_cast<size_t>(p - target->data()), non_null)));
      out->slots += n;
      return Status::OK();
    }
    values = p;
    values_size = static_cast<size_t>(end - p);
  } else if (h.type == PageType::kDataPageV2) {
    if (!h.data_page_v2) return Status::InvalidData(pw + ": data page v2 without its header");
    const DataPageHeaderV2& v2 = *h.data_page_v2;
    n = v2.num_values;
    encoding = v2.encoding;
    if (n < 0 || n > values_left) return Status::InvalidData(pw + ": " + std::to_string(n) + " values is more than the chunk has left");
    const int64_t levels = static_cast<int64_t>(v2.repetition_levels_byte_length) + v2.definition_levels_byte_length;
    if (v2.repetition_levels_byte_length < 0 || v2.definition_levels_byte_length < 0 || levels > compressed ||
        levels > uncompressed) {
      return Status::InvalidData(pw + ": level lengths larger than the page");
    }
    const size_t rep_len = static_cast<size_t>(v2.repetition_levels_byte_length);
    const size_t def_len = static_cast<size_t>(v2.definition_levels_byte_length);
    if (!TryDenseLevels(page_data, rep_len, page_data + rep_len, def_len, n, out)) {
      if (out->dense) MaterializeLevels(out, leaf_.max_def);
      if (leaf_.max_rep > 0) RETURN_IF_ERROR(in_page(ReadLevels(page_data, rep_len, n, leaf_.max_rep, &out->rep)));
      if (leaf_.max_def > 0) RETURN_IF_ERROR(in_page(ReadLevels(page_data + rep_len, def_len, n, leaf_.max_def, &out->def)));
    }
    const uint8_t* body = page_data + levels;
    const size_t body_size = static_cast<size_t>(compressed - levels);
    if (v2.is_compressed && meta_.codec != Codec::kUncompressed) {
      RETURN_IF_ERROR(in_page(DecompressInto(meta_.codec, body, body_size, uncompressed - levels, &scratch_)));
      values = scratch_.data();
      values_size = scratch_.size();
    } else {
      values = body;
      values_size = body_size;
    }
  } else {
    return Status::OK();  // index pages and unknown page types carry no values
  }
  const int64_t non_null = out->dense ? n : CountNonNull(out->def, def_before, leaf_.max_def, n);
  RETURN_IF_ERROR(in_page(DecodeValues(encoding, values, values_size, non_null, leaf_, has_dictionary_ ? &dictionary_ : nullptr,
                                       &out->values)));
  out->slots += n;
  return Status::OK();
}

bool PageDecoder::DenseCandidate(const LeafData& out) const {
  return leaf_.max_rep == 1 && leaf_.max_def > 0 && (out.dense || out.slots == 0);
}

bool PageDecoder::TryDenseLevels(const uint8_t* rep, size_t rep_len, const uint8_t* def, size_t def_len, int64_t n, LeafData* out) {
  if (leaf_.physical == PhysicalType::kByteArray || !DenseCandidate(*out)) return false;
  const int16_t max_def = leaf_.max_def;
  const bool all_present = VisitLevels(def, def_len, n, max_def, [&](uint32_t level, int64_t, int64_t) { return level == static_cast<uint32_t>(max_def); });
  const size_t starts_before = out->starts.size();
  const bool starts_found = all_present && VisitLevels(rep, rep_len, n, 1, [&](uint32_t level, int64_t count, int64_t at) {
    for (int64_t i = 0; level == 0 && i < count; ++i) out->starts.push_back(out->slots + at + i);
    return level <= 1;
  });
  if (!starts_found) {
    out->starts.resize(starts_before);  // a page that cannot be dense leaves no row starts behind
    return false;
  }
  out->dense = true;
  return true;
}

bool PageDecoder::TryDenseLevelsV1(const uint8_t*& p, const uint8_t* end, int64_t n, LeafData* out) {
  // v1 levels: a 4-byte length before each of the rep and def runs.
  uint32_t rep_len, def_len;
  if (end - p < 4) return false;
  std::memcpy(&rep_len, p, 4);
  if (rep_len > static_cast<uint64_t>(end - p - 4)) return false;
  const uint8_t* rep = p + 4;
  const uint8_t* q = rep + rep_len;
  if (end - q < 4) return false;
  std::memcpy(&def_len, q, 4);
  if (def_len > static_cast<uint64_t>(end - q - 4)) return false;
  const uint8_t* def = q + 4;
  if (!TryDenseLevels(rep, rep_len, def, def_len, n, out)) return false;
  p = def + def_len;
  return true;
}

void MaterializeLevels(LeafData* data, int16_t max_def) {
  if (!data->dense) return;
  data->rep.assign(static_cast<size_t>(data->slots), 1);
  for (int64_t s : data->starts) data->rep[static_cast<size_t>(s)] = 0;
  data->def.assign(static_cast<size_t>(data->slots), max_def);
  data->starts.clear();
  data->dense = false;
}

Status ReadColumnChunk(const uint8_t* data, size_t size, const ColumnMetaData& meta, const LeafColumn& leaf,
                       const std::string& where, LeafData* out) {
  PageDecoder decoder(meta, leaf);
  size_t pos = 0;
  // The values can take no more room than the chunk uncompressed: reserve once instead of
  // regrowing (capped, since the size is the file's claim).
  // Fixed-width values take at most one physical value per level (dictionary-encoded chunks
  // are far smaller than their values, so their uncompressed size is no bound).
  const int64_t value_width = leaf.conversion == ValueConversion::kNarrow ? leaf.value_type.fixed_row_bytes()
                                                                         : PhysicalWidth(leaf.physical, leaf.type_length);
  const int64_t fixed_bound = leaf.physical == PhysicalType::kByteArray ? 0 : meta.num_values * value_width;
  const int64_t reserve = std::min<int64_t>({std::max(meta.total_uncompressed_size, fixed_bound), static_cast<int64_t>(size) * 64 + (1 << 20),
                                             int64_t{1} << 31});
  if (reserve > 0) (leaf.physical == PhysicalType::kByteArray ? out->values.bytes : out->values.fixed).reserve(static_cast<size_t>(reserve));
  for (int page = 0; out->slots < meta.num_values; ++page) {
    const std::string pw = where + " page " + std::to_string(page);
    if (pos >= size) {
      return Status::InvalidData(pw + ": the column chunk ends after " + std::to_string(out->slots) + " of " +
                                 std::to_string(meta.num_values) + " values");
    }
    CompactReader header_reader(data + pos, size - pos, pw + " header");
    ASSIGN_OR_RETURN(PageHeader h, DecodePageHeader(header_reader));
    pos += header_reader.position();
    RETURN_IF_ERROR(PageDecoder::CheckSizes(h, size - pos, pw));
    const uint8_t* page_data = data + pos;
    pos += static_cast<size_t>(h.compressed_page_size);
    RETURN_IF_ERROR(decoder.Decode(h, page_data, meta.num_values - out->slots, pw, out));
  }
  return Status::OK();
}

Result<Column> AssembleColumn(LeafData data, const Field& field, const LeafColumn& leaf, int64_t rows, const std::string& where) {
  ConvertValues(leaf, &data.values);
  ASSIGN_OR_RETURN(Column dense, DenseColumn(leaf, std::move(data.values)));
  const int16_t max_def = leaf.max_def;
  if (!field.is_list) {
    if (data.slots != rows) {
      return Status::InvalidData(where + ": " + std::to_string(data.slots) + " values for " + std::to_string(rows) + " rows");
    }
    if (max_def == 0) return dense;
    std::vector<uint8_t> valid(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) valid[static_cast<size_t>(i)] = data.def[static_cast<size_t>(i)] == max_def;
    return Scatter(dense, valid);
  }
  if (data.dense) {  // every list and element present: offsets are the row starts
    if (static_cast<int64_t>(data.starts.size()) != rows || (rows > 0 && data.starts[0] != 0) || (rows == 0 && data.slots > 0)) {
      return Status::InvalidData(where + ": " + std::to_string(data.starts.size()) + " lists for " + std::to_string(rows) + " rows");
    }
    std::vector<int64_t> offsets = std::move(data.starts);
    offsets.push_back(data.slots);
    if (dense.length() != data.slots) {
      return Status::InvalidData(where + ": " + std::to_string(dense.length()) + " values for " + std::to_string(data.slots) + " list elements");
    }
    return Column::MakeList(rows, Buffer::FromVector(std::move(offsets)), std::move(dense), nullptr);
  }
  // One-level list: rep 0 starts a row; def below list_present_def is a null list, equal to it an
  // empty list, above it an element (null unless def == max_def).
  const int16_t present = field.list_present_def;
  std::vector<int64_t> offsets;
  std::vector<uint8_t> list_valid, element_valid;
  offsets.reserve(static_cast<size_t>(rows) + 1);
  for (int64_t s = 0; s < data.slots; ++s) {
    const int16_t rep = data.rep.empty() ? 0 : data.rep[static_cast<size_t>(s)];
    const int16_t def = data.def.empty() ? max_def : data.def[static_cast<size_t>(s)];
    if (rep == 0) {
      offsets.push_back(static_cast<int64_t>(element_valid.size()));
      list_valid.push_back(def >= present);
    } else if (offsets.empty()) {
      return Status::InvalidData(where + ": the first value continues a list (repetition level " + std::to_string(rep) + ")");
    }
    if (def > present) element_valid.push_back(def == max_def);
  }
  if (static_cast<int64_t>(list_valid.size()) != rows) {
    return Status::InvalidData(where + ": " + std::to_string(list_valid.size()) + " lists for " + std::to_string(rows) + " rows");
  }
  offsets.push_back(static_cast<int64_t>(element_valid.size()));
  int64_t non_null = 0;
  for (uint8_t v : element_valid) non_null += v;
  if (non_null != dense.length()) {
    return Status::InvalidData(where + ": " + std::to_string(dense.length()) + " values for " + std::to_string(non_null) + " list elements");
  }
  ASSIGN_OR_RETURN(Column child, Scatter(dense, element_valid));
  const bool any_null_list = std::find(list_valid.begin(), list_valid.end(), 0) != list_valid.end();
  return Column::MakeList(rows, Buffer::FromVector(std::move(offsets)), std::move(child),
                          any_null_list ? Buffer::FromVector(std::move(list_valid)) : nullptr);
}

}  // namespace sluice::parquet
