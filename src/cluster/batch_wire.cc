#include "cluster/batch_wire.h"

#include <cstring>

namespace sluice::cluster {
namespace {

constexpr int64_t kAlign = 64;
constexpr uint64_t kCopyBelow = 64 << 10;
constexpr uint64_t kMagic = 0x31424c5355554c53ULL;  // "SLUUSLB1"
alignas(64) const uint8_t kZeros[kAlign] = {};

int64_t AlignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

class Writer {
 public:
  void U64(uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void Str(std::string_view s) {
    U64(s.size());
    bytes_.append(s);
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& what) : bytes_(bytes), what_(what) {}
  Result<uint64_t> U64() {
    if (pos_ + sizeof(uint64_t) > bytes_.size()) return Truncated();
    uint64_t v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(v));
    pos_ += sizeof(v);
    return v;
  }
  Result<std::string> Str() {
    ASSIGN_OR_RETURN(uint64_t n, U64());
    if (n > bytes_.size() - pos_) return Truncated();
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  Status Truncated() const { return Status::InvalidData(what_ + " is truncated or not a sluice batch"); }
  std::string_view bytes_;
  size_t pos_ = 0;
  const std::string& what_;
};

/// Collects the data pieces at 64-byte aligned offsets, padding between them.
class PieceLayout {
 public:
  int64_t Add(const uint8_t* data, int64_t size) {
    const int64_t at = AlignUp(cursor_);
    if (at > cursor_) pieces_.push_back({kZeros, at - cursor_});
    if (size > 0) pieces_.push_back({data, size});
    cursor_ = at + size;
    return at;
  }
  std::vector<EncodedBatch::Piece>& pieces() { return pieces_; }
  int64_t size() const { return cursor_; }

 private:
  std::vector<EncodedBatch::Piece> pieces_;
  int64_t cursor_ = 0;
};

void PutType(const DataType& t, Writer& w) {
  w.U64(static_cast<uint64_t>(t.id()));
  if (t.id() == TypeId::kTensor) {
    w.U64(static_cast<uint64_t>(t.dtype()));
    w.U64(t.row_shape().size());
    for (int64_t d : t.row_shape()) w.U64(static_cast<uint64_t>(d));
  } else if (t.is_list()) {
    PutType(t.element(), w);
  }
}

Result<DataType> GetType(Reader& r, int depth) {
  ASSIGN_OR_RETURN(uint64_t id, r.U64());
  if (id > static_cast<uint64_t>(TypeId::kUInt64)) return Status::InvalidData("unknown type id " + std::to_string(id));
  const auto type_id = static_cast<TypeId>(id);
  if (type_id == TypeId::kTensor) {
    ASSIGN_OR_RETURN(uint64_t dtype, r.U64());
    ASSIGN_OR_RETURN(uint64_t dims, r.U64());
    if (dtype > static_cast<uint64_t>(DType::kFloat64) || dims > 16) return Status::InvalidData("bad tensor type");
    std::vector<int64_t> shape;
    for (uint64_t i = 0; i < dims; ++i) {
      ASSIGN_OR_RETURN(uint64_t d, r.U64());
      shape.push_back(static_cast<int64_t>(d));
    }
    return DataType::Tensor(static_cast<DType>(dtype), std::move(shape));
  }
  if (type_id == TypeId::kList) {
    if (depth > 8) return Status::InvalidData("lists nested too deep");
    ASSIGN_OR_RETURN(DataType element, GetType(r, depth + 1));
    return DataType::List(std::move(element));
  }
  switch (type_id) {
    case TypeId::kBool: return DataType::Bool();
    case TypeId::kInt8: return DataType::Int8();
    case TypeId::kInt16: return DataType::Int16();
    case TypeId::kInt32: return DataType::Int32();
    case TypeId::kInt64: return DataType::Int64();
    case TypeId::kUInt8: return DataType::UInt8();
    case TypeId::kUInt16: return DataType::UInt16();
    case TypeId::kUInt32: return DataType::UInt32();
    case TypeId::kUInt64: return DataType::UInt64();
    case TypeId::kFloat32: return DataType::Float32();
    case TypeId::kFloat64: return DataType::Float64();
    case TypeId::kBinary: return DataType::Binary();
    default: return DataType::String();
  }
}

constexpr uint64_t kHasValidity = 1, kHasOffsets = 2;

// A column: type, length, flags, then (offset, size) of validity, offsets and values (or the child).
Status PutColumn(const Column& c, Writer& w, PieceLayout& layout) {
  if (c.memory_kind() == MemoryKind::kDevice) return Status::InvalidArgument("a batch in device memory cannot be sent");
  PutType(c.type(), w);
  const int64_t n = c.length();
  w.U64(static_cast<uint64_t>(n));
  const bool offsets = c.type().is_variable_width() || c.type().is_list();
  w.U64((c.has_validity() ? kHasValidity : 0) | (offsets ? kHasOffsets : 0));
  auto put = [&](const uint8_t* data, int64_t size) {
    w.U64(static_cast<uint64_t>(layout.Add(data, size)));
    w.U64(static_cast<uint64_t>(size));
  };
  if (c.has_validity()) put(c.validity_buffer()->data() + c.offset(), n);
  if (!offsets) {
    const int64_t row = c.type().fixed_row_bytes();
    put(n > 0 ? c.values_buffer()->data() + c.offset() * row : kZeros, n * row);
    return Status::OK();
  }
  const auto* o = reinterpret_cast<const int64_t*>(c.offsets_buffer()->data()) + c.offset();
  put(reinterpret_cast<const uint8_t*>(o), (n + 1) * static_cast<int64_t>(sizeof(int64_t)));
  if (c.type().is_list()) return PutColumn(c.child().Slice(o[0], o[n] - o[0]), w, layout);
  put(c.values_buffer()->data() + o[0], o[n] - o[0]);
  return Status::OK();
}

struct Message {
  std::shared_ptr<Buffer> buffer;
  int64_t data_start;
  const std::string& what;

