#include "metadata.h"

namespace sluice::parquet {
namespace {

using T = ThriftType;

/// Calls on_field(id, type) for each field of a struct; it returns false for fields it does not
/// know, which are skipped.
template <typename F>
Status ReadStruct(CompactReader& in, F&& on_field) {
  RETURN_IF_ERROR(in.BeginStruct());
  for (;;) {
    int16_t id;
    ThriftType type;
    ASSIGN_OR_RETURN(bool more, in.NextField(&id, &type));
    if (!more) break;
    ASSIGN_OR_RETURN(bool known, on_field(id, type));
    if (!known) RETURN_IF_ERROR(in.Skip(type));
  }
  return in.EndStruct();
}

template <typename Item, typename F>
Status ReadList(CompactReader& in, std::vector<Item>* out, F&& read_one) {
  ThriftType element;
  int32_t n;
  RETURN_IF_ERROR(in.ReadListHeader(&element, &n));
  out->clear();
  out->reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(Item item, read_one(element));
    out->push_back(std::move(item));
  }
  return Status::OK();
}

/// A field whose Thrift type is not the one the spec gives is treated as unknown (skipped).
bool Is(ThriftType got, ThriftType want) {
  if (want == T::kTrue) return got == T::kTrue || got == T::kFalse;
  return got == want;
}

template <typename E>
Result<E> ReadEnum(CompactReader& in) {
  ASSIGN_OR_RETURN(int32_t v, in.ReadI32());
  return static_cast<E>(v);
}

Result<Statistics> ReadStatistics(CompactReader& in) {
  Statistics s;
  std::optional<std::string> legacy_min, legacy_max;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    if (id == 1 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(legacy_max, in.ReadString()); return true; }
    if (id == 2 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(legacy_min, in.ReadString()); return true; }
    if (id == 3 && Is(t, T::kI64)) { ASSIGN_OR_RETURN(s.null_count, in.ReadI64()); return true; }
    if (id == 5 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(s.max_value, in.ReadString()); return true; }
    if (id == 6 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(s.min_value, in.ReadString()); return true; }
    return false;
  }));
  // Legacy min/max (fields 1/2) used signed byte order; keep them only when nothing better exists.
  if (!s.min_value) s.min_value = legacy_min;
  if (!s.max_value) s.max_value = legacy_max;
  return s;
}

Result<LogicalType> ReadLogicalType(CompactReader& in) {
  LogicalType lt;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    if (!Is(t, T::kStruct)) return false;
    using K = LogicalType::Kind;
    static constexpr K kKinds[] = {K::kNone, K::kString, K::kMap, K::kList, K::kEnum, K::kDecimal, K::kDate, K::kTime,
                                   K::kTimestamp, K::kNone, K::kInteger, K::kUnknown, K::kJson, K::kBson, K::kUuid, K::kFloat16};
    if (id <= 0 || id >= static_cast<int16_t>(std::size(kKinds)) || id == 9) return false;
    lt.kind = kKinds[id];
    if (lt.kind != K::kInteger) {
      RETURN_IF_ERROR(in.Skip(t));
      return true;
    }
    RETURN_IF_ERROR(ReadStruct(in, [&](int16_t f, ThriftType ft) -> Result<bool> {
      if (f == 1 && Is(ft, T::kByte)) { ASSIGN_OR_RETURN(lt.bit_width, in.ReadByte()); return true; }
      if (f == 2 && Is(ft, T::kTrue)) { lt.is_signed = CompactReader::FieldBool(ft); return true; }
      return false;
    }));
    return true;
  }));
  return lt;
}

Result<SchemaElement> ReadSchemaElement(CompactReader& in) {
  SchemaElement e;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    switch (id) {
      case 1: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(e.type, ReadEnum<PhysicalType>(in)); return true; }
      case 2: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(e.type_length, in.ReadI32()); return true; }
      case 3: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(e.repetition, ReadEnum<Repetition>(in)); return true; }
      case 4: { if (!Is(t, T::kBinary)) return false; ASSIGN_OR_RETURN(e.name, in.ReadString()); return true; }
      case 5: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(e.num_children, in.ReadI32()); return true; }
      case 6: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(e.converted_type, ReadEnum<ConvertedType>(in)); return true; }
      case 10: { if (!Is(t, T::kStruct)) return false; ASSIGN_OR_RETURN(e.logical_type, ReadLogicalType(in)); return true; }
      default: return false;
    }
  }));
  return e;
}

