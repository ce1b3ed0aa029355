#include "job/job_input.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include "sluice/filesystem.h"
#include "sluice/parquet.h"
#include "sluice/parquet_source.h"

namespace sluice::job {
namespace {

bool IsImageName(const std::string& uri) {
  std::string lower = uri.substr(uri.find_last_of('/') + 1);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* ext : {".jpg", ".jpeg", ".png", ".webp"}) {
    if (lower.size() > std::strlen(ext) && lower.compare(lower.size() - std::strlen(ext), std::string::npos, ext) == 0) return true;
  }
  return false;
}

Result<std::vector<FileInfo>> ListInput(const JobSpec& spec) {
  std::vector<FileInfo> files;
  for (const auto& uri : spec.input.uris) {
    // A pattern, one file, or a folder/prefix (Glob lists everything under it).
    ASSIGN_OR_RETURN(std::vector<FileInfo> found, Glob(uri));
    if (spec.input.format == "images") {
      std::erase_if(found, [](const FileInfo& f) { return !IsImageName(f.uri); });
    }
    if (found.empty()) {
      return Status::NotFound("input.uri '" + uri + "' matches no " + (spec.input.format == "images" ? "image file (.jpg .jpeg .png .webp)" : "file"));
    }
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

struct Footer {
  std::string uri;
  std::vector<int64_t> row_group_rows;
  DataType image_type = DataType::Binary();
};

Result<Footer> ReadFooter(const std::string& uri, const std::vector<std::string>& columns) {
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
  ASSIGN_OR_RETURN(auto file, fsys->OpenForRead(uri));
  ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(file));
  for (const auto& want : columns) {
    const auto& have = reader->columns();
    if (std::none_of(have.begin(), have.end(), [&](const ParquetColumnInfo& c) { return c.name == want; })) {
      std::string names;
      for (const auto& c : have) names += (names.empty() ? "" : ", ") + c.name;
      return Status::NotFound("'" + uri + "' has no column '" + want + "' (it has: " + names + ")");
    }
  }
  Footer f{uri, {}};
  for (const auto& c : reader->columns()) {
    if (c.name == columns[1]) f.image_type = c.type;  // columns = {id, image, included...}
  }
  for (int g = 0; g < reader->num_row_groups(); ++g) f.row_group_rows.push_back(reader->row_group_rows(g));
  return f;
}

}  // namespace

Result<JobInput> PlanInput(const JobSpec& spec) {
  ASSIGN_OR_RETURN(auto files, ListInput(spec));
  JobInput input;
  int64_t left = spec.input.limit > 0 ? spec.input.limit : INT64_MAX;
  auto add = [&](Shard s) {
    s.rows = std::min(s.rows, left);
    left -= s.rows;
    s.index = static_cast<int>(input.shards.size());
    input.total_rows += s.rows;
    input.shards.push_back(std::move(s));
  };
  if (spec.input.format == "images") {
    input.columns = {"id", "image"};
    for (size_t i = 0; i < files.size() && left > 0; i += static_cast<size_t>(spec.input.shard_rows)) {
      Shard s;
      for (size_t j = i; j < std::min(files.size(), i + static_cast<size_t>(spec.input.shard_rows)); ++j) s.images.push_back(files[j].uri);
      s.rows = static_cast<int64_t>(s.images.size());
      add(std::move(s));
    }
    return input;
  }
  std::vector<std::string> needed{spec.input.id_column, spec.input.image_column};
  for (const auto& c : spec.output.include) needed.push_back(c);
  input.columns = {"id", "image"};
  for (const auto& c : spec.output.include) input.columns.push_back(c);
  // Footers in parallel: on object stores each one is a round trip or two.
  std::vector<std::future<Result<Footer>>> footers;
  for (const auto& f : files) footers.push_back(std::async(std::launch::async, ReadFooter, f.uri, needed));
  for (auto& fut : footers) {
    ASSIGN_OR_RETURN(Footer footer, fut.get());
    if (footer.uri == files.front().uri) input.image_type = footer.image_type;
    for (int g = 0; g < static_cast<int>(footer.row_group_rows.size()) && left > 0;) {
      Shard s;
      s.file = footer.uri;
      s.first_row_group = g;
      while (g < static_cast<int>(footer.row_group_rows.size()) && (s.num_row_groups == 0 || s.rows + footer.row_group_rows[g] <= spec.input.shard_rows)) {
        s.rows += footer.row_group_rows[g++];
        ++s.num_row_groups;
      }
      if (s.rows > 0) add(std::move(s));
    }
  }
  return input;
}

namespace {

Column ShardColumn(int shard, int64_t rows) { return Column::FromValues(std::vector<int32_t>(static_cast<size_t>(rows), shard)); }

class ParquetShardTask final : public ReadTask {
 public:
  ParquetShardTask(const JobSpec& spec, Shard shard, int64_t batch_rows)
      : shard_(std::move(shard)),
        batch_rows_(batch_rows),
        image_shape_(spec.input.image_shape),
        read_{spec.input.id_column, spec.input.image_column},
        names_{"id", "image"} {
    read_.insert(read_.end(), spec.output.include.begin(), spec.output.include.end());
    names_.insert(names_.end(), spec.output.include.begin(), spec.output.include.end());
    names_.push_back(kShardColumn);
  }

