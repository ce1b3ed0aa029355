// s3_read_bench: read throughput from an S3 endpoint vs the local file of the same bytes, for
// a sequential reader (1 MiB reads in order) and the Parquet column-chunk pattern (every row
// group of a file, one projected column), with read-ahead on and off.
//
//   s3_read_bench --file=LOCAL.parquet --endpoint=http://127.0.0.1:PORT --bucket=B
//                 [--read-endpoint=URL] [--column=image] [--repeat=3] [--read-ahead=8]
// Uploads the file to s3://B/<name> first (timed: write throughput), then prints one line per
// pattern and mode with MB/s and the ratio to the local read. --read-endpoint reads through
// another endpoint (the fault proxy with --latency-ms, standing in for a remote store).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench_args.h"
#include "sluice/parquet.h"
#include "sluice/s3.h"

using namespace sluice;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Bytes read by `pattern` from `file`.
Result<int64_t> ReadPattern(const std::string& pattern, RandomAccessFile& file, const std::string& column) {
  ASSIGN_OR_RETURN(int64_t size, file.Size());
  if (pattern == "sequential") {
    for (int64_t at = 0; at < size; at += 1 << 20) {
      ASSIGN_OR_RETURN(auto b, file.ReadAt(at, std::min<int64_t>(1 << 20, size - at)));
    }
    return size;
  }
  std::shared_ptr<RandomAccessFile> shared(&file, [](RandomAccessFile*) {});
  ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(shared));
  int64_t bytes = 0;
  for (int g = 0; g < reader->num_row_groups(); ++g) {
    ASSIGN_OR_RETURN(Batch b, reader->ReadRowGroup(g, {column}));
    bytes += b.ByteSize();
  }
  return bytes;
}

/// Best MB/s of `repeat` runs (a fresh file object each time: no cross-run caching).
template <typename Open>
Result<double> Best(const std::string& pattern, Open open, const std::string& column, int repeat) {
  double best = 0;
  for (int i = 0; i < repeat; ++i) {
    ASSIGN_OR_RETURN(auto file, open());
    const auto t0 = Clock::now();
    ASSIGN_OR_RETURN(int64_t bytes, ReadPattern(pattern, *file, column));
    best = std::max(best, static_cast<double>(bytes) / 1e6 / Seconds(t0));
  }
  return best;
}

Status Run(int argc, char** argv) {
  const std::string local = bench::StringArg(argc, argv, "file", "");
  const std::string column = bench::StringArg(argc, argv, "column", "image");
  const int repeat = static_cast<int>(bench::IntArg(argc, argv, "repeat", 3));
  S3Options o;
  o.endpoint = bench::StringArg(argc, argv, "endpoint", "");
  o.access_key = "S3RVER";
  o.secret_key = "S3RVER";
  const std::string bucket = bench::StringArg(argc, argv, "bucket", "bench");
  if (local.empty() || o.endpoint.empty()) return Status::InvalidArgument("needs --file and --endpoint");
  const std::string uri = "s3://" + bucket + "/" + local.substr(local.find_last_of('/') + 1);

  ASSIGN_OR_RETURN(auto bytes, LocalFileSystem()->ReadWhole(local));
  ASSIGN_OR_RETURN(auto writer_fs, MakeS3FileSystem(o));
  auto t0 = Clock::now();
  ASSIGN_OR_RETURN(auto out, writer_fs->OpenForWrite(uri));
  RETURN_IF_ERROR(out->Append(bytes->data(), bytes->size()));
  RETURN_IF_ERROR(out->Commit());
  std::printf("upload %s: %.1f MB in %.2f s = %.1f MB/s (multipart, %d parts in flight)\n", uri.c_str(), bytes->size() / 1e6, Seconds(t0),
              bytes->size() / 1e6 / Seconds(t0), o.read_ahead);

  for (const std::string pattern : {"sequential", "parquet"}) {
    ASSIGN_OR_RETURN(double local_mbs, Best(pattern, [&] { return OpenLocalFile(local); }, column, repeat));
    std::printf("%-10s local            %8.1f MB/s\n", pattern.c_str(), local_mbs);
    for (int ahead : {1, static_cast<int>(bench::IntArg(argc, argv, "read-ahead", 8))}) {
      S3Options ro = o;
      ro.endpoint = bench::StringArg(argc, argv, "read-endpoint", o.endpoint.c_str());
      ro.read_ahead = ahead;
      ASSIGN_OR_RETURN(auto fsys, MakeS3FileSystem(ro));
      ASSIGN_OR_RETURN(double s3_mbs, Best(pattern, [&] { return fsys->OpenForRead(uri); }, column, repeat));
      std::printf("%-10s s3 read_ahead=%-2d %8.1f MB/s  = %.3f of local  (%lld requests)\n", pattern.c_str(), ahead, s3_mbs, s3_mbs / local_mbs,
                  static_cast<long long>(fsys->stats().requests));
    }
  }
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  Status st = Run(argc, argv);
  if (!st.ok()) {
    std::fprintf(stderr, "s3_read_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
