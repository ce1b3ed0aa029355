#include <algorithm>
#include <cstring>

#include "column_chunk_reader.h"
#include "parquet_reader_impl.h"
#include "ray_tensor_type.h"
#include "sluice/parquet_source.h"
#include "thrift_compact.h"

namespace sluice {

using namespace parquet;


namespace {

constexpr int64_t kTailRead = 64 * 1024;
/// Column chunks closer than this are read with one request.
constexpr int64_t kCoalesceGap = 1 << 20;

struct Range {
  int64_t begin, end;
  std::vector<size_t> fields;  // the leaf columns (pieces) inside this range
};

}  // namespace

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetReader::~ParquetReader() = default;

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(std::shared_ptr<RandomAccessFile> file, ParquetReadOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  impl->options = options;
  const std::string& name = file->name();
  ASSIGN_OR_RETURN(impl->file_size, file->Size());
  const int64_t size = impl->file_size;
  if (size < 12) return Status::InvalidData("'" + name + "' is not a Parquet file: only " + std::to_string(size) + " bytes");
  const int64_t tail_len = std::min(size, kTailRead);
  ASSIGN_OR_RETURN(auto tail, file->ReadAt(size - tail_len, tail_len));
  const uint8_t* end = tail->data() + tail_len;
  if (std::memcmp(end - 4, "PARE", 4) == 0) return Status::Unimplemented("'" + name + "' uses Parquet encryption, which is not supported");
  if (std::memcmp(end - 4, "PAR1", 4) != 0) return Status::InvalidData("'" + name + "' is not a Parquet file (no PAR1 magic at its end)");
  uint32_t footer_len;
  std::memcpy(&footer_len, end - 8, 4);
  if (footer_len > static_cast<uint64_t>(size - 12)) {
    return Status::InvalidData("'" + name + "': footer length " + std::to_string(footer_len) + " is larger than the file");
  }
  std::shared_ptr<Buffer> footer_buffer = tail;
  const uint8_t* footer = end - 8 - footer_len;
  if (footer_len + 8 > static_cast<uint64_t>(tail_len)) {
    ASSIGN_OR_RETURN(footer_buffer, file->ReadAt(size - 8 - footer_len, footer_len));
    footer = footer_buffer->data();
  }
  CompactReader reader(footer, footer_len, "footer of '" + name + "'");
  auto meta = DecodeFileMetaData(reader);
  if (!meta.ok()) {
    const Status& st = meta.status();
    return st.message().find(name) != std::string::npos ? st : st.WithContext("footer of '" + name + "'");
  }
  impl->meta = std::move(meta).value();
  ASSIGN_OR_RETURN(impl->schema, BuildSchema(impl->meta, name));
  int64_t rows = 0;
  for (size_t g = 0; g < impl->meta.row_groups.size(); ++g) {
    const RowGroup& rg = impl->meta.row_groups[g];
    if (rg.num_rows < 0 || rg.num_rows > options.max_row_group_rows) {
      return Status::InvalidData("'" + name + "' row group " + std::to_string(g) + " claims " + std::to_string(rg.num_rows) +
                                 " rows (the limit is " + std::to_string(options.max_row_group_rows) + ")");
    }
    if (rg.columns.size() != impl->schema.leaves.size()) {
      return Status::InvalidData("'" + name + "' row group " + std::to_string(g) + " has " + std::to_string(rg.columns.size()) +
                                 " column chunks for " + std::to_string(impl->schema.leaves.size()) + " columns");
    }
    rows += rg.num_rows;
  }
  for (const auto& kv : impl->meta.key_value_metadata) impl->kv.emplace_back(kv.key, kv.value);
  impl->tensors = ParseTensorMetadata(impl->kv, &impl->tensor_notes);
  for (Field& f : impl->schema.fields) {  // Ray's variable-shaped tensors: rows of raw images
    const TensorColumnMeta* t = FindTensor(impl->tensors, f.name);
    if (!t || !t->variable_shaped || f.parts.size() != 2) continue;
    if (t->dtype != DType::kUInt8) {
      f.unsupported = "a variable-shaped tensor of " + std::string(DTypeName(t->dtype)) + " (sluice reads variable-shaped uint8 images)";
      continue;
    }
    f.unsupported.clear();
    f.variable_tensor = true;
    f.type = DataType::Binary();
    f.nullable = true;
  }
  for (const Field& f : impl->schema.fields) {
    ParquetColumnInfo info{f.name, f.type, f.nullable, f.unsupported};
    if (const TensorColumnMeta* t = FindTensor(impl->tensors, f.name);
        t && !t->variable_shaped && f.unsupported.empty() && f.is_list == t->from_list) {
      info.type = DataType::Tensor(t->dtype, t->shape);
    }
    impl->columns.push_back(std::move(info));
  }
  (void)rows;
  return std::unique_ptr<ParquetReader>(new ParquetReader(std::move(impl)));
}

const std::string& ParquetReader::name() const { return impl_->file->name(); }
int ParquetReader::num_row_groups() const { return static_cast<int>(impl_->meta.row_groups.size()); }
int64_t ParquetReader::num_rows() const {
  int64_t n = 0;
  for (const auto& rg : impl_->meta.row_groups) n += rg.num_rows;
  return n;
}
int64_t ParquetReader::row_group_rows(int g) const { return impl_->meta.row_groups[static_cast<size_t>(g)].num_rows; }
const std::vector<ParquetColumnInfo>& ParquetReader::columns() const { return impl_->columns; }
const std::vector<std::pair<std::string, std::string>>& ParquetReader::key_value_metadata() const { return impl_->kv; }
const std::string& ParquetReader::created_by() const { return impl_->meta.created_by; }

Result<std::vector<int>> ParquetReader::Impl::ResolveFields(const std::vector<std::string>& wanted) const {
  std::vector<int> fields;
  if (wanted.empty()) {
    for (size_t i = 0; i < schema.fields.size(); ++i) fields.push_back(static_cast<int>(i));
    return fields;
  }
  for (const auto& w : wanted) {
    const int f = schema.FindField(w);
    if (f < 0) {
      std::string have;
      for (const auto& c : columns) have += (have.empty() ? "" : ", ") + c.name;
      return Status::NotFound("'" + file->name() + "' has no column '" + w + "' (columns: " + have + ")");
    }
    fields.push_back(f);
  }
  return fields;
}

std::string ParquetReader::Impl::ChunkName(int g, const Field& f) const {
  return "'" + file->name() + "' row group " + std::to_string(g) + " column '" + f.name + "'";
}

Status ParquetReader::Impl::CheckChunk(int g, const Field& f) const {
  const RowGroup& rg = meta.row_groups[static_cast<size_t>(g)];
  const std::string where = ChunkName(g, f);
  if (!f.unsupported.empty()) return Status::Unimplemented(where + " is " + f.unsupported + ", which sluice does not read");
  if (f.variable_tensor) {
    for (const Field& part : f.parts) RETURN_IF_ERROR(CheckChunk(g, part));
    return Status::OK();
  }
  const ColumnChunk& cc = rg.columns[static_cast<size_t>(f.leaf)];
  const LeafColumn& leaf = schema.leaves[static_cast<size_t>(f.leaf)];
  const int64_t begin = cc.start(), len = cc.meta_data.total_compressed_size;
  if (begin < 0 || len < 0 || begin > file_size || len > file_size - begin) {
    return Status::InvalidData(where + ": chunk at " + std::to_string(begin) + " of " + std::to_string(len) +
                               " bytes lies outside the " + std::to_string(file_size) + "-byte file");
  }
  if (cc.meta_data.num_values < 0 || cc.meta_data.num_values > options.max_chunk_values ||
      (!f.is_list && cc.meta_data.num_values != rg.num_rows)) {
    return Status::InvalidData(where + ": the chunk claims " + std::to_string(cc.meta_data.num_values) + " values for " +
                               std::to_string(rg.num_rows) + " rows");
  }
  if (cc.meta_data.type != leaf.physical) {
    return Status::InvalidData(where + ": chunk type " + PhysicalTypeName(cc.meta_data.type) + " differs from the schema's " +
                               PhysicalTypeName(leaf.physical));
  }
  return Status::OK();
}

Result<Column> ParquetReader::Impl::FinishColumn(Column col, const Field& f, const std::string& where) const {
  const TensorColumnMeta* t = FindTensor(tensors, f.name);
  if (!t || t->variable_shaped || f.is_list != t->from_list) return col;
  if (t->from_list) return ColumnToTensor(col, TensorSpec{t->dtype, t->shape}, where);
  return BinaryToTensor(col, *t, where);
}

Result<Column> ParquetReader::Impl::FinishField(std::vector<Column> parts, const Field& f, const std::string& where) const {
  if (f.variable_tensor) return VariableShapedImages(parts[0], parts[1], where);
  return FinishColumn(std::move(parts[0]), f, where);
}

Result<Batch> ParquetReader::ReadRowGroup(int g, const std::vector<std::string>& wanted) const {
  const Impl& im = *impl_;
  const std::string& name = im.file->name();
  if (g < 0 || g >= num_row_groups()) {
    return Status::InvalidArgument("'" + name + "' has " + std::to_string(num_row_groups()) + " row groups, asked for " + std::to_string(g));
  }
  const RowGroup& rg = im.meta.row_groups[static_cast<size_t>(g)];
  ASSIGN_OR_RETURN(std::vector<int> fields, im.ResolveFields(wanted));
  // The leaf columns to read: one per field, two for a variable-shaped tensor (data, shape).
  struct Piece {
    size_t out;  // output column
    size_t part;  // position among the field's parts
    const Field* field;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& f = im.schema.fields[static_cast<size_t>(fields[i])];
    RETURN_IF_ERROR(im.CheckChunk(g, f));
    if (!f.variable_tensor) pieces.push_back({i, 0, &f});
    for (size_t p = 0; f.variable_tensor && p < f.parts.size(); ++p) pieces.push_back({i, p, &f.parts[p]});
  }
  // Byte ranges of the selected chunks, coalesced.
  std::vector<Range> ranges;
  {
    std::vector<std::pair<std::pair<int64_t, int64_t>, size_t>> chunks;
    for (size_t k = 0; k < pieces.size(); ++k) {
      const ColumnChunk& cc = rg.columns[static_cast<size_t>(pieces[k].field->leaf)];
      chunks.push_back({{cc.start(), cc.start() + cc.meta_data.total_compressed_size}, k});
    }
    std::sort(chunks.begin(), chunks.end());
    for (const auto& [r, i] : chunks) {
      if (!ranges.empty() && r.first - ranges.back().end <= kCoalesceGap && r.first >= ranges.back().begin) {
        ranges.back().end = std::max(ranges.back().end, r.second);
      } else {
        ranges.push_back({r.first, r.second, {}});
      }
      ranges.back().fields.push_back(i);
    }
  }
  std::vector<std::vector<Column>> got(fields.size(), std::vector<Column>(2, EmptyColumn(DataType::Int32())));
  for (const Range& r : ranges) {
    ASSIGN_OR_RETURN(auto bytes, im.file->ReadAt(r.begin, r.end - r.begin));
    for (size_t k : r.fields) {
      const Field& f = *pieces[k].field;
      const LeafColumn& leaf = im.schema.leaves[static_cast<size_t>(f.leaf)];
      const ColumnChunk& cc = rg.columns[static_cast<size_t>(f.leaf)];
      const std::string where = im.ChunkName(g, im.schema.fields[static_cast<size_t>(fields[pieces[k].out])]);
      LeafData data;
      RETURN_IF_ERROR(ReadColumnChunk(bytes->data() + (cc.start() - r.begin), static_cast<size_t>(cc.meta_data.total_compressed_size),
                                      cc.meta_data, leaf, where, &data));
      ASSIGN_OR_RETURN(got[pieces[k].out][pieces[k].part], AssembleColumn(std::move(data), f, leaf, rg.num_rows, where));
    }
  }
  std::vector<Column> out(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& f = im.schema.fields[static_cast<size_t>(fields[i])];
    ASSIGN_OR_RETURN(out[i], im.FinishField(std::move(got[i]), f, im.ChunkName(g, f)));
  }
  std::vector<std::string> names;
  for (int f : fields) names.push_back(im.schema.fields[static_cast<size_t>(f)].name);
  if (fields.empty()) return Batch::Empty(rg.num_rows);
  return Batch::Make(std::move(names), std::move(out));
}

}  // namespace sluice