  Result<std::optional<Batch>> Next(TaskContext&) override {
    if (!reader_) {
      ASSIGN_OR_RETURN(auto fsys, FileSystemFor(shard_.file));
      ASSIGN_OR_RETURN(auto file, fsys->OpenForRead(shard_.file));
      ASSIGN_OR_RETURN(reader_, ParquetReader::Open(file));
    }
    // Row groups stream page by page in slices of batch_rows: a row group larger than the
    // memory budget costs about one page per column, not the whole group.
    while (emitted_ < shard_.rows) {
      if (!stream_) {
        if (group_ >= shard_.num_row_groups) break;
        ASSIGN_OR_RETURN(stream_, reader_->StreamRowGroup(shard_.first_row_group + group_++, read_));
      }
      ASSIGN_OR_RETURN(std::optional<Batch> slice, stream_->Next(std::min(batch_rows_, shard_.rows - emitted_)));
      if (!slice) {
        stream_.reset();
        continue;
      }
      const int64_t n = slice->num_rows();
      std::vector<Column> columns;
      for (int i = 0; i < slice->num_columns(); ++i) columns.push_back(slice->column(i));
      if (!image_shape_.empty() && columns[1].type().id() != TypeId::kTensor) {  // input.image_shape
        ASSIGN_OR_RETURN(columns[1], ColumnToTensor(columns[1], TensorSpec{DType::kUInt8, image_shape_},
                                                    "'" + shard_.file + "' column '" + read_[1] + "' (input.image_shape) rows " +
                                                        std::to_string(emitted_) + ".." + std::to_string(emitted_ + n - 1) + " of shard " +
                                                        std::to_string(shard_.index)));
      }
      columns.push_back(ShardColumn(shard_.index, n));
      ASSIGN_OR_RETURN(Batch out, Batch::Make(names_, std::move(columns)));  // the job's column names
      emitted_ += n;
      return std::optional<Batch>(std::move(out));
    }
    return std::optional<Batch>();
  }
  int64_t buffered_bytes() const override { return stream_ ? stream_->buffered_bytes() : 0; }
  std::string Describe() const override {
    return "'" + shard_.file + "' row groups " + std::to_string(shard_.first_row_group) + "-" +
           std::to_string(shard_.first_row_group + shard_.num_row_groups - 1) + " (shard " + std::to_string(shard_.index) + ")";
  }

 private:
  Shard shard_;
  int64_t batch_rows_;
  std::vector<int64_t> image_shape_;  // input.image_shape: the image list's rows as this uint8 shape
  std::vector<std::string> read_;   // the file's columns: id, image, included
  std::vector<std::string> names_;  // as the job calls them: "id", "image", included, kShardColumn
  std::unique_ptr<ParquetReader> reader_;
  std::unique_ptr<ParquetRowGroupStream> stream_;  // declared after reader_: destroyed first
  int group_ = 0;
  int64_t emitted_ = 0;
};

class ImageShardTask final : public ReadTask {
 public:
  ImageShardTask(Shard shard, int64_t batch_rows) : shard_(std::move(shard)), batch_rows_(batch_rows) {}

  Result<std::optional<Batch>> Next(TaskContext&) override {
    if (next_ >= shard_.images.size()) return std::optional<Batch>();
    BinaryBuilder ids(DataType::String()), images;
    for (; next_ < shard_.images.size() && ids.length() < batch_rows_; ++next_) {
      const std::string& uri = shard_.images[next_];
      ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
      ASSIGN_OR_RETURN(auto data, fsys->ReadWhole(uri));
      ids.Append(uri);
      images.Append({reinterpret_cast<const char*>(data->data()), static_cast<size_t>(data->size())});
    }
    const int64_t n = ids.length();
    ASSIGN_OR_RETURN(Batch b, Batch::Make({"id", "image", kShardColumn}, {ids.Finish(), images.Finish(), ShardColumn(shard_.index, n)}));
    return std::optional<Batch>(std::move(b));
  }
  std::string Describe() const override { return "image shard " + std::to_string(shard_.index) + " (from '" + shard_.images.front() + "')"; }

