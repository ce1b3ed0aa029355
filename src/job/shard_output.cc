#include "job/shard_output.h"

#include <cstdio>

#include "sluice/json_lines.h"
#include "sluice/parquet.h"

namespace sluice::job {

std::string JoinUri(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string PartName(int shard, const std::string& format) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "part-%05d.%s", shard, format.c_str());
  return buf;
}

void ShardLedger::Expect(const Shard& shard) {
  std::lock_guard lock(mu_);
  shards_[shard.index] = Entry{shard.rows, 0, {}, false};
}

void ShardLedger::AddBad(int shard, BadRow row) {
  std::lock_guard lock(mu_);
  shards_[shard].bad.push_back(std::move(row));
}

void ShardLedger::AddWritten(int shard, int64_t rows) {
  std::lock_guard lock(mu_);
  shards_[shard].written += rows;
}

std::vector<ShardLedger::Done> ShardLedger::TakeComplete() {
  std::lock_guard lock(mu_);
  std::vector<Done> out;
  for (auto& [index, e] : shards_) {
    if (e.taken || e.written + static_cast<int64_t>(e.bad.size()) < e.expected) continue;
    e.taken = true;
    out.push_back({index, e.written, e.bad});
  }
  return out;
}

std::vector<int> ShardLedger::Incomplete() const {
  std::lock_guard lock(mu_);
  std::vector<int> out;
  for (const auto& [index, e] : shards_) {
    if (!e.taken) out.push_back(index);
  }
  return out;
}

namespace {

/// One shard's output file being written.
class PartWriter {
 public:
  virtual ~PartWriter() = default;
  virtual Status Write(const Batch& batch) = 0;
  virtual Status Publish() = 0;
};

class ParquetPart final : public PartWriter {
 public:
  explicit ParquetPart(std::unique_ptr<ParquetWriter> w) : w_(std::move(w)) {}
  Status Write(const Batch& batch) override { return w_->Write(batch); }
  Status Publish() override { return w_->Close(); }

 private:
  std::unique_ptr<ParquetWriter> w_;
};

class JsonlPart final : public PartWriter {
 public:
  explicit JsonlPart(std::unique_ptr<OutputStream> out) : out_(std::move(out)) {}
  Status Write(const Batch& batch) override {
    std::string text;
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      AppendJsonRow(batch, r, &text);  // one line, newline included
    }
    return out_->Append(text.data(), static_cast<int64_t>(text.size()));
  }
  Status Publish() override { return out_->Commit(); }

 private:
  std::unique_ptr<OutputStream> out_;
};

/// A zero-row batch with the columns of a published part.
Result<Batch> SchemaOf(const std::string& uri) {
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
  ASSIGN_OR_RETURN(auto file, fsys->OpenForRead(uri));
  ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(file));
  std::vector<std::string> names;
  std::vector<Column> columns;
  for (const auto& c : reader->columns()) {
    names.push_back(c.name);
    columns.push_back(EmptyColumn(c.type));
  }
  return Batch::Make(std::move(names), std::move(columns));
}

class ShardSink final : public Sink {
 public:
  ShardSink(OutputSpec spec, std::shared_ptr<ShardLedger> ledger) : spec_(std::move(spec)), ledger_(std::move(ledger)) {}

  Status Write(Batch batch, TaskContext&) override {
    ASSIGN_OR_RETURN(Column shard_col, batch.GetColumn(kShardColumn));
    ASSIGN_OR_RETURN(Batch out, spec_.columns.empty() ? WithoutShardColumn(batch) : batch.Select(spec_.columns));
    if (!schema_) schema_ = out.Slice(0, 0);
    const auto* shard = reinterpret_cast<const int32_t*>(shard_col.RowData(0));
    // Rows of one shard arrive in runs (the rebatch joins neighbours): write run by run.
    for (int64_t start = 0; start < out.num_rows();) {
      int64_t end = start + 1;
      while (end < out.num_rows() && shard[end] == shard[start]) ++end;
      ASSIGN_OR_RETURN(PartWriter * w, WriterFor(shard[start]));
      RETURN_IF_ERROR(w->Write(out.Slice(start, end - start)));
      ledger_->AddWritten(shard[start], end - start);
      start = end;
    }
    return PublishComplete();
  }