Result<ColumnMetaData> ReadColumnMetaData(CompactReader& in) {
  ColumnMetaData m;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    switch (id) {
      case 1: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(m.type, ReadEnum<PhysicalType>(in)); return true; }
      case 2:
        if (!Is(t, T::kList)) return false;
        RETURN_IF_ERROR(ReadList(in, &m.encodings, [&](ThriftType) { return ReadEnum<Encoding>(in); }));
        return true;
      case 3:
        if (!Is(t, T::kList)) return false;
        RETURN_IF_ERROR(ReadList(in, &m.path_in_schema, [&](ThriftType) { return in.ReadString(); }));
        return true;
      case 4: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(m.codec, ReadEnum<Codec>(in)); return true; }
      case 5: { if (!Is(t, T::kI64)) return false; ASSIGN_OR_RETURN(m.num_values, in.ReadI64()); return true; }
      case 6: { if (!Is(t, T::kI64)) return false; ASSIGN_OR_RETURN(m.total_uncompressed_size, in.ReadI64()); return true; }
      case 7: { if (!Is(t, T::kI64)) return false; ASSIGN_OR_RETURN(m.total_compressed_size, in.ReadI64()); return true; }
      case 9: { if (!Is(t, T::kI64)) return false; ASSIGN_OR_RETURN(m.data_page_offset, in.ReadI64()); return true; }
      case 11: { if (!Is(t, T::kI64)) return false; ASSIGN_OR_RETURN(m.dictionary_page_offset, in.ReadI64()); return true; }
      case 12: { if (!Is(t, T::kStruct)) return false; ASSIGN_OR_RETURN(m.statistics, ReadStatistics(in)); return true; }
      default: return false;
    }
  }));
  return m;
}

Result<ColumnChunk> ReadColumnChunk(CompactReader& in) {
  ColumnChunk c;
  bool has_meta = false;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    if (id == 1 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(c.file_path, in.ReadString()); return true; }
    if (id == 2 && Is(t, T::kI64)) { ASSIGN_OR_RETURN(c.file_offset, in.ReadI64()); return true; }
    if (id == 3 && Is(t, T::kStruct)) {
      ASSIGN_OR_RETURN(c.meta_data, ReadColumnMetaData(in));
      has_meta = true;
      return true;
    }
    return false;
  }));
  if (!has_meta) return Status::InvalidData("a column chunk has no metadata (encrypted or external metadata is not supported)");
  return c;
}

Result<RowGroup> ReadRowGroup(CompactReader& in) {
  RowGroup g;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    if (id == 1 && Is(t, T::kList)) {
      RETURN_IF_ERROR(ReadList(in, &g.columns, [&](ThriftType) { return ReadColumnChunk(in); }));
      return true;
    }
    if (id == 2 && Is(t, T::kI64)) { ASSIGN_OR_RETURN(g.total_byte_size, in.ReadI64()); return true; }
    if (id == 3 && Is(t, T::kI64)) { ASSIGN_OR_RETURN(g.num_rows, in.ReadI64()); return true; }
    return false;
  }));
  return g;
}

Result<KeyValue> ReadKeyValue(CompactReader& in) {
  KeyValue kv;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    if (id == 1 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(kv.key, in.ReadString()); return true; }
    if (id == 2 && Is(t, T::kBinary)) { ASSIGN_OR_RETURN(kv.value, in.ReadString()); return true; }
    return false;
  }));
  return kv;
}

void WriteStatistics(const Statistics& s, CompactWriter& out) {
  out.BeginStruct();
  if (s.null_count) out.FieldI64(3, *s.null_count);
  if (s.max_value) out.FieldString(5, *s.max_value);
  if (s.min_value) out.FieldString(6, *s.min_value);
  out.EndStruct();
}

void WriteLogicalType(const LogicalType& lt, CompactWriter& out) {
  using K = LogicalType::Kind;
  out.BeginStruct();
  int16_t id = 0;
  switch (lt.kind) {
    case K::kString: id = 1; break;
    case K::kList: id = 3; break;
    case K::kInteger: id = 10; break;
    default: break;
  }
  if (id != 0) {
    out.FieldStruct(id);
    out.BeginStruct();
    if (lt.kind == K::kInteger) {
      out.FieldByte(1, lt.bit_width);
      out.FieldBool(2, lt.is_signed);
    }
    out.EndStruct();
  }
  out.EndStruct();
}

}  // namespace

std::string PhysicalTypeName(PhysicalType t) {
  static const char* kNames[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  const auto i = static_cast<int32_t>(t);
  return i >= 0 && i < 8 ? kNames[i] : "TYPE(" + std::to_string(i) + ")";
}

std::string EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kPlain: return "PLAIN";
    case Encoding::kPlainDictionary: return "PLAIN_DICTIONARY";
    case Encoding::kRle: return "RLE";
    case Encoding::kBitPacked: return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked: return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray: return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary: return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit: return "BYTE_STREAM_SPLIT";
  }
  return "ENCODING(" + std::to_string(static_cast<int32_t>(e)) + ")";
}

