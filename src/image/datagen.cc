#include "sluice/datagen.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "decoder.h"
#include "resample.h"
#include "sluice/parquet.h"

namespace sluice {
namespace {

using image::DecodedImage;

Result<std::vector<DecodedImage>> LoadPhotos(const std::string& dir_option) {
  std::string dir = dir_option;
  if (dir.empty()) {
    const char* env = std::getenv("SLUICE_PHOTOS");
    const char* home = std::getenv("HOME");
    dir = env ? env : std::string(home ? home : ".") + "/.cache/sluice-photos";
  }
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = e.path().extension().string();
    if (ext == ".jpg" || ext == ".png") paths.push_back(e.path());
  }
  if (ec || paths.empty()) {
    return Status::NotFound("no photographs in '" + dir + "' (run scripts/fetch_photos.sh, or set SLUICE_PHOTOS)");
  }
  std::sort(paths.begin(), paths.end());
  image::Decoder decoder;
  std::vector<DecodedImage> photos;
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    DecodedImage img;
    Status st = decoder.Decode(bytes, {}, &img);
    if (!st.ok()) return st.WithContext("'" + p.string() + "'");
    if (std::min(img.width, img.height) >= 300) photos.push_back(std::move(img));
  }
  if (photos.empty()) return Status::NotFound("no photograph in '" + dir + "' is at least 300 pixels on its short side");
  return photos;
}

/// Crops `src` to [x, y, w, h] and resizes it to out_w x out_h (Pillow-exact bilinear).
Status CropResize(const DecodedImage& src, int x, int y, int w, int h, int out_w, int out_h, image::Resampler& r, DecodedImage* out) {
  image::ImageView view{src.pixels.data() + (static_cast<int64_t>(y) * src.width + x) * 3, w, h, 3, static_cast<int64_t>(src.width) * 3};
  out->width = out_w;
  out->height = out_h;
  out->pixels.resize(static_cast<size_t>(out_w) * out_h * 3);
  return r.Resize(view, out_w, out_h, image::Window{0, 0, out_w, out_h}, image::Filter::kBilinear, true, out->pixels.data());
}

class JpegEncoder {
 public:
  JpegEncoder() : tj_(tjInitCompress()) {}
  ~JpegEncoder() { tjDestroy(tj_); }
  Result<std::string> Encode(const DecodedImage& img, int quality, bool gray) {
    std::vector<uint8_t> luma;
    const uint8_t* src = img.pixels.data();
    int pf = TJPF_RGB, subsamp = TJSAMP_420, pitch = img.width * 3;
    if (gray) {
      luma.resize(static_cast<size_t>(img.width) * img.height);
      for (size_t i = 0; i < luma.size(); ++i) {
        const uint8_t* p = &img.pixels[i * 3];
        luma[i] = static_cast<uint8_t>((p[0] * 299 + p[1] * 587 + p[2] * 114 + 500) / 1000);
      }
      src = luma.data();
      pf = TJPF_GRAY, subsamp = TJSAMP_GRAY, pitch = img.width;
    }
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    if (tjCompress2(tj_, src, img.width, pitch, img.height, pf, &jpeg, &size, subsamp, quality, 0) != 0) {
      return Status::Internal(std::string("JPEG encoding: ") + tjGetErrorStr2(tj_));
    }
    std::string out(reinterpret_cast<char*>(jpeg), size);
    tjFree(jpeg);
    return out;
  }

 private:
  tjhandle tj_;
};

Status CheckOptions(const DatagenOptions& o) {
  if (o.out_dir.empty()) return Status::InvalidArgument("datagen needs an output directory");
  if (o.images < 0 || o.per_file <= 0) return Status::InvalidArgument("datagen: images must be >= 0 and per_file > 0");
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return Status::IOError("cannot create '" + o.out_dir + "': " + ec.message());
  return Status::OK();
}

std::string ShardPath(const std::string& dir, int64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "/part-%05lld.parquet", static_cast<long long>(index));
  return dir + name;
}

/// Writes shards of per_file rows; make_row(i, id, label, columns) appends row i.
template <typename MakeShard>
Result<DatagenReport> WriteShards(const DatagenOptions& o, MakeShard&& make_shard) {
  DatagenReport report;
  for (int64_t first = 0; first < o.images; first += o.per_file) {
    const int64_t n = std::min(o.per_file, o.images - first);
    ASSIGN_OR_RETURN(Batch batch, make_shard(first, n, &report));
    ParquetWriteOptions wo;
    wo.compression = "zstd";
    ASSIGN_OR_RETURN(auto w, ParquetWriter::Open(ShardPath(o.out_dir, report.files), wo));
    RETURN_IF_ERROR(w->Write(batch));
    RETURN_IF_ERROR(w->Close());
    ++report.files;
    report.images += n;
    if (o.progress) o.progress(report.images);
  }
  return report;
}

std::string ImageId(int64_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "img_%09lld", static_cast<long long>(i));
  return id;
}

