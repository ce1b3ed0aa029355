// Ray Data's tensor extension metadata: JSON and pickled shapes, the pre-2.9 pickled type,
// variable-shaped ndim, hostile pickles; and variable-shaped rows as raw images.
#include <gtest/gtest.h>

#include "pickle_reader.h"
#include "ray_tensor_type.h"
#include "sluice/raw_image.h"

namespace sluice::parquet {
namespace {

std::string Hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// pickle.dumps((24, 20, 3), protocol=5), as Ray >= 2.49 stores a shape.
const std::string kShapePickle = Hex("80059509000000000000004b184b144b0387942e");
// pickle.dumps(ArrowTensorType((24, 20, 3), pa.uint8())) as pyarrow's PyExtensionType wrote it
// for Ray < 2.9 (protocol 4; made by tests/parquet/ray/make_ray_files.mjs, checked with CPython).
const std::string kPre29Pickle = Hex(
    "80049575000000000000008c247261792e6169722e7574696c2e74656e736f725f657874656e73696f6e732e6172726f77948c0f4172726f7754"
    "656e736f72547970659493944b184b144b0387948c0b70796172726f772e6c6962948c0e747970655f666f725f616c6961739493948c0575696e"
    "74389485945294869452942e");

TEST(RayTensorTypeTest, ShapesFromJsonAndPickles) {
  auto v1 = ParseRayTensorType("ray.data.arrow_tensor", "[256, 256, 3]").value();
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->shape, (std::vector<int64_t>{256, 256, 3}));
  EXPECT_EQ(v1->source, "ray.data.arrow_tensor (JSON shape)");
  auto v2 = ParseRayTensorType("ray.data.arrow_tensor_v2", kShapePickle).value();
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->shape, (std::vector<int64_t>{24, 20, 3}));
  EXPECT_NE(v2->source.find("pickled shape"), std::string::npos);
  auto old = ParseRayTensorType("arrow.py_extension_type", kPre29Pickle).value();
  ASSERT_TRUE(old);
  EXPECT_EQ(old->shape, (std::vector<int64_t>{24, 20, 3}));
  EXPECT_NE(old->source.find("ray.air.util.tensor_extensions.arrow.ArrowTensorType"), std::string::npos);
  auto var = ParseRayTensorType("ray.data.arrow_variable_shaped_tensor", Hex("80054b032e")).value();
  ASSERT_TRUE(var);
  EXPECT_TRUE(var->variable_shaped);
  EXPECT_EQ(var->ndim, 3);
  EXPECT_EQ(ParseRayTensorType("ray.data.arrow_variable_shaped_tensor", "3").value()->ndim, 3);
  EXPECT_FALSE(ParseRayTensorType("arrow.fixed_shape_tensor", "{}").value());
  EXPECT_FALSE(ParseRayTensorType("some.other.type", "x").value());
}

TEST(RayTensorTypeTest, UnreadableMetadataIsAnErrorNamingTheType) {
  for (const std::string& bad : {std::string("[]"), std::string("[4, -5]"), std::string("not json"), kShapePickle.substr(0, 10)}) {
    auto r = ParseRayTensorType("ray.data.arrow_tensor_v2", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("ray.data.arrow_tensor_v2"), std::string::npos) << r.status().ToString();
  }
}

TEST(PickleReaderTest, HostilePicklesFailWithoutRunningAnything) {
  // Every truncation of a real pickle, unknown opcodes, absurd lengths, deep stacks.
  for (size_t n = 0; n < kPre29Pickle.size(); ++n) EXPECT_FALSE(ReadPickle(kPre29Pickle.substr(0, n)).ok()) << n;
  EXPECT_FALSE(ReadPickle(Hex("8005") + "i" + "os\nsystem\n.").ok());  // INST: not supported, never imported
  auto unknown = ReadPickle(Hex("8005ff2e"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unsupported opcode 0xff"), std::string::npos);
  EXPECT_FALSE(ReadPickle(Hex("80058dffffffffffffff7f2e")).ok());  // an 8-byte string length past the end
  EXPECT_FALSE(ReadPickle(Hex("8005") + std::string(10000, '(') + ".").ok());  // MARKs with nothing after
  std::string deep = Hex("8005");
  for (int i = 0; i < 5000; ++i) deep += Hex("4b01");
  EXPECT_FALSE(ReadPickle(deep + ".").ok());  // deeper than the stack limit
  // A global is recorded as a name: REDUCE of os.system is data, not a call.
  auto reduce = ReadPickle(Hex("80058c026f73948c0673797374656d9493948c026c7394859452942e")).value();
  EXPECT_EQ(reduce->kind, PickleValue::Kind::kReduce);
  EXPECT_EQ(reduce->items[0]->text, "os.system");
}

Column ListOf(const std::vector<std::vector<int64_t>>& rows, bool u8) {
  std::vector<int64_t> offsets{0};
  std::vector<uint8_t> bytes;
  std::vector<int64_t> ints;
  for (const auto& r : rows) {
    for (int64_t v : r) u8 ? bytes.push_back(static_cast<uint8_t>(v)) : ints.push_back(v);
    offsets.push_back(offsets.back() + static_cast<int64_t>(r.size()));
  }
  auto off = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8});
  return Column::MakeList(static_cast<int64_t>(rows.size()), off, u8 ? Column::FromValues<uint8_t>(bytes) : Column::FromValues<int64_t>(ints)).value();
}

TEST(RayTensorTypeTest, VariableShapedRowsBecomeRawImagesOrTheirErrors) {
  std::vector<int64_t> px(2 * 3 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<int64_t>(i);
  Column data = ListOf({px, {7, 8, 9, 10}, {}, {1, 2, 3}}, true);
  Column shape = ListOf({{2, 3, 3}, {2, 2}, {4, 5, 3}, {1, 1, 1, 3}}, false);
  Column images = VariableShapedImages(data, shape, "'f' column 'image'").value();
  ASSERT_EQ(images.length(), 4);
  auto rgb = ParseRawImage(images.ValueBytes(0)).value();
  EXPECT_EQ(rgb.height, 2u);
  EXPECT_EQ(rgb.width, 3u);
  EXPECT_EQ(rgb.channels, 3u);
  EXPECT_EQ(rgb.pixels[17], 17);
  auto gray = ParseRawImage(images.ValueBytes(1)).value();
  EXPECT_EQ(gray.channels, 1u);
  auto empty = ParseRawImage(images.ValueBytes(2));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("shape [4, 5, 3] holds 0 values, not 60"), std::string::npos) << empty.status().ToString();
  auto rank = ParseRawImage(images.ValueBytes(3));
  ASSERT_FALSE(rank.ok());
  EXPECT_NE(rank.status().message().find("is not an image"), std::string::npos) << rank.status().ToString();
}

}  // namespace
}  // namespace sluice::parquet