std::string CodecName(Codec c) {
  static const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  const auto i = static_cast<int32_t>(c);
  return i >= 0 && i < 8 ? kNames[i] : "CODEC(" + std::to_string(i) + ")";
}

int64_t ColumnChunk::start() const {
  if (meta_data.dictionary_page_offset && *meta_data.dictionary_page_offset > 0 &&
      *meta_data.dictionary_page_offset < meta_data.data_page_offset) {
    return *meta_data.dictionary_page_offset;
  }
  return meta_data.data_page_offset;
}

Result<FileMetaData> DecodeFileMetaData(CompactReader& in) {
  FileMetaData m;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    switch (id) {
      case 1: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(m.version, in.ReadI32()); return true; }
      case 2:
        if (!Is(t, T::kList)) return false;
        RETURN_IF_ERROR(ReadList(in, &m.schema, [&](ThriftType) { return ReadSchemaElement(in); }));
        return true;
      case 3: { if (!Is(t, T::kI64)) return false; ASSIGN_OR_RETURN(m.num_rows, in.ReadI64()); return true; }
      case 4:
        if (!Is(t, T::kList)) return false;
        RETURN_IF_ERROR(ReadList(in, &m.row_groups, [&](ThriftType) { return ReadRowGroup(in); }));
        return true;
      case 5:
        if (!Is(t, T::kList)) return false;
        RETURN_IF_ERROR(ReadList(in, &m.key_value_metadata, [&](ThriftType) { return ReadKeyValue(in); }));
        return true;
      case 6: { if (!Is(t, T::kBinary)) return false; ASSIGN_OR_RETURN(m.created_by, in.ReadString()); return true; }
      default: return false;
    }
  }));
  return m;
}

Result<PageHeader> DecodePageHeader(CompactReader& in) {
  PageHeader h;
  RETURN_IF_ERROR(ReadStruct(in, [&](int16_t id, ThriftType t) -> Result<bool> {
    switch (id) {
      case 1: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(h.type, ReadEnum<PageType>(in)); return true; }
      case 2: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(h.uncompressed_page_size, in.ReadI32()); return true; }
      case 3: { if (!Is(t, T::kI32)) return false; ASSIGN_OR_RETURN(h.compressed_page_size, in.ReadI32()); return true; }
      case 5: {
        if (!Is(t, T::kStruct)) return false;
        DataPageHeader d;
        RETURN_IF_ERROR(ReadStruct(in, [&](int16_t f, ThriftType ft) -> Result<bool> {
          if (f == 1 && Is(ft, T::kI32)) { ASSIGN_OR_RETURN(d.num_values, in.ReadI32()); return true; }
          if (f == 2 && Is(ft, T::kI32)) { ASSIGN_OR_RETURN(d.encoding, ReadEnum<Encoding>(in)); return true; }
          if (f == 3 && Is(ft, T::kI32)) { ASSIGN_OR_RETURN(d.definition_level_encoding, ReadEnum<Encoding>(in)); return true; }
          if (f == 4 && Is(ft, T::kI32)) { ASSIGN_OR_RETURN(d.repetition_level_encoding, ReadEnum<Encoding>(in)); return true; }
          return false;
        }));
        h.data_page = d;
        return true;
      }
      case 7: {
        if (!Is(t, T::kStruct)) return false;
        DictionaryPageHeader d;
        RETURN_IF_ERROR(ReadStruct(in, [&](int16_t f, ThriftType ft) -> Result<bool> {
          if (f == 1 && Is(ft, T::kI32)) { ASSIGN_OR_RETURN(d.num_values, in.ReadI32()); return true; }
          if (f == 2 && Is(ft, T::kI32)) { ASSIGN_OR_RETURN(d.encoding, ReadEnum<Encoding>(in)); return true; }
          return false;
        }));
        h.dictionary_page = d;
        return true;
      }
      case 8: {
        if (!Is(t, T::kStruct)) return false;
        DataPageHeaderV2 d;
        RETURN_IF_ERROR(ReadStruct(in, [&](int16_t f, ThriftType ft) -> Result<bool> {
          switch (f) {
            case 1: { if (!Is(ft, T::kI32)) return false; ASSIGN_OR_RETURN(d.num_values, in.ReadI32()); return true; }
            case 2: { if (!Is(ft, T::kI32)) return false; ASSIGN_OR_RETURN(d.num_nulls, in.ReadI32()); return true; }
            case 3: { if (!Is(ft, T::kI32)) return false; ASSIGN_OR_RETURN(d.num_rows, in.ReadI32()); return true; }
            case 4: { if (!Is(ft, T::kI32)) return false; ASSIGN_OR_RETURN(d.encoding, ReadEnum<Encoding>(in)); return true; }
            case 5: { if (!Is(ft, T::kI32)) return false; ASSIGN_OR_RETURN(d.definition_levels_byte_length, in.ReadI32()); return true; }
            case 6: { if (!Is(ft, T::kI32)) return false; ASSIGN_OR_RETURN(d.repetition_levels_byte_length, in.ReadI32()); return true; }
            case 7: if (!Is(ft, T::kTrue)) return false; d.is_compressed = CompactReader::FieldBool(ft); return true;
            default: return false;
          }
        }));
        h.data_page_v2 = d;
        return true;
      }
      default: return false;
    }
  }));
  return h;
}

