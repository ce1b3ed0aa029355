#pragma once
/// Benchmark and demo datasets, deterministic by seed, as Parquet shards of `per_file` rows
/// (label: the index of the photograph, in file-name order, that the image was cut from):
/// - JPEG: columns id (string), label (int32), image (JPEG bytes) built from real photographs
///   (scripts/fetch_photos.sh) by random crops and scales: mostly 500x375 or 375x500 as in
///   ImageNet, a quarter larger (640-1400 wide), 5 % smaller, about 3 % grayscale, JPEG quality
///   75-95 skewed towards 95.
/// - raw: columns id (string), label (int32), image (256x256x3 uint8 tensor), the seeds' raw
///   layout, from the same photographs (shorter side resized to 256, center crop).
///
/// Threading: the functions use the calling thread only.

#include <cstdint>
#include <functional>
#include <string>

#include "sluice/status.h"

namespace sluice {

struct DatagenOptions {
  std::string out_dir;
  int64_t images = 1000;
  int64_t per_file = 1000;
  uint64_t seed = 0;
  std::string photos_dir;  // default: $SLUICE_PHOTOS or ~/.cache/sluice-photos
  std::function<void(int64_t done)> progress;
};

struct DatagenReport {
  int64_t files = 0;
  int64_t images = 0;
  int64_t image_bytes = 0;  // JPEG bytes (jpeg) or tensor bytes (raw)
};

Result<DatagenReport> GenerateJpegDataset(const DatagenOptions& options);
Result<DatagenReport> GenerateRawDataset(const DatagenOptions& options);

}  // namespace sluice
