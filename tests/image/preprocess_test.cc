// The preprocessing stage: bad rows, raw tensors, spec checks, dtype conversions.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "sluice/float16.h"
#include "sluice/image.h"

namespace sluice {
namespace {

std::string Photo(const std::string& name) {
  const char* env = std::getenv("SLUICE_PHOTOS");
  const std::string dir = env ? env : std::string(std::getenv("HOME")) + "/.cache/sluice-photos";
  std::ifstream f(dir + "/" + name, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(PreprocessTest, BadRowsAreReportedAndTheRestStayAligned) {
  const std::string jpeg = Photo("china.jpg"), png = Photo("chelsea.png");
  ASSERT_GT(jpeg.size(), 1000u) << "run scripts/fetch_photos.sh";
  std::vector<std::string> images{jpeg, jpeg.substr(0, jpeg.size() / 2), "", "GIF89a....", png, std::string("\xff\xd8\xff\xe0garbage", 12)};
  std::vector<std::string> ids{"a", "truncated", "empty", "gif", "b", "corrupt"};
  std::vector<int32_t> labels{1, 2, 3, 4, 5, 6};
  Batch in = Batch::Make({"id", "label", "image"}, {Column::FromStrings(ids), Column::FromValues<int32_t>(labels),
                                                     Column::FromStrings(images, DataType::Binary())}).value();
  std::vector<BadRow> bad;
  TaskContext::BadRowHandler handler = [&](BadRow r) {
    bad.push_back(std::move(r));
    return Status::OK();
  };
  const std::string stage = "decode";
  TaskContext ctx(stage, -1, {}, &handler, HostAllocator());
  MapFn map = MakePreprocessMap(PreprocessSpec::ImageNet(), "image", "id", "pixels");
  Batch out = map(in, ctx).value();
  ASSERT_EQ(out.num_rows(), 2);
  EXPECT_EQ(out.names(), (std::vector<std::string>{"id", "label", "pixels"}));
  EXPECT_EQ(out.column(0).ValueBytes(0), "a");
  EXPECT_EQ(out.column(0).ValueBytes(1), "b");
  EXPECT_EQ(out.column(1).Value<int32_t>(1), 5);
  EXPECT_EQ(out.column(2).type(), DataType::Tensor(DType::kFloat32, {3, 224, 224}));
  ASSERT_EQ(bad.size(), 4u);
  EXPECT_EQ(bad[0].row_id, "truncated");
  EXPECT_NE(bad[0].reason.find("truncated JPEG"), std::string::npos) << bad[0].reason;
  EXPECT_EQ(bad[1].row_id, "empty");
  EXPECT_NE(bad[1].reason.find("empty image"), std::string::npos);
  EXPECT_NE(bad[2].reason.find("not a JPEG, PNG or WebP"), std::string::npos);
  EXPECT_EQ(bad[3].row_id, "corrupt");
  EXPECT_EQ(bad[3].stage, "decode");
}

// libjpeg leaves state behind after a header it cannot read; the next (valid) image must not
// inherit it (it used to come out as "JPEG of 0x0 pixels").
TEST(PreprocessTest, AValidJpegAfterABrokenHeaderDecodes) {
  const std::string jpeg = Photo("china.jpg");
  ASSERT_GT(jpeg.size(), 1000u) << "run scripts/fetch_photos.sh";
  Preprocessor pre(PreprocessSpec::ImageNet());
  std::vector<uint8_t> row(static_cast<size_t>(PreprocessSpec::ImageNet().OutputType().fixed_row_bytes()));
  const size_t sos = jpeg.find("\xff\xda");  // cut after the frame header, before the scan
  ASSERT_NE(sos, std::string::npos);
  for (const std::string& broken : {jpeg.substr(0, sos - 10), jpeg.substr(0, 500), std::string("\xff\xd8\xff\xe0garbage", 12), jpeg.substr(0, 3)}) {
    EXPECT_FALSE(pre.ProcessEncoded(broken, row.data()).ok());
    Status st = pre.ProcessEncoded(jpeg, row.data());
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
}

// Exact mode decodes only the rows and iMCU columns of a JPEG that the resize-then-crop reads:
// the crops must equal those of a whole decode for every photograph and resize/crop geometry
// (torchvision_parity.py checks the same against torchvision on more JPEG kinds).
TEST(PreprocessTest, PartialJpegDecodeEqualsWholeDecode) {
  std::vector<PreprocessSpec> specs;
  specs.push_back(PreprocessSpec::ImageNet());
  PreprocessSpec small = PreprocessSpec::ImageNet();
  small.resize_size = 128;
  small.crop_height = small.crop_width = 112;
  specs.push_back(small);
  PreprocessSpec bicubic = PreprocessSpec::ImageNet();
  bicubic.interpolation = Interpolation::kBicubic;
  specs.push_back(bicubic);
  PreprocessSpec exact = PreprocessSpec::ImageNet();
  exact.resize = ResizeMode::kExact;
  exact.resize_width = 300;
  exact.resize_height = 200;
  exact.crop_height = 150;
  exact.crop_width = 100;
  specs.push_back(exact);
  PreprocessSpec no_antialias = PreprocessSpec::ImageNet();
  no_antialias.antialias = false;
  specs.push_back(no_antialias);
  int compared = 0;
  for (const char* name : {"china.jpg", "flower.jpg", "grace_hopper.jpg", "hubble_deep_field.jpg", "retina.jpg", "rocket.jpg"}) {
    const std::string jpeg = Photo(name);
    ASSERT_GT(jpeg.size(), 1000u) << "run scripts/fetch_photos.sh";
    for (const PreprocessSpec& spec : specs) {
      ASSERT_TRUE(spec.Validate().ok());
      Preprocessor partial(spec), whole(spec);
      whole.set_partial_decode(false);
      std::vector<uint8_t> a(static_cast<size_t>(spec.OutputType().fixed_row_bytes())), b(a.size());
      ASSERT_TRUE(partial.ProcessEncoded(jpeg, a.data()).ok()) << name;
      ASSERT_TRUE(whole.ProcessEncoded(jpeg, b.data()).ok()) << name;
      EXPECT_EQ(partial.last_crop(), whole.last_crop()) << name << " resize " << spec.resize_size;
      EXPECT_EQ(a, b) << name;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 30);
  // A truncated JPEG fails as before, even when what is missing lies below the crop.
  const std::string jpeg = Photo("retina.jpg");
  Preprocessor pre(PreprocessSpec::ImageNet());
  std::vector<uint8_t> row(static_cast<size_t>(PreprocessSpec::ImageNet().OutputType().fixed_row_bytes()));
  const Status st = pre.ProcessEncoded(jpeg.substr(0, jpeg.size() - 2000), row.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidData) << st.ToString();
}

TEST(PreprocessTest, PixelLimitRefusesBombsBeforeDecoding) {
  PreprocessSpec spec = PreprocessSpec::ImageNet();
  spec.max_pixels = 1000;
  Preprocessor pre(spec);
  std::vector<uint8_t> row(static_cast<size_t>(spec.OutputType().fixed_row_bytes()));
  Status st = pre.ProcessEncoded(Photo("china.jpg"), row.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
  EXPECT_NE(st.message().find("640x427 pixels exceeds the limit of 1000"), std::string::npos) << st.ToString();
  EXPECT_NE(pre.ProcessEncoded(Photo("chelsea.png"), row.data()).message().find("exceeds the limit"), std::string::npos);
}

TEST(PreprocessTest, RawTensorsTakeTheSamePathAsDecodedImages) {
  PreprocessSpec spec = PreprocessSpec::ImageNet();
  spec.dtype = DType::kUInt8;
  spec.layout = Layout::kNHWC;
  Preprocessor a(spec), b(spec);
  std::vector<uint8_t> from_png(224 * 224 * 3), from_raw(224 * 224 * 3);
  const std::string png = Photo("chelsea.png");
  ASSERT_TRUE(a.ProcessEncoded(png, from_png.data()).ok());
  // Decode once more to get the raw pixels, then feed them as a uint8 [H, W, 3] tensor column.
  PreprocessSpec keep = spec;
  keep.resize = ResizeMode::kExact;
  keep.resize_height = 300;
  keep.resize_width = 451;
  keep.crop_height = keep.crop_width = 0;
  Preprocessor decoder(keep);
  std::vector<uint8_t> pixels(300 * 451 * 3);
  ASSERT_TRUE(decoder.ProcessEncoded(png, pixels.data()).ok());
  auto col = Column::Allocate(DataType::Tensor(DType::kUInt8, {300, 451, 3}), 1).value();
  std::memcpy(col.MutableRowData(0), pixels.data(), pixels.size());
  Batch in = Batch::Make({"image"}, {col}).value();
  const std::string stage = "pre";
  TaskContext ctx(stage, -1, {}, nullptr, HostAllocator());
  Batch out = MakePreprocessMap(spec, "image", "", "pixels")(in, ctx).value();
  ASSERT_EQ(out.num_rows(), 1);
  EXPECT_EQ(std::memcmp(out.column(0).RowData(0), from_png.data(), from_png.size()), 0);
}

TEST(PreprocessTest, SpecValidationAndDtypes) {
  PreprocessSpec s = PreprocessSpec::ImageNet();
  EXPECT_TRUE(s.Validate().ok());
  EXPECT_EQ(s.RowShape(), (std::vector<int64_t>{3, 224, 224}));
  s.crop_height = s.crop_width = 0;
  EXPECT_NE(s.Validate().message().find("fixed size"), std::string::npos);
  s.resize = ResizeMode::kExact;
  s.resize_height = 100;
  s.resize_width = 50;
  EXPECT_TRUE(s.Validate().ok());
  s.layout = Layout::kNHWC;
  EXPECT_EQ(s.RowShape(), (std::vector<int64_t>{100, 50, 3}));
  s.std[1] = 0;
  EXPECT_FALSE(s.Validate().ok());
  EXPECT_FALSE(PreprocessSpec::Preset("coco").ok());
  // Half and bfloat16 rounding (round to nearest even) and specials.
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.5f), 0xc100);
  EXPECT_EQ(FloatToHalf(65520.f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(FloatToHalf(5.96046448e-08f), 0x0001);
  EXPECT_FLOAT_EQ(HalfToFloat(FloatToHalf(0.333251953125f)), 0.333251953125f);
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBFloat16(1.00390625f), 0x3f80);  // halfway, rounds to even
  EXPECT_EQ(FloatToBFloat16(1.01171875f), 0x3f82);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A PNG whose data fails mid-image (found by the fuzzer leaking memory): a clean error.
TEST(PreprocessTest, FuzzRegressionPngErrorMidImage) {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/tests/fuzz/regressions/image_png_error_mid_image.png", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  Preprocessor pre(PreprocessSpec::ImageNet());
  std::vector<uint8_t> row(3 * 224 * 224 * 4);
  Status st = pre.ProcessEncoded(bytes, row.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
  EXPECT_NE(st.message().find("PNG"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace sluice

#include <filesystem>

#include "sluice/datagen.h"
#include "sluice/parquet.h"

namespace sluice {
namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(DatagenTest, JpegShardsAreDeterministicAndDecodable) {
  const std::string dir = ::testing::TempDir() + "datagen_jpeg";
  std::filesystem::remove_all(dir);
  DatagenOptions o;
  o.out_dir = dir;
  o.images = 40;
  o.per_file = 16;
  o.seed = 7;
  DatagenReport report = GenerateJpegDataset(o).value();
  EXPECT_EQ(report.files, 3);
  EXPECT_EQ(report.images, 40);
  const std::string first = ReadWhole(dir + "/part-00000.parquet");
  // Same seed, same bytes.
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(GenerateJpegDataset(o).ok());
  EXPECT_EQ(ReadWhole(dir + "/part-00000.parquet"), first);
  auto reader = ParquetReader::Open(OpenLocalFile(dir + "/part-00002.parquet").value()).value();
  Batch b = reader->ReadRowGroup(0).value();
  ASSERT_EQ(b.num_rows(), 8);
  EXPECT_EQ(b.column(0).ValueBytes(0), "img_000000032");
  Preprocessor pre(PreprocessSpec::ImageNet());
  std::vector<uint8_t> row(3 * 224 * 224 * 4);
  for (int64_t r = 0; r < b.num_rows(); ++r) {
    const auto jpeg = b.GetColumn("image").value().ValueBytes(r);
    EXPECT_EQ(static_cast<uint8_t>(jpeg[0]), 0xff);
    EXPECT_TRUE(pre.ProcessEncoded(jpeg, row.data()).ok()) << r;
  }
}

TEST(DatagenTest, RawShardsReadBackAsTensors) {
  const std::string dir = ::testing::TempDir() + "datagen_raw";
  std::filesystem::remove_all(dir);
  DatagenOptions o;
  o.out_dir = dir;
  o.images = 5;
  ASSERT_TRUE(GenerateRawDataset(o).ok());
  auto reader = ParquetReader::Open(OpenLocalFile(dir + "/part-00000.parquet").value()).value();
  EXPECT_EQ(reader->columns()[2].type, DataType::Tensor(DType::kUInt8, {256, 256, 3}));
  Batch b = reader->ReadRowGroup(0).value();
  ASSERT_EQ(b.num_rows(), 5);
  // Not a flat image: photographs have variation.
  const uint8_t* p = b.column(2).RowData(0);
  EXPECT_NE(std::count(p, p + 256 * 256 * 3, p[0]), 256 * 256 * 3);
  DatagenOptions missing = o;
  missing.photos_dir = "/nonexistent";
  EXPECT_EQ(GenerateRawDataset(missing).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(PreprocessYamlTest, PresetOverridesRoundTripAndErrors) {
  auto s = PreprocessSpec::FromYaml("preset: imagenet\ndtype: uint8\nlayout: nhwc\nresize: [300, 400]\ncrop: none\n").value();
  EXPECT_EQ(s.dtype, DType::kUInt8);
  EXPECT_EQ(s.layout, Layout::kNHWC);
  EXPECT_EQ(s.resize, ResizeMode::kExact);
  EXPECT_EQ(s.RowShape(), (std::vector<int64_t>{300, 400, 3}));
  auto back = PreprocessSpec::FromYaml(s.ToYaml()).value();
  EXPECT_EQ(back.ToYaml(), s.ToYaml());
  auto defaults = PreprocessSpec::FromYaml("{}").value();
  EXPECT_EQ(defaults.ToYaml(), PreprocessSpec::ImageNet().ToYaml());
  EXPECT_NE(PreprocessSpec::FromYaml("crop: 224\nresise: 256\n").status().message().find("unknown key 'resise'"), std::string::npos);
  EXPECT_NE(PreprocessSpec::FromYaml("layout: chw\n").status().message().find("preprocess.layout"), std::string::npos);
  EXPECT_NE(PreprocessSpec::FromYaml("mean: [1, 2]\n").status().message().find("three numbers"), std::string::npos);
  EXPECT_NE(PreprocessSpec::FromYaml("crop: none\n").status().message().find("fixed size"), std::string::npos);
  EXPECT_EQ(PreprocessSpec::FromYaml("resize: [1, 2\n").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
