#include "column_chunk_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "compression.h"
#include "rle_bit_packed.h"
#include "schema.h"

namespace sluice::parquet {
namespace {

constexpr size_t kMaxStatBytes = 64;  // longer string min/max values are left out

SchemaElement Primitive(const std::string& name, PhysicalType physical, int32_t length, Repetition rep, const DataType& type) {
  SchemaElement e;
  e.name = name;
  e.type = physical;
  e.type_length = length;
  e.repetition = rep;
  if (type.id() == TypeId::kString) {
    e.converted_type = ConvertedType::kUtf8;
    e.logical_type.kind = LogicalType::Kind::kString;
  }
  // Narrow and unsigned integers keep their type: INTEGER(bits, signed) plus the legacy
  // converted type, so readers (DuckDB, pyarrow) see int8 as int8 and uint64 as uint64.
  struct IntAnnotation { TypeId id; int8_t bits; bool is_signed; ConvertedType converted; };
  static constexpr IntAnnotation kInts[] = {
      {TypeId::kInt8, 8, true, ConvertedType::kInt8},       {TypeId::kInt16, 16, true, ConvertedType::kInt16},
      {TypeId::kUInt8, 8, false, ConvertedType::kUint8},    {TypeId::kUInt16, 16, false, ConvertedType::kUint16},
      {TypeId::kUInt32, 32, false, ConvertedType::kUint32}, {TypeId::kUInt64, 64, false, ConvertedType::kUint64},
  };
  for (const auto& a : kInts) {
    if (type.id() != a.id) continue;
    e.converted_type = a.converted;
    e.logical_type.kind = LogicalType::Kind::kInteger;
    e.logical_type.bit_width = a.bits;
    e.logical_type.is_signed = a.is_signed;
  }
  return e;
}

Result<std::pair<PhysicalType, int32_t>> PhysicalFor(const DataType& type) {
  switch (type.id()) {
    case TypeId::kBool: return std::make_pair(PhysicalType::kBoolean, 0);
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kInt32: return std::make_pair(PhysicalType::kInt32, 0);
    case TypeId::kUInt64:
    case TypeId::kInt64: return std::make_pair(PhysicalType::kInt64, 0);
    case TypeId::kFloat32: return std::make_pair(PhysicalType::kFloat, 0);
    case TypeId::kFloat64: return std::make_pair(PhysicalType::kDouble, 0);
    case TypeId::kBinary:
    case TypeId::kString: return std::make_pair(PhysicalType::kByteArray, 0);
    case TypeId::kTensor: {
      const int64_t n = type.fixed_row_bytes();
      if (n > INT32_MAX) return Status::InvalidArgument("tensor rows of " + std::to_string(n) + " bytes are too large for Parquet");
      return std::make_pair(PhysicalType::kFixedLenByteArray, static_cast<int32_t>(n));
    }
    case TypeId::kList: break;
  }
  return Status::InvalidArgument("no Parquet layout for " + type.ToString());
}

/// The leaf values of a chunk: fixed-width raw bytes, or views of variable-length values.
struct Leaf {
  std::vector<int16_t> def, rep;
  std::vector<uint8_t> fixed;           // non-null fixed-width values (bool: one byte each)
  std::vector<std::string_view> views;  // non-null byte-array values
  int64_t nulls = 0;
};

void AppendValue(const Column& c, int64_t i, const ColumnLayout& l, Leaf& leaf) {
  if (l.physical == PhysicalType::kByteArray) {
    leaf.views.push_back(c.ValueBytes(i));
  } else if (l.physical == PhysicalType::kFixedLenByteArray) {
    leaf.views.emplace_back(reinterpret_cast<const char*>(c.RowData(i)), static_cast<size_t>(l.type_length));
  } else if (l.physical == PhysicalType::kInt32 && c.type().fixed_row_bytes() < 4) {
    // int8/int16/uint8/uint16 are stored as INT32: sign- or zero-extended.
    int32_t v = 0;
    switch (c.type().id()) {
      case TypeId::kInt8: v = c.Value<int8_t>(i); break;
      case TypeId::kInt16: v = c.Value<int16_t>(i); break;
      case TypeId::kUInt8: v = c.Value<uint8_t>(i); break;
      default: v = c.Value<uint16_t>(i); break;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    leaf.fixed.insert(leaf.fixed.end(), p, p + 4);
  } else {
    const int64_t w = c.type().fixed_row_bytes();
    leaf.fixed.insert(leaf.fixed.end(), c.RowData(i), c.RowData(i) + w);
  }
}

Leaf Flatten(const ColumnLayout& l, const std::vector<Column>& parts) {
  Leaf leaf;
  for (const Column& c : parts) {
    for (int64_t r = 0; r < c.length(); ++r) {
      if (!l.is_list) {
        const bool valid = c.IsValid(r);
        leaf.def.push_back(valid ? 1 : 0);
        if (valid) AppendValue(c, r, l, leaf);
        else ++leaf.nulls;
        continue;
      }
      if (!c.IsValid(r)) {
        leaf.def.push_back(0);
        leaf.rep.push_back(0);
        ++leaf.nulls;
        continue;
      }
      const int64_t begin = c.ListBegin(r), end = c.ListEnd(r);
      if (begin == end) {
        leaf.def.push_back(1);
        leaf.rep.push_back(0);
        continue;
      }
      for (int64_t e = begin; e < end; ++e) {
        const bool valid = c.child().IsValid(e);
        leaf.def.push_back(valid ? 3 : 2);
        leaf.rep.push_back(e == begin ? 0 : 1);
        if (valid) AppendValue(c.child(), e, l, leaf);
        else ++leaf.nulls;
      }
    }
  }
  return leaf;
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  const size_t at = out.size();
  out.resize(at + 4);
  std::memcpy(out.data() + at, &v, 4);
}

void AppendLevels(std::vector<uint8_t>& out, const int16_t* levels, size_t n, int16_t max_level) {
  RleBitPackedEncoder enc(BitWidth(static_cast<uint64_t>(max_level)));
  for (size_t i = 0; i < n; ++i) enc.Put(static_cast<uint32_t>(levels[i]));
  const auto bytes = enc.Finish();
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void AppendPlainViews(std::vector<uint8_t>& out, const std::string_view* v, size_t n, bool with_length) {
  for (size_t i = 0; i < n; ++i) {
    if (with_length) PutU32(out, static_cast<uint32_t>(v[i].size()));
    out.insert(out.end(), v[i].begin(), v[i].end());
  }
}

void AppendPlainBools(std::vector<uint8_t>& out, const uint8_t* v, size_t n) {
  const size_t at = out.size();
  out.resize(at + (n + 7) / 8, 0);
  for (size_t i = 0; i < n; ++i) {
    if (v[i]) out[at + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
}

/// Min/max statistics in Parquet's plain encoding, or nothing when they do not apply.
void ComputeStats(const ColumnLayout& l, const Leaf& leaf, Statistics* s) {
  s->null_count = leaf.nulls;
  if (l.is_list) return;
  auto set = [&](const void* lo, const void* hi, size_t n) {
    s->min_value = std::string(static_cast<const char*>(lo), n);
    s->max_value = std::string(static_cast<const char*>(hi), n);
  };
  auto numeric = [&](auto zero) {
    using T = decltype(zero);
    const size_t n = leaf.fixed.size() / sizeof(T);
    bool any = false;
    T lo{}, hi{};
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, leaf.fixed.data() + i * sizeof(T), sizeof(T));
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(v)) continue;
      }
      if (!any || v < lo) lo = v;
      if (!any || v > hi) hi = v;
      any = true;
    }
    if constexpr (std::is_floating_point_v<T>) {  // the spec asks for -0.0 as min and +0.0 as max
      if (any && lo == 0) lo = -T{0};
      if (any && hi == 0) hi = T{0};
    }
    if (any) set(&lo, &hi, sizeof(T));
  };
  switch (l.physical) {
    case PhysicalType::kBoolean: numeric(uint8_t{}); break;
    // Unsigned integers sort as unsigned (the spec's order for UINT_32 / UINT_64).
    case PhysicalType::kInt32: l.type.id() == TypeId::kUInt32 ? numeric(uint32_t{}) : numeric(int32_t{}); break;
    case PhysicalType::kInt64: l.type.id() == TypeId::kUInt64 ? numeric(uint64_t{}) : numeric(int64_t{}); break;
    case PhysicalType::kFloat: numeric(float{}); break;
    case PhysicalType::kDouble: numeric(double{}); break;
    case PhysicalType::kByteArray: {
      if (leaf.views.empty()) break;
      const auto [lo, hi] = std::minmax_element(leaf.views.begin(), leaf.views.end(), [](std::string_view a, std::string_view b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                            [](char x, char y) { return static_cast<uint8_t>(x) < static_cast<uint8_t>(y); });
      });
      if (lo->size() <= kMaxStatBytes && hi->size() <= kMaxStatBytes) {
        s->min_value = std::string(*lo);
        s->max_value = std::string(*hi);
      }
      break;
    }
    default: break;
  }
}

struct PageWriter {
  Codec codec;
  std::vector<uint8_t>* out;
  int64_t* uncompressed_total;

