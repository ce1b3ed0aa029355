// ParquetReader::StreamRowGroup: a row group read page by page, a slice of rows at a time.
//
// Each selected column has a cursor that reads its chunk through a window of at most
// kWindowBytes (or one page, if a page is larger), decodes one page at a time into pending
// levels and values, and hands out whole rows from the front. Memory per column is one window,
// the pending rows (the slice asked for plus the rest of the last page) and the dictionary.
#include <algorithm>
#include <utility>

#include "column_chunk_reader.h"
#include "parquet_reader_impl.h"
#include "thrift_compact.h"

namespace sluice {

using namespace parquet;

namespace {

constexpr int64_t kWindowBytes = int64_t{1} << 20;
constexpr int64_t kHeaderProbe = int64_t{64} << 10;

/// Splits the first `n` elements off `v` into the returned vector, copying whichever side is
/// smaller (a slice usually takes almost all of what is pending).
template <typename Vec>
Vec SplitFront(Vec& v, size_t n) {
  if (n >= v.size()) return std::exchange(v, Vec{});
  if (n * 2 >= v.size()) {
    Vec tail;
    AppendRaw(tail, v.data() + n, v.size() - n);
    v.resize(n);
    Vec head = std::move(v);
    v = std::move(tail);
    return head;
  }
  Vec head;
  AppendRaw(head, v.data(), n);
  v.erase(v.begin(), v.begin() + static_cast<ptrdiff_t>(n));
  return head;
}

/// The first `k` dense values of `v`, removed from it.
PhysicalValues SplitValues(PhysicalValues& v, int64_t k) {
  PhysicalValues head;
  if (v.count > 0) {
    const size_t width = v.fixed.size() / static_cast<size_t>(v.count);
    head.fixed = SplitFront(v.fixed, static_cast<size_t>(k) * width);
  }
  if (v.offsets.size() > 1) {
    const int64_t cut = v.offsets[static_cast<size_t>(k)];
    head.bytes = SplitFront(v.bytes, static_cast<size_t>(cut));
    head.offsets.assign(v.offsets.begin(), v.offsets.begin() + k + 1);
    v.offsets.erase(v.offsets.begin(), v.offsets.begin() + k);
    for (auto& o : v.offsets) o -= cut;
  }
  head.count = k;
  v.count -= k;
  return head;
}

class ColumnCursor {
 public:
  /// `f`: a field, or one part of a variable-shaped tensor field; `where` names it in errors.
  ColumnCursor(const ParquetReader::Impl& im, int g, const Field& f, std::string where)
      : im_(im),
        field_(f),
        leaf_(im.schema.leaves[static_cast<size_t>(f.leaf)]),
        meta_(im.meta.row_groups[static_cast<size_t>(g)].columns[static_cast<size_t>(f.leaf)].meta_data),
        where_(std::move(where)),
        decoder_(meta_, leaf_),
        pos_(im.meta.row_groups[static_cast<size_t>(g)].columns[static_cast<size_t>(f.leaf)].start()),
        end_(pos_ + meta_.total_compressed_size) {}

  bool done() const { return values_read_ >= meta_.num_values; }
  const std::string& where() const { return where_; }

  /// Rows decoded completely and not yet taken (a list's last row is complete once the next
  /// row starts or the chunk ends).
  int64_t complete_rows() const {
    if (!field_.is_list) return pending_.slots;
    const int64_t started = pending_.dense ? static_cast<int64_t>(pending_.starts.size()) : list_rows_started_;
    return started > 0 && !done() ? started - 1 : started;
  }

  Status DecodeNextPage() {
    const std::string pw = where_ + " page " + std::to_string(page_);
    if (pos_ >= end_) {
      return Status::InvalidData(pw + ": the column chunk ends after " + std::to_string(values_read_) + " of " +
                                 std::to_string(meta_.num_values) + " values");
    }
    // The header's size is known only once decoded: probe, and probe further if it is longer.
    PageHeader h;
    for (int64_t probe = std::min(kHeaderProbe, end_ - pos_);; probe = std::min(end_ - pos_, probe * 4)) {
      RETURN_IF_ERROR(Ensure(pos_, probe));
      CompactReader header_reader(At(pos_), static_cast<size_t>(probe), pw + " header");
      auto decoded = DecodePageHeader(header_reader);
      if (decoded.ok()) {
        h = std::move(decoded).value();
        pos_ += static_cast<int64_t>(header_reader.position());
        break;
      }
      if (probe >= end_ - pos_) return decoded.status();
    }
    RETURN_IF_ERROR(PageDecoder::CheckSizes(h, static_cast<size_t>(end_ - pos_), pw));
    RETURN_IF_ERROR(Ensure(pos_, h.compressed_page_size));
    const uint8_t* data = At(pos_);
    pos_ += h.compressed_page_size;
    const int64_t slots_before = pending_.slots;
    const size_t rep_before = pending_.dense ? 0 : pending_.rep.size();  // expanded dense levels count again
    RETURN_IF_ERROR(decoder_.Decode(h, data, meta_.num_values - values_read_, pw, &pending_));
    values_read_ += pending_.slots - slots_before;
    if (field_.is_list && !pending_.dense) {
      if (rep_before == 0) list_rows_started_ = 0;
      list_rows_started_ += std::count(pending_.rep.begin() + static_cast<ptrdiff_t>(rep_before), pending_.rep.end(), 0);
    }
    ++page_;
    if (done()) window_.reset();  // nothing more to read from this chunk
    return Status::OK();
  }

