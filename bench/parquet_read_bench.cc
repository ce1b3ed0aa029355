// Parquet read throughput: every row group of a file, all or some columns, on N threads.
// Prints rows/s and MB/s of decompressed data (the bytes of the batches produced), best of R.
//
//   parquet_read_bench --generate=DIR             writes DIR/images.parquet and DIR/raw.parquet
//   parquet_read_bench --file=F [--columns=a,b] [--threads=1] [--repeat=3] [--stream=ROWS]
//
// --stream=ROWS reads each row group as slices of ROWS rows (StreamRowGroup, what `sluice run`
// does) instead of whole.
//
// images.parquet: 9,000 rows of id (string), label (int32) and image (binary): incompressible
// bytes with sizes spread like ImageNet JPEGs (mean ~110 KB), 1,000 rows per row group, about
// 1 GB, standing in for JPEG bytes (which do not compress either). raw.parquet: 5,000 rows of
// id (int64) and image (256x256x3 uint8 tensor, as FIXED_LEN_BYTE_ARRAY), 500 rows per row
// group, about 1 GB: the seeds' raw-tensor layout.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include "bench_args.h"
#include "sluice/parquet.h"

using namespace sluice;

namespace {

struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  }
};

Status GenerateImages(const std::string& path) {
  ParquetWriteOptions opt;
  opt.row_group_rows = 1000;
  ASSIGN_OR_RETURN(auto w, ParquetWriter::Open(path, opt));
  Rng rng{42};
  for (int chunk = 0; chunk < 9; ++chunk) {
    std::vector<std::string> ids, images;
    std::vector<int32_t> labels;
    for (int i = 0; i < 1000; ++i) {
      const int row = chunk * 1000 + i;
      char id[32];
      std::snprintf(id, sizeof id, "img_%08d", row);
      ids.push_back(id);
      labels.push_back(static_cast<int32_t>(rng.Next() % 1000));
      // 30-250 KB, mean ~110 KB: a sum of uniforms skews like photo sizes.
      const size_t n = 30000 + rng.Next() % 110000 + rng.Next() % 110000;
      std::string img(n, '\0');
      for (size_t k = 0; k + 8 <= n; k += 8) {
        const uint64_t v = rng.Next();
        std::memcpy(&img[k], &v, 8);
      }
      images.push_back(std::move(img));
    }
    ASSIGN_OR_RETURN(Batch b, Batch::Make({"id", "label", "image"}, {Column::FromStrings(ids), Column::FromValues<int32_t>(labels),
                                                                     Column::FromStrings(images, DataType::Binary())}));
    RETURN_IF_ERROR(w->Write(b));
  }
  return w->Close();
}

Status GenerateRaw(const std::string& path) {
  ParquetWriteOptions opt;
  opt.row_group_rows = 500;
  ASSIGN_OR_RETURN(auto w, ParquetWriter::Open(path, opt));
  Rng rng{7};
  for (int chunk = 0; chunk < 10; ++chunk) {
    std::vector<int64_t> ids;
    ASSIGN_OR_RETURN(Column img, Column::Allocate(DataType::Tensor(DType::kUInt8, {256, 256, 3}), 500));
    for (int i = 0; i < 500; ++i) {
      ids.push_back(chunk * 500 + i);
      uint8_t* p = img.MutableRowData(i);
      const int base = static_cast<int>(rng.Next() % 200);
      for (int y = 0; y < 256; ++y) {  // smooth gradients plus noise, like photos: partly compressible
        for (int x = 0; x < 256 * 3; ++x) p[y * 768 + x] = static_cast<uint8_t>(base + (x / 3 + y) / 8 + rng.Next() % 8);
      }
    }
    ASSIGN_OR_RETURN(Batch b, Batch::Make({"id", "image"}, {Column::FromValues<int64_t>(ids), img}));
    RETURN_IF_ERROR(w->Write(b));
  }
  return w->Close();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string gen = bench::StringArg(argc, argv, "generate", "");
  if (!gen.empty()) {
    Status st = GenerateImages(gen + "/images.parquet");
    if (st.ok()) st = GenerateRaw(gen + "/raw.parquet");
    if (!st.ok()) {
      std::fprintf(stderr, "parquet_read_bench: %s\n", st.ToString().c_str());
      return 1;
    }
    return 0;
  }
  const std::string file = bench::StringArg(argc, argv, "file", "");
  const int threads = std::stoi(bench::StringArg(argc, argv, "threads", "1"));
  const int repeat = std::stoi(bench::StringArg(argc, argv, "repeat", "3"));
  const int64_t stream = std::stoll(bench::StringArg(argc, argv, "stream", "0"));
  std::vector<std::string> columns;
  std::stringstream ss(bench::StringArg(argc, argv, "columns", ""));
  for (std::string c; std::getline(ss, c, ',');) {
    if (!c.empty()) columns.push_back(c);
  }
  auto opened = OpenLocalFile(file);
  if (!opened.ok()) {
    std::fprintf(stderr, "parquet_read_bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  auto reader = ParquetReader::Open(*opened);
  if (!reader.ok()) {
    std::fprintf(stderr, "parquet_read_bench: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  double best = 1e30;
  int64_t rows = 0, bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    std::atomic<int> next{0};
    std::atomic<int64_t> total_rows{0}, total_bytes{0};
    std::atomic<bool> failed{false};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        auto fail = [&](const Status& st) {
          std::fprintf(stderr, "parquet_read_bench: %s\n", st.ToString().c_str());
          failed = true;
        };
        for (int g; (g = next.fetch_add(1)) < (*reader)->num_row_groups();) {
          if (stream > 0) {
            auto s = (*reader)->StreamRowGroup(g, columns);
            if (!s.ok()) return fail(s.status());
            for (;;) {
              auto b = (*s)->Next(stream);
              if (!b.ok()) return fail(b.status());
              if (!*b) break;
              total_rows += (*b)->num_rows();
              total_bytes += (*b)->ByteSize();
            }
            continue;
          }
          auto b = (*reader)->ReadRowGroup(g, columns);
          if (!b.ok()) return fail(b.status());
          total_rows += b->num_rows();
          total_bytes += b->ByteSize();
        }
      });
    }
    pool.clear();
    if (failed) return 1;
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    rows = total_rows;
    bytes = total_bytes;
  }
  std::printf("sluice_parquet_read file=%s columns=%s threads=%d stream=%lld rows=%lld seconds=%.4f rows_per_s=%.0f mb_per_s=%.1f\n",
              file.c_str(), columns.empty() ? "all" : bench::StringArg(argc, argv, "columns", "").c_str(), threads,
              static_cast<long long>(stream), static_cast<long long>(rows),
              best, static_cast<double>(rows) / best, static_cast<double>(bytes) / best / 1e6);
  return 0;
}