void EncodeFileMetaData(const FileMetaData& m, CompactWriter& out) {
  out.BeginStruct();
  out.FieldI32(1, m.version);
  out.FieldList(2, T::kStruct, static_cast<int32_t>(m.schema.size()));
  for (const auto& e : m.schema) {
    out.BeginStruct();
    if (e.type) out.FieldI32(1, static_cast<int32_t>(*e.type));
    if (e.type && *e.type == PhysicalType::kFixedLenByteArray) out.FieldI32(2, e.type_length);
    if (e.repetition) out.FieldI32(3, static_cast<int32_t>(*e.repetition));
    out.FieldString(4, e.name);
    if (!e.type) out.FieldI32(5, e.num_children);
    if (e.converted_type) out.FieldI32(6, static_cast<int32_t>(*e.converted_type));
    if (e.logical_type.kind != LogicalType::Kind::kNone) {
      out.FieldStruct(10);
      WriteLogicalType(e.logical_type, out);
    }
    out.EndStruct();
  }
  out.FieldI64(3, m.num_rows);
  out.FieldList(4, T::kStruct, static_cast<int32_t>(m.row_groups.size()));
  for (const auto& g : m.row_groups) {
    out.BeginStruct();
    out.FieldList(1, T::kStruct, static_cast<int32_t>(g.columns.size()));
    for (const auto& c : g.columns) {
      const ColumnMetaData& cm = c.meta_data;
      out.BeginStruct();
      out.FieldI64(2, c.file_offset);
      out.FieldStruct(3);
      out.BeginStruct();
      out.FieldI32(1, static_cast<int32_t>(cm.type));
      out.FieldList(2, T::kI32, static_cast<int32_t>(cm.encodings.size()));
      for (Encoding e : cm.encodings) out.I32(static_cast<int32_t>(e));
      out.FieldList(3, T::kBinary, static_cast<int32_t>(cm.path_in_schema.size()));
      for (const auto& p : cm.path_in_schema) out.String(p);
      out.FieldI32(4, static_cast<int32_t>(cm.codec));
      out.FieldI64(5, cm.num_values);
      out.FieldI64(6, cm.total_uncompressed_size);
      out.FieldI64(7, cm.total_compressed_size);
      out.FieldI64(9, cm.data_page_offset);
      if (cm.dictionary_page_offset) out.FieldI64(11, *cm.dictionary_page_offset);
      if (cm.statistics) {
        out.FieldStruct(12);
        WriteStatistics(*cm.statistics, out);
      }
      out.EndStruct();
      out.EndStruct();
    }
    out.FieldI64(2, g.total_byte_size);
    out.FieldI64(3, g.num_rows);
    out.EndStruct();
  }
  if (!m.key_value_metadata.empty()) {
    out.FieldList(5, T::kStruct, static_cast<int32_t>(m.key_value_metadata.size()));
    for (const auto& kv : m.key_value_metadata) {
      out.BeginStruct();
      out.FieldString(1, kv.key);
      out.FieldString(2, kv.value);
      out.EndStruct();
    }
  }
  out.FieldString(6, m.created_by);
  out.EndStruct();
}

void EncodePageHeader(const PageHeader& h, CompactWriter& out) {
  out.BeginStruct();
  out.FieldI32(1, static_cast<int32_t>(h.type));
  out.FieldI32(2, h.uncompressed_page_size);
  out.FieldI32(3, h.compressed_page_size);
  if (h.data_page) {
    out.FieldStruct(5);
    out.BeginStruct();
    out.FieldI32(1, h.data_page->num_values);
    out.FieldI32(2, static_cast<int32_t>(h.data_page->encoding));
    out.FieldI32(3, static_cast<int32_t>(h.data_page->definition_level_encoding));
    out.FieldI32(4, static_cast<int32_t>(h.data_page->repetition_level_encoding));
    out.EndStruct();
  }
  if (h.dictionary_page) {
    out.FieldStruct(7);
    out.BeginStruct();
    out.FieldI32(1, h.dictionary_page->num_values);
    out.FieldI32(2, static_cast<int32_t>(h.dictionary_page->encoding));
    out.EndStruct();
  }
  out.EndStruct();
}

}  // namespace sluice::parquet