  Status Write(PageHeader h, const std::vector<uint8_t>& body) {
    ASSIGN_OR_RETURN(auto packed, Compress(codec, body.data(), body.size()));
    h.uncompressed_page_size = static_cast<int32_t>(body.size());
    h.compressed_page_size = static_cast<int32_t>(packed.size());
    CompactWriter w;
    EncodePageHeader(h, w);
    out->insert(out->end(), w.bytes().begin(), w.bytes().end());
    out->insert(out->end(), packed.begin(), packed.end());
    *uncompressed_total += static_cast<int64_t>(w.bytes().size() + body.size());
    return Status::OK();
  }
};

}  // namespace

Result<ColumnLayout> LayoutFor(const std::string& name, const DataType& type) {
  ColumnLayout l;
  l.name = name;
  l.type = type;
  l.is_list = type.is_list();
  const DataType& value_type = l.is_list ? type.element() : type;
  if (value_type.is_list()) return Status::Unimplemented("column '" + name + "': lists of lists");
  ASSIGN_OR_RETURN(auto phys, PhysicalFor(value_type));
  l.physical = phys.first;
  l.type_length = phys.second;
  if (!l.is_list) {
    l.elements.push_back(Primitive(name, l.physical, l.type_length, Repetition::kOptional, value_type));
    l.path = {name};
    return l;
  }
  SchemaElement outer;
  outer.name = name;
  outer.repetition = Repetition::kOptional;
  outer.num_children = 1;
  outer.converted_type = ConvertedType::kList;
  outer.logical_type.kind = LogicalType::Kind::kList;
  SchemaElement middle;
  middle.name = "list";
  middle.repetition = Repetition::kRepeated;
  middle.num_children = 1;
  l.elements = {outer, middle, Primitive("element", l.physical, l.type_length, Repetition::kOptional, value_type)};
  l.path = {name, "list", "element"};
  return l;
}