  Status Finish(TaskContext&) override {
    finishing_ = true;
    RETURN_IF_ERROR(PublishComplete());
    auto left = ledger_->Incomplete();
    if (!left.empty()) return Status::Internal("the plan ended with shard " + std::to_string(left.front()) + " incomplete");
    return Status::OK();
  }

  void Abort() override { writers_.clear(); }  // writers drop their temporary files

 private:
  Result<PartWriter*> WriterFor(int shard) {
    auto it = writers_.find(shard);
    if (it != writers_.end()) return it->second.get();
    const std::string uri = JoinUri(spec_.dir, PartName(shard, spec_.format));
    std::unique_ptr<PartWriter> w;
    if (spec_.format == "parquet") {
      ParquetWriteOptions o;
      o.compression = spec_.compression;
      o.tensor_layout = spec_.tensor_layout;
      o.metadata = {{"sluice.shard", std::to_string(shard)}};
      ASSIGN_OR_RETURN(auto pw, ParquetWriter::Open(uri, o));
      w = std::make_unique<ParquetPart>(std::move(pw));
    } else {
      ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
      ASSIGN_OR_RETURN(auto stream, fsys->OpenForWrite(uri));
      w = std::make_unique<JsonlPart>(std::move(stream));
    }
    PartWriter* raw = w.get();
    writers_[shard] = std::move(w);
    return raw;
  }

  Status WriteErrors(int shard, const std::vector<BadRow>& bad) {
    const std::string uri = JoinUri(JoinUri(spec_.dir, "_errors"), PartName(shard, "jsonl"));
    ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
    ASSIGN_OR_RETURN(auto out, fsys->OpenForWrite(uri));
    std::string text;
    for (const auto& b : bad) {
      text += "{\"id\":";
      AppendJsonString(b.row_id, &text);
      text += ",\"shard\":" + std::to_string(shard) + ",\"stage\":";
      AppendJsonString(b.stage, &text);
      text += ",\"message\":";
      AppendJsonString(b.reason, &text);
      text += "}\n";
    }
    RETURN_IF_ERROR(out->Append(text.data(), static_cast<int64_t>(text.size())));
    return out->Commit();
  }

  Status PublishComplete() {
    auto complete = ledger_->TakeComplete();
    complete.insert(complete.end(), deferred_.begin(), deferred_.end());
    deferred_.clear();
    for (auto& done : complete) {
      if (!done.bad.empty()) RETURN_IF_ERROR(WriteErrors(done.shard, done.bad));
      auto it = writers_.find(done.shard);
      if (it == writers_.end()) {  // every row was bad: an empty part still marks it done
        if (spec_.format == "parquet" && !schema_ && !finishing_) {
          deferred_.push_back(std::move(done));  // a later batch will give the schema
          continue;
        }
        ASSIGN_OR_RETURN(PartWriter * w, WriterFor(done.shard));
        if (spec_.format == "parquet") {
          if (!schema_ && !spec_.schema_part.empty()) {
            ASSIGN_OR_RETURN(schema_, SchemaOf(spec_.schema_part));
          }
          // No row of the whole job survived: the part has the id column only.
          if (!schema_) schema_ = Batch::Make({"id"}, {Column::FromStrings({})}).value();
          RETURN_IF_ERROR(w->Write(*schema_));
        }
        it = writers_.find(done.shard);
      }
      RETURN_IF_ERROR(it->second->Publish());
      writers_.erase(it);
      if (spec_.on_published) spec_.on_published(done.shard, done.written, static_cast<int64_t>(done.bad.size()));
    }
    return Status::OK();
  }

  OutputSpec spec_;
  std::shared_ptr<ShardLedger> ledger_;
  std::map<int, std::unique_ptr<PartWriter>> writers_;
  std::optional<Batch> schema_;
  std::vector<ShardLedger::Done> deferred_;
  bool finishing_ = false;
};

}  // namespace

SinkFactory MakeShardSink(OutputSpec spec, std::shared_ptr<ShardLedger> ledger) {
  return [spec, ledger](int) -> Result<std::unique_ptr<Sink>> { return std::unique_ptr<Sink>(new ShardSink(spec, ledger)); };
}

}  // namespace sluice::job
