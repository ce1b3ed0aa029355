// Preprocessing throughput: decode + Resize(256) + CenterCrop(224) + Normalize into float32
// NCHW rows, on N threads (one Preprocessor each), every file read into memory first; best of R.
// With --raw, 256x256x3 uint8 tensors (the seeds' raw layout) instead of JPEG files.
//
//   preprocess_bench --dir=DIR [--threads=1] [--repeat=3] [--mode=exact|fast] [--dtype=float32] [--partial=1]
//     --partial=0: exact mode decodes each JPEG whole (the default decodes only what the crop reads)
//     --breakdown=1: also the share of decode, resize+crop and normalize (one timed pass more)
//   preprocess_bench --raw=N [--threads=1]
//   preprocess_bench --export=DATAGEN_DIR --dir=DIR   writes the JPEGs of `sluice datagen jpeg`
//                                                     shards as files (for the Python peer)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench_args.h"
#include "sluice/image.h"
#include "sluice/parquet.h"

using namespace sluice;

/// Writes every JPEG of the shards in `from` to `to`/img_NNNNN.jpg.
int Export(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  std::vector<std::filesystem::path> shards;
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    if (e.path().extension() == ".parquet") shards.push_back(e.path());
  }
  std::sort(shards.begin(), shards.end());
  int n = 0;
  for (const auto& shard : shards) {
    auto reader = ParquetReader::Open(OpenLocalFile(shard.string()).value());
    if (!reader.ok()) return std::fprintf(stderr, "%s\n", reader.status().ToString().c_str()), 1;
    for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
      Batch b = (*reader)->ReadRowGroup(g, {"image"}).value();
      for (int64_t r = 0; r < b.num_rows(); ++r) {
        char name[32];
        std::snprintf(name, sizeof name, "/img_%05d.jpg", n++);
        std::ofstream(to + name, std::ios::binary) << b.column(0).ValueBytes(r);
      }
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (const std::string from = bench::StringArg(argc, argv, "export", ""); !from.empty()) return Export(from, bench::StringArg(argc, argv, "dir", "."));
  const int threads = std::stoi(bench::StringArg(argc, argv, "threads", "1"));
  const int repeat = std::stoi(bench::StringArg(argc, argv, "repeat", "3"));
  const int raw = std::stoi(bench::StringArg(argc, argv, "raw", "0"));
  PreprocessSpec spec = PreprocessSpec::ImageNet();
  if (bench::StringArg(argc, argv, "mode", "exact") == std::string("fast")) spec.mode = Fidelity::kFast;
  auto dtype = ParseDType(bench::StringArg(argc, argv, "dtype", "float32"));
  if (!dtype.ok()) return 2;
  spec.dtype = *dtype;
  const bool partial = bench::StringArg(argc, argv, "partial", "1") != std::string("0");
  const bool breakdown = bench::StringArg(argc, argv, "breakdown", "0") != std::string("0");
  std::vector<std::string> files;
  std::vector<uint8_t> raw_pixels;
  size_t total_bytes = 0;
  if (raw > 0) {
    raw_pixels.resize(static_cast<size_t>(raw) * 256 * 256 * 3);
    for (size_t i = 0; i < raw_pixels.size(); ++i) raw_pixels[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  } else {
    const std::string dir = bench::StringArg(argc, argv, "dir", ".");
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
      std::fprintf(stderr, "preprocess_bench: cannot read --dir=%s: %s\n", dir.c_str(), ec.message().c_str());
      return 1;
    }
    for (const auto& e : it) {
      if (e.path().extension() != ".jpg") continue;
      std::ifstream f(e.path(), std::ios::binary);
      files.emplace_back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      total_bytes += files.back().size();
    }
  }
  const int n = raw > 0 ? raw : static_cast<int>(files.size());
  if (n == 0) {
    std::fprintf(stderr, "preprocess_bench: no images\n");
    return 1;
  }
  const size_t row = static_cast<size_t>(spec.OutputType().fixed_row_bytes());
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    std::atomic<int> next{0};
    std::atomic<int> errors{0};
    const auto t0 = std::chrono::steady_clock::now();
    {
      std::vector<std::jthread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          Preprocessor pre(spec);
          pre.set_partial_decode(partial);
          std::vector<uint8_t> out(row);
          for (int i; (i = next.fetch_add(1)) < n;) {
            Status st = raw > 0 ? pre.ProcessRaw(&raw_pixels[static_cast<size_t>(i) * 256 * 256 * 3], 256, 256, 256 * 3, out.data())
                                : pre.ProcessEncoded(files[static_cast<size_t>(i)], out.data());
            if (!st.ok()) errors++;
          }
        });
      }
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (errors) std::fprintf(stderr, "preprocess_bench: %d images failed\n", errors.load());
  }
  std::printf("sluice_preprocess %s images=%d threads=%d mode=%s partial=%d dtype=%s seconds=%.4f images_per_s=%.1f mean_kb=%.1f\n",
              raw > 0 ? "raw256" : "jpeg", n, threads, spec.mode == Fidelity::kFast ? "fast" : "exact", partial ? 1 : 0,
              std::string(DTypeName(spec.dtype)).c_str(), best, n / best, raw > 0 ? 192.0 : total_bytes / 1024.0 / n);
  if (breakdown && raw == 0) {  // one more pass on this thread with the step clocks on
    Preprocessor pre(spec);
    pre.set_partial_decode(partial);
    pre.set_step_timing(true);
    std::vector<uint8_t> out(row);
    for (const auto& f : files) (void)pre.ProcessEncoded(f, out.data());
    const auto t = pre.step_times();
    const double sum = t.decode_s + t.resize_crop_s + t.normalize_s;
    std::printf("breakdown sluice_%s decode=%.1f%% resize+crop=%.1f%% normalize=%.1f%% us_per_image=%.1f\n",
                spec.mode == Fidelity::kFast ? "fast" : "exact", 100 * t.decode_s / sum, 100 * t.resize_crop_s / sum, 100 * t.normalize_s / sum,
                1e6 * sum / static_cast<double>(files.size()));
  }
  return 0;
}