  /// The next `rows` rows (at most complete_rows()) as an assembled column.
  Result<Column> Take(int64_t rows) {
    LeafData head = pending_.dense ? SplitDense(rows) : SplitLevels(rows);
    // The next slice is likely the size of this one: room for it now, so the values do not
    // regrow (copy, fault new pages) page by page.
    if (!done()) pending_.values.fixed.reserve(head.values.fixed.size() + head.values.fixed.size() / 4);
    if (done() && pending_.slots == 0) {  // the chunk is finished: give its buffers back
      pending_ = LeafData{};
      decoder_.Release();
    }
    return AssembleColumn(std::move(head), field_, leaf_, rows, where_);
  }

  int64_t buffered_bytes() const {
    if (done() && pending_.slots == 0) return 0;
    const auto& v = pending_.values;
    return (window_ ? window_->size() : 0) + static_cast<int64_t>(v.fixed.capacity() + v.bytes.capacity()) +
           static_cast<int64_t>(pending_.starts.capacity() * 8) +
           static_cast<int64_t>(v.offsets.capacity() * 8 + (pending_.def.capacity() + pending_.rep.capacity()) * 2) +
           decoder_.dictionary_bytes() + decoder_.scratch_bytes();
  }

 private:
  /// The first `rows` rows of expanded levels: a list's rows end where a 0 repetition level
  /// starts the next.
  LeafData SplitLevels(int64_t rows) {
    int64_t slots = rows;
    if (field_.is_list && !pending_.rep.empty()) {
      slots = pending_.slots;
      int64_t starts = 0;
      for (int64_t s = 0; s < pending_.slots; ++s) {
        if (pending_.rep[static_cast<size_t>(s)] == 0 && starts++ == rows) {
          slots = s;
          break;
        }
      }
      list_rows_started_ -= rows;
    }
    const int64_t non_null =
        leaf_.max_def == 0 ? slots
                           : std::count(pending_.def.begin(), pending_.def.begin() + static_cast<ptrdiff_t>(slots), leaf_.max_def);
    LeafData head;
    if (!pending_.def.empty()) head.def = SplitFront(pending_.def, static_cast<size_t>(slots));
    if (!pending_.rep.empty()) head.rep = SplitFront(pending_.rep, static_cast<size_t>(slots));
    head.slots = slots;
    pending_.slots -= slots;
    head.values = SplitValues(pending_.values, non_null);
    return head;
  }

  /// The first `rows` rows of a dense list: they end where the next row starts.
  LeafData SplitDense(int64_t rows) {
    const int64_t slots = rows < static_cast<int64_t>(pending_.starts.size()) ? pending_.starts[static_cast<size_t>(rows)] : pending_.slots;
    LeafData head;
    head.dense = true;
    head.starts = SplitFront(pending_.starts, static_cast<size_t>(rows));
    for (int64_t& s : pending_.starts) s -= slots;
    head.slots = slots;
    pending_.slots -= slots;
    head.values = SplitValues(pending_.values, slots);
    return head;
  }

  /// Makes [offset, offset + len) of the file readable through At().
  Status Ensure(int64_t offset, int64_t len) {
    if (window_ && offset >= window_begin_ && offset + len <= window_begin_ + window_->size()) return Status::OK();
    window_.reset();  // before reading the next one: never two windows at once
    const int64_t read = std::min(end_ - offset, std::max(len, kWindowBytes));
    ASSIGN_OR_RETURN(window_, im_.file->ReadAt(offset, read));
    window_begin_ = offset;
    if (window_->size() < len) return Status::IOError(where_ + ": short read at offset " + std::to_string(offset));
    return Status::OK();
  }
  const uint8_t* At(int64_t offset) const { return window_->data() + (offset - window_begin_); }

