#include <cstring>

#include "column_chunk_writer.h"
#include "compression.h"
#include "metadata.h"
#include "sluice/filesystem.h"
#include "sluice/parquet.h"
#include "tensor_metadata.h"
#include "arrow_schema_writer.h"
#include "thrift_compact.h"

namespace sluice {

using namespace parquet;

struct ParquetWriter::Impl {
  std::string path;
  ParquetWriteOptions options;
  ChunkOptions chunk;
  std::unique_ptr<OutputStream> out;
  bool schema_set = false;
  bool finished = false;
  std::vector<std::string> names;
  std::vector<DataType> types;         // the batches' column types
  std::vector<ColumnLayout> layouts;   // how each is stored (a Ray tensor: a list)
  std::vector<std::vector<Column>> pending;  // per column, this row group's pieces
  int64_t pending_rows = 0;
  int64_t pending_bytes = 0;
  FileMetaData meta;

  Status SetSchema(const Batch& batch);
  Status FlushRowGroup();
  Status Add(const Batch& batch);
};

namespace {

/// A tensor column [N, shape...] as a list column of its elements (Ray's layout): row i is
/// elements [i * k, (i + 1) * k).
Column TensorAsList(const Column& tensor) {
  const DataType element = RayElementType(tensor.type().dtype()).value();
  const int64_t n = tensor.length(), k = tensor.type().fixed_row_bytes() / DTypeSize(tensor.type().dtype());
  std::vector<int64_t> offsets(static_cast<size_t>(n) + 1);
  for (int64_t i = 0; i <= n; ++i) offsets[static_cast<size_t>(i)] = i * k;
  // The tensor's rows are the list's elements back to back: a view, no copy.
  auto values = Buffer::Wrap(tensor.RowData(0), n * tensor.type().fixed_row_bytes(), tensor.values_buffer()->kind(), tensor.values_buffer());
  Column child = Column::FromBuffers(element, n * k, values).value();
  auto off = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8});
  std::shared_ptr<Buffer> validity;
  if (tensor.null_count() > 0) {
    std::vector<uint8_t> valid(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) valid[static_cast<size_t>(i)] = tensor.IsValid(i);
    validity = Buffer::CopyOf(valid);
  }
  return Column::MakeList(n, off, child, validity).value();
}

}  // namespace

Status ParquetWriter::Impl::SetSchema(const Batch& b) {
  meta.schema.clear();
  SchemaElement root;
  root.name = "schema";
  root.num_children = b.num_columns();
  meta.schema.push_back(root);
  const bool ray = options.tensor_layout == "ray";
  std::vector<ArrowFieldSpec> arrow_fields;
  for (int c = 0; c < b.num_columns(); ++c) {
    const DataType& type = b.column(c).type();
    const bool tensor = type.id() == TypeId::kTensor;
    DataType stored = type;
    if (tensor && ray) {
      auto element = RayElementType(type.dtype());
      if (!element.ok()) return element.status().WithContext("writing '" + path + "' column '" + b.name(c) + "'");
      stored = DataType::List(*element);
    }
    auto layout = LayoutFor(b.name(c), stored);
    if (!layout.ok()) return layout.status().WithContext("writing '" + path + "'");
    for (const auto& e : layout->elements) meta.schema.push_back(e);
    if (tensor && !ray) {
      auto [k, v] = TensorMetadataEntry(b.name(c), type);
      meta.key_value_metadata.push_back({k, v});
    }
    arrow_fields.push_back({b.name(c), type, tensor && ray});
    names.push_back(b.name(c));
    types.push_back(type);
    layouts.push_back(std::move(layout).value());
  }
  if (ray) {
    auto schema = ArrowSchemaValue(arrow_fields);
    if (!schema.ok()) return schema.status().WithContext("writing '" + path + "'");
    meta.key_value_metadata.push_back({"ARROW:schema", *schema});
  }
  for (const auto& [k, v] : options.metadata) meta.key_value_metadata.push_back({k, v});
  pending.assign(static_cast<size_t>(b.num_columns()), {});
  schema_set = true;
  return Status::OK();
}

Status ParquetWriter::Impl::FlushRowGroup() {
  if (pending_rows == 0) return Status::OK();
  RowGroup rg;
  rg.num_rows = pending_rows;
  for (size_t c = 0; c < layouts.size(); ++c) {
    auto encoded = EncodeColumnChunk(layouts[c], pending[c], chunk);
    if (!encoded.ok()) {
      return encoded.status().WithContext("writing '" + path + "' row group " + std::to_string(meta.row_groups.size()) +
                                          " column '" + names[c] + "'");
    }
    EncodedChunk& e = *encoded;
    const int64_t start = out->bytes_written();
    RETURN_IF_ERROR(out->Append(e.bytes.data(), static_cast<int64_t>(e.bytes.size())));
    ColumnChunk cc;
    cc.meta_data = std::move(e.meta);
    cc.meta_data.data_page_offset += start;
    if (cc.meta_data.dictionary_page_offset) *cc.meta_data.dictionary_page_offset += start;
    cc.file_offset = start;
    rg.total_byte_size += cc.meta_data.total_uncompressed_size;
    rg.columns.push_back(std::move(cc));
    pending[c].clear();
  }
  meta.num_rows += pending_rows;
  meta.row_groups.push_back(std::move(rg));
  pending_rows = 0;
  pending_bytes = 0;
  return Status::OK();
}

