// ParquetReader::Inspect: the human-readable description behind `sluice parquet inspect`.
#include <cstdio>
#include <cstring>

#include "parquet_reader_impl.h"
#include "sluice/byte_units.h"

namespace sluice {

using namespace parquet;

namespace {

/// Statistics values as text: numbers for numeric types, quoted text otherwise.
std::string StatValue(const std::string& raw, PhysicalType type) {
  char buf[64];
  auto load = [&](auto v) {
    std::memcpy(&v, raw.data(), sizeof(v));
    return v;
  };
  switch (type) {
    case PhysicalType::kBoolean: return raw.size() >= 1 ? (raw[0] ? "true" : "false") : "?";
    case PhysicalType::kInt32: if (raw.size() == 4) { std::snprintf(buf, sizeof buf, "%d", load(int32_t{})); return buf; } break;
    case PhysicalType::kInt64: if (raw.size() == 8) { std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(load(int64_t{}))); return buf; } break;
    case PhysicalType::kFloat: if (raw.size() == 4) { std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(load(float{}))); return buf; } break;
    case PhysicalType::kDouble: if (raw.size() == 8) { std::snprintf(buf, sizeof buf, "%.17g", load(double{})); return buf; } break;
    default: {
      std::string s = "\"";
      for (char c : raw.substr(0, 32)) s += (c >= 32 && c < 127) ? c : '.';
      return s + (raw.size() > 32 ? "...\"" : "\"");
    }
  }
  return "(" + std::to_string(raw.size()) + " bytes)";
}

}  // namespace

std::string ParquetReader::Inspect() const {
  const Impl& im = *impl_;
  std::string o;
  o += "file: " + name() + "\n";
  o += "created_by: " + im.meta.created_by + "\n";
  o += "rows: " + std::to_string(num_rows()) + ", row groups: " + std::to_string(num_row_groups()) + ", format version " +
       std::to_string(im.meta.version) + "\n";
  o += "columns:\n";
  for (size_t i = 0; i < im.columns.size(); ++i) {
    const auto& c = im.columns[i];
    const Field& f = im.schema.fields[i];
    o += "  " + c.name + ": " + c.type.ToString() + (c.nullable ? " (nullable)" : "");
    if (f.leaf >= 0 && !f.variable_tensor) {
      const LeafColumn& leaf = im.schema.leaves[static_cast<size_t>(f.leaf)];
      o += "  [" + PhysicalTypeName(leaf.physical) + (leaf.physical == PhysicalType::kFixedLenByteArray ? "(" + std::to_string(leaf.type_length) + ")" : "") +
           ", path " + leaf.dotted() + ", max def " + std::to_string(leaf.max_def) + ", max rep " + std::to_string(leaf.max_rep) + "]";
    }
    if (!c.unsupported.empty()) o += "  UNSUPPORTED: " + c.unsupported;
    if (const TensorColumnMeta* t = FindTensor(im.tensors, c.name); t && c.type.id() == TypeId::kTensor) {
      o += "  tensor from " + t->source;
    } else if (t && f.variable_tensor) {
      o += "  variable-shaped " + std::string(DTypeName(t->dtype)) + " tensor from " + t->source + ", each row read as a raw image";
    }
    o += "\n";
  }
  for (const auto& n : im.tensor_notes) o += "note: " + n + "\n";
  if (!im.kv.empty()) {
    o += "key-value metadata:\n";
    for (const auto& [k, v] : im.kv) o += "  " + k + " = " + (v.size() > 120 ? v.substr(0, 120) + "... (" + std::to_string(v.size()) + " bytes)" : v) + "\n";
  }
  for (size_t g = 0; g < im.meta.row_groups.size(); ++g) {
    const RowGroup& rg = im.meta.row_groups[g];
    o += "row group " + std::to_string(g) + ": " + std::to_string(rg.num_rows) + " rows, " + FormatBytes(rg.total_byte_size) + "\n";
    for (size_t c = 0; c < rg.columns.size() && c < im.schema.leaves.size(); ++c) {
      const ColumnMetaData& m = rg.columns[c].meta_data;
      o += "  " + im.schema.leaves[c].dotted() + ": " + CodecName(m.codec) + ", " + FormatBytes(m.total_compressed_size) + " (" +
           FormatBytes(m.total_uncompressed_size) + " uncompressed), " + std::to_string(m.num_values) + " values, encodings";
      for (Encoding e : m.encodings) o += " " + EncodingName(e);
      if (m.statistics) {
        const Statistics& s = *m.statistics;
        if (s.null_count) o += ", nulls " + std::to_string(*s.null_count);
        if (s.min_value) o += ", min " + StatValue(*s.min_value, m.type);
        if (s.max_value) o += ", max " + StatValue(*s.max_value, m.type);
      }
      o += "\n";
    }
  }
  return o;
}

}  // namespace sluice