  const ParquetReader::Impl& im_;
  const Field& field_;
  const LeafColumn& leaf_;
  const ColumnMetaData& meta_;
  const std::string where_;
  PageDecoder decoder_;
  int64_t pos_, end_;
  std::shared_ptr<Buffer> window_;
  int64_t window_begin_ = 0;
  LeafData pending_;
  int64_t values_read_ = 0;
  int64_t list_rows_started_ = 0;  // lists with expanded levels: rows begun in pending_ (0 rep levels)
  int page_ = 0;
};

class RowGroupStream final : public ParquetRowGroupStream {
 public:
  RowGroupStream(const ParquetReader::Impl& im, int g, const std::vector<int>& fields)
      : im_(im), total_rows_(im.meta.row_groups[static_cast<size_t>(g)].num_rows) {
    for (int f : fields) {
      const Field& field = im.schema.fields[static_cast<size_t>(f)];
      const std::string where = im.ChunkName(g, field);
      fields_.push_back(&field);
      wheres_.push_back(where);
      if (!field.variable_tensor) cursors_.push_back(std::make_unique<ColumnCursor>(im, g, field, where));
      for (const Field& part : field.variable_tensor ? field.parts : std::vector<Field>{}) {
        cursors_.push_back(std::make_unique<ColumnCursor>(im, g, part, where + " (" + part.name + ")"));
      }
      names_.push_back(field.name);
    }
  }

  Result<std::optional<Batch>> Next(int64_t rows) override {
    const int64_t want = std::min(rows, total_rows_ - returned_);
    if (want <= 0) {
      for (const auto& c : cursors_) {
        if (!c->done() || c->complete_rows() > 0) {
          return Status::InvalidData(c->where() + ": the column chunk holds more than the row group's " + std::to_string(total_rows_) + " rows");
        }
      }
      return std::optional<Batch>();
    }
    std::vector<Column> columns;
    for (auto& c : cursors_) {
      while (c->complete_rows() < want && !c->done()) RETURN_IF_ERROR(c->DecodeNextPage());
      if (c->complete_rows() < want) {
        return Status::InvalidData(c->where() + ": the column chunk holds " + std::to_string(returned_ + c->complete_rows()) +
                                   " rows; the row group has " + std::to_string(total_rows_));
      }
    }
    size_t next = 0;  // cursors are in field order, two for a variable-shaped tensor
    for (size_t i = 0; i < fields_.size(); ++i) {
      std::vector<Column> parts;
      for (size_t k = 0; k < (fields_[i]->variable_tensor ? 2u : 1u); ++k) {
        ASSIGN_OR_RETURN(Column col, cursors_[next++]->Take(want));
        parts.push_back(std::move(col));
      }
      ASSIGN_OR_RETURN(Column col, im_.FinishField(std::move(parts), *fields_[i], wheres_[i]));
      columns.push_back(std::move(col));
    }
    returned_ += want;
    if (cursors_.empty()) return std::optional<Batch>(Batch::Empty(want));
    ASSIGN_OR_RETURN(Batch batch, Batch::Make(names_, std::move(columns)));
    return std::optional<Batch>(std::move(batch));
  }

  int64_t buffered_bytes() const override {
    int64_t n = 0;
    for (const auto& c : cursors_) n += c->buffered_bytes();
    return n;
  }

 private:
  const ParquetReader::Impl& im_;
  const int64_t total_rows_;
  int64_t returned_ = 0;
  std::vector<const Field*> fields_;
  std::vector<std::string> wheres_;
  std::vector<std::unique_ptr<ColumnCursor>> cursors_;
  std::vector<std::string> names_;
};

}  // namespace

Result<std::unique_ptr<ParquetRowGroupStream>> ParquetReader::StreamRowGroup(int g, const std::vector<std::string>& wanted) const {
  const Impl& im = *impl_;
  if (g < 0 || g >= num_row_groups()) {
    return Status::InvalidArgument("'" + name() + "' has " + std::to_string(num_row_groups()) + " row groups, asked for " + std::to_string(g));
  }
  ASSIGN_OR_RETURN(std::vector<int> fields, im.ResolveFields(wanted));
  for (int f : fields) RETURN_IF_ERROR(im.CheckChunk(g, im.schema.fields[static_cast<size_t>(f)]));
  return std::unique_ptr<ParquetRowGroupStream>(new RowGroupStream(im, g, fields));
}

}  // namespace sluice