  Result<std::shared_ptr<Buffer>> Piece(Reader& r) const {
    ASSIGN_OR_RETURN(uint64_t at, r.U64());
    ASSIGN_OR_RETURN(uint64_t size, r.U64());
    const auto room = static_cast<uint64_t>(buffer->size() - data_start);
    if (at > room || size > room - at) return Status::InvalidData(what + ": a buffer lies outside the message");
    // Small buffers (ids, shard numbers, offsets) are copied out: a view would keep the whole
    // message alive for as long as any slice of them lives (after the crops are long gone),
    // memory the executor's budget does not see.
    if (size < kCopyBelow) return Buffer::CopyOf({buffer->data() + data_start + at, static_cast<size_t>(size)});
    return Buffer::Wrap(buffer->data() + data_start + at, static_cast<int64_t>(size), MemoryKind::kHost, buffer);
  }
};

Result<Column> GetColumn(Reader& r, const Message& m, int depth) {
  ASSIGN_OR_RETURN(DataType type, GetType(r, 0));
  ASSIGN_OR_RETURN(uint64_t length, r.U64());
  ASSIGN_OR_RETURN(uint64_t flags, r.U64());
  const auto n = static_cast<int64_t>(length);
  std::shared_ptr<Buffer> validity, offsets, values;
  if (flags & kHasValidity) {
    ASSIGN_OR_RETURN(validity, m.Piece(r));
  }
  if (!(flags & kHasOffsets)) {
    ASSIGN_OR_RETURN(values, m.Piece(r));
    return Column::FromBuffers(std::move(type), n, std::move(values), nullptr, std::move(validity));
  }
  ASSIGN_OR_RETURN(offsets, m.Piece(r));
  if (offsets->size() != (n + 1) * static_cast<int64_t>(sizeof(int64_t))) return Status::InvalidData(m.what + ": offsets of the wrong size");
  auto* o = reinterpret_cast<int64_t*>(offsets->data());  // the receiver's own copy: rebased in place
  const int64_t base = o[0];
  for (int64_t i = 0; i <= n; ++i) o[i] -= base;
  if (type.is_list()) {
    if (depth > 8) return Status::InvalidData(m.what + ": lists nested too deep");
    ASSIGN_OR_RETURN(Column child, GetColumn(r, m, depth + 1));
    return Column::MakeList(n, std::move(offsets), std::move(child), std::move(validity));
  }
  ASSIGN_OR_RETURN(values, m.Piece(r));
  return Column::FromBuffers(std::move(type), n, std::move(values), std::move(offsets), std::move(validity));
}

}  // namespace

Result<EncodedBatch> EncodeBatch(const Batch& batch, const std::string& meta) {
  Writer w;
  w.U64(kMagic);
  w.Str(meta);
  w.U64(static_cast<uint64_t>(batch.num_rows()));
  w.U64(static_cast<uint64_t>(batch.num_columns()));
  PieceLayout layout;
  for (int i = 0; i < batch.num_columns(); ++i) {
    w.Str(batch.name(i));
    RETURN_IF_ERROR(PutColumn(batch.column(i), w, layout));
  }
  // The prefix: the header's length, the header, padding to the data start.
  auto head = std::make_shared<std::string>();
  const uint64_t header_bytes = w.bytes().size();
  head->append(reinterpret_cast<const char*>(&header_bytes), sizeof(header_bytes));
  head->append(w.bytes());
  head->resize(static_cast<size_t>(AlignUp(static_cast<int64_t>(head->size()))), '\0');
  EncodedBatch out;
  out.pieces.push_back({reinterpret_cast<const uint8_t*>(head->data()), static_cast<int64_t>(head->size())});
  out.pieces.insert(out.pieces.end(), layout.pieces().begin(), layout.pieces().end());
  out.total_bytes = static_cast<int64_t>(head->size()) + layout.size();
  out.keep_alive = std::make_shared<std::pair<std::shared_ptr<std::string>, Batch>>(std::move(head), batch);
  return out;
}

std::vector<uint8_t> Flatten(const EncodedBatch& encoded) {
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(encoded.total_bytes));
  for (const auto& p : encoded.pieces) out.insert(out.end(), p.data, p.data + p.size);
  return out;
}

Result<Batch> DecodeBatch(std::shared_ptr<Buffer> message, std::string* meta, const std::string& what) {
  uint64_t header_bytes = 0;
  if (message->size() < 8) return Status::InvalidData(what + " is too short for a sluice batch");
  std::memcpy(&header_bytes, message->data(), sizeof(header_bytes));
  if (header_bytes > static_cast<uint64_t>(message->size()) - 8) return Status::InvalidData(what + ": header larger than the message");
  const Message m{message, AlignUp(8 + static_cast<int64_t>(header_bytes)), what};
  Reader r(std::string_view(reinterpret_cast<const char*>(message->data()) + 8, header_bytes), what);
  ASSIGN_OR_RETURN(uint64_t magic, r.U64());
  if (magic != kMagic) return Status::InvalidData(what + " is not a sluice batch");
  ASSIGN_OR_RETURN(*meta, r.Str());
  ASSIGN_OR_RETURN(uint64_t rows, r.U64());
  ASSIGN_OR_RETURN(uint64_t ncols, r.U64());
  if (ncols > 4096) return Status::InvalidData(what + ": too many columns");
  std::vector<std::string> names;
  std::vector<Column> columns;
  for (uint64_t i = 0; i < ncols; ++i) {
    ASSIGN_OR_RETURN(std::string name, r.Str());
    auto column = GetColumn(r, m, 0);
    if (!column.ok()) return column.status().WithContext(what + " column '" + name + "'");
    names.push_back(std::move(name));
    columns.push_back(std::move(*column));
  }
  if (ncols == 0) return Batch::Empty(static_cast<int64_t>(rows));
  return Batch::Make(std::move(names), std::move(columns));
}

std::string EncodeBadRows(int shard, const std::vector<BadRow>& rows) {
  Writer w;
  w.U64(static_cast<uint64_t>(shard));
  w.U64(rows.size());
  for (const BadRow& row : rows) {
    w.Str(row.stage);
    w.Str(row.row_id);
    w.Str(row.reason);
  }
  return std::move(w.bytes());
}

Result<std::vector<BadRow>> DecodeBadRows(std::string_view bytes, int* shard) {
  const std::string what = "a bad-rows message";
  Reader r(bytes, what);
  ASSIGN_OR_RETURN(uint64_t s, r.U64());
  ASSIGN_OR_RETURN(uint64_t n, r.U64());
  *shard = static_cast<int>(s);
  std::vector<BadRow> rows;
  for (uint64_t i = 0; i < n; ++i) {
    BadRow row;
    ASSIGN_OR_RETURN(row.stage, r.Str());
    ASSIGN_OR_RETURN(row.row_id, r.Str());
    ASSIGN_OR_RETURN(row.reason, r.Str());
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace sluice::cluster