Status ParquetWriter::Impl::Add(const Batch& b) {
  int64_t start = 0;
  while (start < b.num_rows()) {
    int64_t take = b.num_rows() - start;
    if (options.row_group_rows > 0) take = std::min(take, options.row_group_rows - pending_rows);
    const Batch piece = b.Slice(start, take);
    for (int c = 0; c < piece.num_columns(); ++c) {
      const bool as_list = layouts[static_cast<size_t>(c)].type.is_list() && piece.column(c).type().id() == TypeId::kTensor;
      pending[static_cast<size_t>(c)].push_back(as_list ? TensorAsList(piece.column(c)) : piece.column(c));
    }
    pending_rows += take;
    pending_bytes += piece.ByteSize();
    start += take;
    const bool full_rows = options.row_group_rows > 0 && pending_rows >= options.row_group_rows;
    if (full_rows || pending_bytes >= options.row_group_bytes) RETURN_IF_ERROR(FlushRowGroup());
  }
  return Status::OK();
}

ParquetWriter::ParquetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ParquetWriter::~ParquetWriter() {
  if (impl_ && !impl_->finished) Abort();
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(const std::string& path, ParquetWriteOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  ASSIGN_OR_RETURN(impl->chunk.codec, ParseCodec(options.compression));
  if (options.tensor_layout != "sluice" && options.tensor_layout != "ray") {
    return Status::InvalidArgument("Parquet writer: tensor_layout is '" + options.tensor_layout + "'; expected sluice or ray");
  }
  if (options.page_bytes <= 0 || options.row_group_bytes <= 0 || options.row_group_rows < 0) {
    return Status::InvalidArgument("Parquet writer: page and row group sizes must be positive");
  }
  impl->chunk.page_bytes = options.page_bytes;
  impl->chunk.dictionary = options.dictionary;
  impl->options = std::move(options);
  impl->meta.version = 1;
  impl->meta.created_by = "sluice version 0.1.0";
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(path));
  ASSIGN_OR_RETURN(impl->out, fsys->OpenForWrite(path));
  RETURN_IF_ERROR(impl->out->Append("PAR1", 4));
  return std::unique_ptr<ParquetWriter>(new ParquetWriter(std::move(impl)));
}

Status ParquetWriter::Write(const Batch& batch) {
  Impl& im = *impl_;
  if (im.finished) return Status::InvalidArgument("write to a closed Parquet writer ('" + im.path + "')");
  if (!im.schema_set) {
    RETURN_IF_ERROR(im.SetSchema(batch));
  } else {
    bool same = batch.names() == im.names;
    for (int c = 0; same && c < batch.num_columns(); ++c) same = batch.column(c).type() == im.types[static_cast<size_t>(c)];
    if (!same) {
      std::string want;
      for (size_t c = 0; c < im.names.size(); ++c) want += (c ? ", " : "") + im.names[c] + " " + im.types[c].ToString();
      return Status::InvalidArgument("writing '" + im.path + "': batch (" + batch.Describe() + ") does not match the file's columns (" + want + ")");
    }
  }
  return im.Add(batch);
}

Status ParquetWriter::Close() {
  Impl& im = *impl_;
  if (im.finished) return Status::InvalidArgument("Parquet writer for '" + im.path + "' closed twice");
  if (!im.schema_set) return Status::InvalidArgument("closing '" + im.path + "' before any batch set its schema");
  Status st = im.FlushRowGroup();
  if (st.ok()) {
    CompactWriter w;
    EncodeFileMetaData(im.meta, w);
    const auto& footer = w.bytes();
    const uint32_t len = static_cast<uint32_t>(footer.size());
    st = im.out->Append(footer.data(), static_cast<int64_t>(footer.size()));
    if (st.ok()) st = im.out->Append(&len, 4);
    if (st.ok()) st = im.out->Append("PAR1", 4);
    if (st.ok()) st = im.out->Commit();
  }
  im.finished = true;
  if (!st.ok()) im.out->Abort();
  return st;
}

void ParquetWriter::Abort() {
  impl_->finished = true;
  impl_->out->Abort();
}

Column EmptyColumn(const DataType& type) {
  if (type.is_list()) {
    auto offsets = Buffer::CopyOf(std::vector<uint8_t>(8, 0));
    return Column::MakeList(0, offsets, EmptyColumn(type.element())).value();
  }
  if (type.is_variable_width()) {
    return Column::FromBuffers(type, 0, Buffer::CopyOf({}), Buffer::CopyOf(std::vector<uint8_t>(8, 0))).value();
  }
  return Column::Allocate(type, 0).value();
}

}  // namespace sluice
