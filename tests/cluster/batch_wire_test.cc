// The wire form of a batch: every column type survives the trip (slices included, offsets
// rebased), buffers arrive aligned, and damaged messages are refused by name.
#include "cluster/batch_wire.h"

#include <gtest/gtest.h>

#include <cstring>

#include "sluice/image.h"

namespace sluice::cluster {
namespace {

std::shared_ptr<Buffer> Received(const EncodedBatch& e) {
  const std::vector<uint8_t> flat = Flatten(e);
  auto buffer = HostAllocator()->Allocate(static_cast<int64_t>(flat.size()));
  EXPECT_TRUE(buffer.ok());
  std::memcpy((*buffer)->data(), flat.data(), flat.size());
  return *buffer;
}

Batch Sample() {
  auto ids = Column::FromStrings({"a", "bb", "", "dddd", "eeeee", "f"});
  auto labels = Column::FromValues<int64_t>({1, 2, 3, 4, 5, 6}, {1, 0, 1, 1, 0, 1});
  auto crops = Column::Allocate(DataType::Tensor(DType::kUInt8, {2, 3, 3}), 6).value();
  for (int64_t r = 0; r < 6; ++r) {
    for (int i = 0; i < 18; ++i) crops.MutableRowData(r)[i] = static_cast<uint8_t>(r * 18 + i);
  }
  std::vector<int64_t> offsets{0, 1, 3, 3, 4, 6, 7};
  auto child = Column::FromValues<float>({0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f});
  auto lists = Column::MakeList(6, Buffer::FromVector(offsets), child).value();
  auto shard = Column::FromValues<int32_t>({7, 7, 7, 7, 7, 7});
  return Batch::Make({"id", "label", "input", "scores", "_shard"}, {ids, labels, crops, lists, shard}).value();
}

TEST(BatchWireTest, EveryColumnTypeRoundTripsFromASlice) {
  const Batch whole = Sample();
  const Batch slice = whole.Slice(2, 3);  // offsets that do not start at 0
  auto encoded = EncodeBatch(slice, "credit_wait_s=1.5");
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  std::string meta;
  auto decoded = DecodeBatch(Received(*encoded), &meta, "a test message");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(meta, "credit_wait_s=1.5");
  ASSERT_EQ(decoded->num_rows(), 3);
  ASSERT_EQ(decoded->names(), slice.names());
  for (int i = 0; i < slice.num_columns(); ++i) {
    EXPECT_TRUE(decoded->column(i).Equals(slice.column(i))) << slice.name(i);
  }
}

// Big columns are views of the message (no copy); small ones are copied out, so they do not
// keep the message alive once the big ones are gone.
TEST(BatchWireTest, BigColumnsAreViewedSmallOnesCopied) {
  auto crops = Column::Allocate(DataType::Tensor(DType::kUInt8, {224, 224, 3}), 4).value();
  std::memset(crops.MutableRowData(0), 7, 4 * 224 * 224 * 3);
  const Batch batch = Batch::Make({"id", "input"}, {Column::FromStrings({"a", "b", "c", "d"}), crops}).value();
  auto encoded = EncodeBatch(batch, "");
  ASSERT_TRUE(encoded.ok());
  auto message = Received(*encoded);
  std::string meta;
  auto decoded = DecodeBatch(message, &meta, "m");
  ASSERT_TRUE(decoded.ok());
  const uint8_t* in_message = decoded->column(1).RowData(0);
  EXPECT_TRUE(in_message >= message->data() && in_message < message->data() + message->size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(in_message) % 64, 0u);  // aligned in the receive buffer
  const Column ids = decoded->column(0);
  decoded = Batch();
  std::weak_ptr<Buffer> watch = message;
  message.reset();
  EXPECT_TRUE(watch.expired()) << "the ids keep the message alive";
  EXPECT_EQ(ids.ValueBytes(3), "d");
}

TEST(BatchWireTest, DamagedMessagesAreRefused) {
  auto encoded = EncodeBatch(Sample(), "");
  ASSERT_TRUE(encoded.ok());
  auto buffer = Received(*encoded);
  std::string meta;
  auto truncated = Buffer::Wrap(buffer->data(), buffer->size() / 2, MemoryKind::kHost, buffer);
  auto bad = DecodeBatch(truncated, &meta, "a message from feeder 3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("feeder 3"), std::string::npos) << bad.status().ToString();
  buffer->data()[8] ^= 0xff;  // the magic
  EXPECT_FALSE(DecodeBatch(buffer, &meta, "x").ok());
}

TEST(BatchWireTest, BadRowsRoundTrip) {
  std::vector<BadRow> rows{{"preprocess", "img-1", "corrupt JPEG"}, {"preprocess", "img-9", "truncated"}};
  int shard = 0;
  auto back = DecodeBadRows(EncodeBadRows(42, rows), &shard);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(shard, 42);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].row_id, "img-9");
  EXPECT_EQ((*back)[1].reason, "truncated");
}

// What a feeder sends (uint8 crops) converted on the infer worker equals preprocessing there.
TEST(BatchWireTest, CropConversionEqualsFullPreprocessing) {
  PreprocessSpec full = PreprocessSpec::ImageNet();
  PreprocessSpec crop = full;
  crop.normalize = false;
  crop.layout = Layout::kNHWC;
  crop.dtype = DType::kUInt8;
  std::vector<uint8_t> pixels(300 * 200 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 7919) >> 3);
  Preprocessor direct(full), feeder(crop);
  std::vector<uint8_t> want(static_cast<size_t>(full.OutputType().fixed_row_bytes()));
  std::vector<uint8_t> crop_bytes(static_cast<size_t>(crop.OutputType().fixed_row_bytes()));
  std::vector<uint8_t> got(want.size());
  ASSERT_TRUE(direct.ProcessRaw(pixels.data(), 200, 300, 300 * 3, want.data()).ok());
  ASSERT_TRUE(feeder.ProcessRaw(pixels.data(), 200, 300, 300 * 3, crop_bytes.data()).ok());
  direct.ConvertCrop(crop_bytes.data(), got.data());
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace sluice::cluster