/// The label: which photograph (in file-name order) the image was cut from, so a classifier can
/// learn it (the images stay what they were when labels were random: the draw is still taken).
int32_t PhotoLabel(size_t photo, std::mt19937_64& rng) {
  (void)rng();
  return static_cast<int32_t>(photo);
}

}  // namespace

Result<DatagenReport> GenerateJpegDataset(const DatagenOptions& o) {
  RETURN_IF_ERROR(CheckOptions(o));
  ASSIGN_OR_RETURN(auto photos, LoadPhotos(o.photos_dir));
  image::Resampler resampler;
  JpegEncoder encoder;
  DecodedImage scaled;
  return WriteShards(o, [&](int64_t first, int64_t n, DatagenReport* report) -> Result<Batch> {
    std::vector<std::string> ids, images;
    std::vector<int32_t> labels;
    for (int64_t i = first; i < first + n; ++i) {
      std::mt19937_64 rng(o.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(i));  // per image: any shard size, same images
      auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
      const size_t photo = rng() % photos.size();
      const DecodedImage& src = photos[photo];
      const double r = uniform(0, 1);
      int w, h;  // ImageNet-like sizes
      if (r < 0.50) w = 500, h = 375;
      else if (r < 0.68) w = 375, h = 500;
      else if (r < 0.95) w = static_cast<int>(uniform(640, 1400)), h = static_cast<int>(w * uniform(0.6, 0.85));
      else w = static_cast<int>(uniform(160, 400)), h = static_cast<int>(w * uniform(0.7, 1.3));
      // A random crop with the target's aspect ratio, 1-1.5x the target's size where the
      // photograph allows: scaling down (or barely up) keeps photographic detail, so file sizes
      // come out like real photos rather than like smooth upscaled ones.
      const double aspect = static_cast<double>(w) / h;
      int cw = static_cast<int>(std::min<double>({w * uniform(1.0, 1.5), static_cast<double>(src.width), src.height * aspect}));
      int ch = static_cast<int>(cw / aspect);
      cw = std::clamp(cw, 1, src.width);
      ch = std::clamp(ch, 1, src.height);
      const int x = static_cast<int>(rng() % static_cast<uint64_t>(src.width - cw + 1));
      const int y = static_cast<int>(rng() % static_cast<uint64_t>(src.height - ch + 1));
      RETURN_IF_ERROR(CropResize(src, x, y, cw, ch, w, h, resampler, &scaled));
      // 75-95, skewed towards the top as in photo collections (ImageNet averages ~110 KB a file).
      const double u = uniform(0, 1);
      const int quality = 95 - static_cast<int>(20 * u * u);
      ASSIGN_OR_RETURN(std::string jpeg, encoder.Encode(scaled, quality, uniform(0, 1) < 0.03));
      report->image_bytes += static_cast<int64_t>(jpeg.size());
      ids.push_back(ImageId(i));
      labels.push_back(PhotoLabel(photo, rng));
      images.push_back(std::move(jpeg));
    }
    return Batch::Make({"id", "label", "image"},
                       {Column::FromStrings(ids), Column::FromValues<int32_t>(labels), Column::FromStrings(images, DataType::Binary())});
  });
}

Result<DatagenReport> GenerateRawDataset(const DatagenOptions& o) {
  RETURN_IF_ERROR(CheckOptions(o));
  ASSIGN_OR_RETURN(auto photos, LoadPhotos(o.photos_dir));
  image::Resampler resampler;
  DecodedImage scaled;
  return WriteShards(o, [&](int64_t first, int64_t n, DatagenReport* report) -> Result<Batch> {
    std::vector<std::string> ids;
    std::vector<int32_t> labels;
    ASSIGN_OR_RETURN(Column pixels, Column::Allocate(DataType::Tensor(DType::kUInt8, {256, 256, 3}), n));
    for (int64_t i = first; i < first + n; ++i) {
      std::mt19937_64 rng(o.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(i));
      const size_t photo = rng() % photos.size();
      const DecodedImage& src = photos[photo];
      const int side = static_cast<int>(std::min(src.width, src.height) * std::uniform_real_distribution<double>(0.5, 1.0)(rng));
      const int x = static_cast<int>(rng() % static_cast<uint64_t>(src.width - side + 1));
      const int y = static_cast<int>(rng() % static_cast<uint64_t>(src.height - side + 1));
      RETURN_IF_ERROR(CropResize(src, x, y, side, side, 256, 256, resampler, &scaled));
      std::memcpy(pixels.MutableRowData(i - first), scaled.pixels.data(), scaled.pixels.size());
      report->image_bytes += 256 * 256 * 3;
      ids.push_back(ImageId(i));
      labels.push_back(PhotoLabel(photo, rng));
    }
    return Batch::Make({"id", "label", "image"}, {Column::FromStrings(ids), Column::FromValues<int32_t>(labels), pixels});
  });
}

}  // namespace sluice