 private:
  Shard shard_;
  int64_t batch_rows_;
  size_t next_ = 0;
};

class ShardSource final : public Source {
 public:
  ShardSource(const JobSpec& spec, ShardFeed next, int64_t batch_rows, int64_t estimated_rows)
      : spec_(spec), next_(std::move(next)), batch_rows_(batch_rows), estimated_rows_(estimated_rows) {}
  Result<std::unique_ptr<ReadTask>> NextTask() override {
    ASSIGN_OR_RETURN(std::optional<Shard> s, next_());
    if (!s) return std::unique_ptr<ReadTask>();
    if (spec_.input.format == "images") return std::unique_ptr<ReadTask>(new ImageShardTask(std::move(*s), batch_rows_));
    return std::unique_ptr<ReadTask>(new ParquetShardTask(spec_, std::move(*s), batch_rows_));
  }
  std::optional<int64_t> EstimatedRows() const override { return estimated_rows_; }

 private:
  const JobSpec& spec_;
  ShardFeed next_;
  int64_t batch_rows_;
  int64_t estimated_rows_;
};

}  // namespace

Result<int> BatchShard(const Batch& batch) {
  ASSIGN_OR_RETURN(Column shard, batch.GetColumn(kShardColumn));
  if (shard.type().id() != TypeId::kInt32 || batch.num_rows() == 0) {
    return Status::InvalidData("a batch without rows or with a " + shard.type().ToString() + " shard column");
  }
  return shard.Value<int32_t>(0);
}

Result<Batch> WithoutShardColumn(const Batch& batch) {
  std::vector<std::string> names;
  for (const auto& n : batch.names()) {
    if (n != kShardColumn) names.push_back(n);
  }
  return batch.Select(names);
}

MapFn WithShardBadRows(MapFn inner, std::function<void(int shard, const BadRow& row)> on_bad) {
  return [inner = std::move(inner), on_bad = std::move(on_bad)](Batch b, TaskContext& ctx) -> Result<Batch> {
    if (b.num_rows() == 0) return b;
    ASSIGN_OR_RETURN(const int shard, BatchShard(b));
    TaskContext::BadRowHandler seen = [&](BadRow row) {
      on_bad(shard, row);
      return ctx.ReportBadRow(std::move(row));
    };
    TaskContext tagged(ctx.stage(), ctx.replica(), ctx.stop_token(), &seen, ctx.allocator());
    return inner(std::move(b), tagged);
  };
}

int JobCpus(const JobSpec& spec) {
  return spec.resources.cpus > 0 ? spec.resources.cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

ExecutorOptions JobExecutorOptions(const JobSpec& spec, std::stop_token stop) {
  ExecutorOptions eo;
  eo.cpu_threads = JobCpus(spec);
  eo.memory_budget = spec.resources.memory;
  eo.stall_timeout = std::chrono::milliseconds(static_cast<int64_t>(spec.resources.stall_timeout_s * 1000));
  eo.stop = std::move(stop);
  eo.preserve_order = spec.output.preserve_order;
  return eo;
}

std::function<Status(const BadRow&)> BadRowPolicy(const JobSpec& spec, int64_t total_rows, std::function<void(const BadRow&)> seen,
                                                  std::shared_ptr<std::atomic<int64_t>> count) {
  const int64_t limit = spec.errors.max_bad_rows >= 1 ? static_cast<int64_t>(spec.errors.max_bad_rows)
                                                       : static_cast<int64_t>(spec.errors.max_bad_rows * static_cast<double>(total_rows));
  return [seen = std::move(seen), count = std::move(count), limit, total_rows](const BadRow& row) -> Status {
    if (seen) seen(row);
    const int64_t n = count->fetch_add(1) + 1;
    if (n > limit) {
      return Status::InvalidData("too many bad rows: " + std::to_string(n) + " (errors.max_bad_rows allows " + std::to_string(limit) +
                                 " of " + std::to_string(total_rows) + " rows); the last: row '" + row.row_id + "' in " + row.stage + ": " + row.reason);
    }
    return Status::OK();
  };
}

std::shared_ptr<Source> MakeShardSource(const JobSpec& spec, ShardFeed next, int64_t batch_rows, int64_t estimated_rows) {
  return std::make_shared<ShardSource>(spec, std::move(next), batch_rows, estimated_rows);
}

}  // namespace sluice::job
