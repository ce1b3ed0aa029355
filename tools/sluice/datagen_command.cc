#include "datagen_command.h"

#include <cstdio>

#include "arg_parser.h"
#include "sluice/byte_units.h"
#include "sluice/datagen.h"

namespace sluice::cli {

int RunDatagen(const std::vector<std::string>& all_args) {
  if (all_args.empty() || (all_args[0] != "jpeg" && all_args[0] != "raw")) {
    std::fprintf(stderr, "usage: sluice datagen jpeg|raw --out DIR --images N [--per-file 1000] [--seed 0] [--photos DIR]\n");
    return 2;
  }
  const bool jpeg = all_args[0] == "jpeg";
  const std::vector<std::string> args(all_args.begin() + 1, all_args.end());
  ArgParser p(std::string("sluice datagen ") + all_args[0],
              jpeg ? "Writes Parquet shards of id, label and JPEG bytes made from real photographs (ImageNet-like sizes)."
                   : "Writes Parquet shards of id, label and 256x256x3 uint8 images (the seeds' raw layout).");
  DatagenOptions o;
  int64_t images = 1000, per_file = 1000, seed = 0;
  p.String("--out", &o.out_dir, "output directory (required)");
  p.Int("--images", &images, "number of images");
  p.Int("--per-file", &per_file, "rows per Parquet file");
  p.Int("--seed", &seed, "random seed (same seed, same data)");
  p.String("--photos", &o.photos_dir, "source photographs (default: $SLUICE_PHOTOS or ~/.cache/sluice-photos)");
  if (!p.Parse(args)) return p.exit_code();
  if (o.out_dir.empty()) return p.Fail("--out is required");
  o.images = images;
  o.per_file = per_file;
  o.seed = static_cast<uint64_t>(seed);
  o.progress = [](int64_t done) { std::fprintf(stderr, "\rdatagen: %lld images", static_cast<long long>(done)); };
  auto report = jpeg ? GenerateJpegDataset(o) : GenerateRawDataset(o);
  std::fprintf(stderr, "\n");
  if (!report.ok()) {
    std::fprintf(stderr, "sluice datagen: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("wrote %lld images in %lld files to %s (%s of image data, mean %.1f KB per image)\n",
              static_cast<long long>(report->images), static_cast<long long>(report->files), o.out_dir.c_str(),
              FormatBytes(report->image_bytes).c_str(),
              report->images ? report->image_bytes / 1024.0 / static_cast<double>(report->images) : 0.0);
  return 0;
}

}  // namespace sluice::cli