Result<EncodedChunk> EncodeColumnChunk(const ColumnLayout& l, const std::vector<Column>& parts, const ChunkOptions& options) {
  Leaf leaf = Flatten(l, parts);
  EncodedChunk chunk;
  ColumnMetaData& meta = chunk.meta;
  meta.type = l.physical;
  meta.path_in_schema = l.path;
  meta.codec = options.codec;
  meta.num_values = static_cast<int64_t>(leaf.def.size());
  Statistics stats;
  ComputeStats(l, leaf, &stats);
  meta.statistics = stats;
  PageWriter pages{options.codec, &chunk.bytes, &meta.total_uncompressed_size};
  const int16_t max_def = l.is_list ? 3 : 1;

  // Dictionary for byte arrays with few distinct values.
  std::vector<uint32_t> indices;
  std::vector<std::string_view> dict;
  if (options.dictionary && l.physical == PhysicalType::kByteArray && !leaf.views.empty()) {
    std::unordered_map<std::string_view, uint32_t> ids;
    int64_t dict_bytes = 0;
    bool use = true;
    indices.reserve(leaf.views.size());
    for (std::string_view v : leaf.views) {
      auto [it, added] = ids.emplace(v, static_cast<uint32_t>(dict.size()));
      if (added) {
        dict.push_back(v);
        dict_bytes += static_cast<int64_t>(v.size()) + 4;
        if (dict_bytes > options.page_bytes || dict.size() * 2 > leaf.views.size() + 16) {
          use = false;
          break;
        }
      }
      indices.push_back(it->second);
    }
    if (!use) {
      indices.clear();
      dict.clear();
    }
  }
  chunk.has_dictionary = !dict.empty();
  if (chunk.has_dictionary) {
    std::vector<uint8_t> body;
    AppendPlainViews(body, dict.data(), dict.size(), true);
    PageHeader h;
    h.type = PageType::kDictionaryPage;
    h.dictionary_page = DictionaryPageHeader{static_cast<int32_t>(dict.size()), Encoding::kPlain};
    meta.dictionary_page_offset = 0;
    RETURN_IF_ERROR(pages.Write(h, body));
    meta.encodings = {Encoding::kPlain, Encoding::kRleDictionary, Encoding::kRle};
  } else {
    meta.encodings = {Encoding::kPlain, Encoding::kRle};
  }
  meta.data_page_offset = static_cast<int64_t>(chunk.bytes.size());

  // Data pages: cut at about page_bytes of values, lists only where a row starts.
  const size_t slots = leaf.def.size();
  const size_t value_width = static_cast<size_t>(std::max(1, PhysicalWidth(l.physical, l.type_length)));
  size_t slot = 0, value = 0;
  do {
    size_t end = slot, values_end = value;
    int64_t bytes = 0;
    while (end < slots && (end == slot || bytes < options.page_bytes || (l.is_list && leaf.rep[end] != 0))) {
      if (leaf.def[end] == max_def) {
        bytes += chunk.has_dictionary ? 4
                 : (l.physical == PhysicalType::kByteArray || l.physical == PhysicalType::kFixedLenByteArray)
                     ? static_cast<int64_t>(leaf.views[values_end].size()) + 4
                     : static_cast<int64_t>(value_width);
        ++values_end;
      }
      ++end;
    }
    std::vector<uint8_t> body;
    if (l.is_list) AppendLevels(body, leaf.rep.data() + slot, end - slot, 1);
    AppendLevels(body, leaf.def.data() + slot, end - slot, max_def);
    const size_t nv = values_end - value;
    if (chunk.has_dictionary) {
      const int width = BitWidth(dict.size() > 1 ? dict.size() - 1 : 0);
      body.push_back(static_cast<uint8_t>(width));
      RleBitPackedEncoder enc(width);
      for (size_t i = value; i < values_end; ++i) enc.Put(indices[i]);
      const auto idx = enc.Finish();
      body.insert(body.end(), idx.begin(), idx.end());
    } else if (l.physical == PhysicalType::kByteArray || l.physical == PhysicalType::kFixedLenByteArray) {
      AppendPlainViews(body, leaf.views.data() + value, nv, l.physical == PhysicalType::kByteArray);
    } else if (l.physical == PhysicalType::kBoolean) {
      AppendPlainBools(body, leaf.fixed.data() + value, nv);
    } else {
      body.insert(body.end(), leaf.fixed.begin() + static_cast<ptrdiff_t>(value * value_width),
                  leaf.fixed.begin() + static_cast<ptrdiff_t>(values_end * value_width));
    }
    PageHeader h;
    h.type = PageType::kDataPage;
    h.data_page.emplace();
    h.data_page->num_values = static_cast<int32_t>(end - slot);
    h.data_page->encoding = chunk.has_dictionary ? Encoding::kRleDictionary : Encoding::kPlain;
    RETURN_IF_ERROR(pages.Write(h, body));
    slot = end;
    value = values_end;
  } while (slot < slots);
  meta.total_compressed_size = static_cast<int64_t>(chunk.bytes.size());
  return chunk;
}

}  // namespace sluice::parquet
