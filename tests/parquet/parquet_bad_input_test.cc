// Hostile and broken files: every one gets an error that names the file (and where possible the
// row group, column and page), never a crash, a hang or a huge allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "metadata.h"
#include "rle_bit_packed.h"
#include "sluice/parquet.h"
#include "thrift_compact.h"

namespace sluice {
namespace {

/// A small valid file (two row groups, strings with a dictionary, a list, nulls), in memory.
std::vector<uint8_t> ValidFile() {
  const std::string path = ::testing::TempDir() + "bad_input_base.parquet";
  ParquetWriteOptions opt;
  opt.row_group_rows = 50;
  opt.compression = "snappy";
  auto w = ParquetWriter::Open(path, opt).value();
  std::vector<int64_t> ids;
  std::vector<std::string> s;
  std::vector<uint8_t> valid;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(i * 3);
    s.push_back("v" + std::to_string(i % 4));
    valid.push_back(i % 5 != 0);
  }
  std::vector<int64_t> offsets;
  for (int i = 0; i <= 100; ++i) offsets.push_back(i * 2);
  std::vector<float> elems(200, 0.5f);
  auto list = Column::MakeList(100, Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8}),
                               Column::FromValues<float>(elems)).value();
  EXPECT_TRUE(w->Write(Batch::Make({"id", "s", "scores"}, {Column::FromValues<int64_t>(ids), Column::FromStrings(s, DataType::String(), valid), list}).value()).ok());
  EXPECT_TRUE(w->Close().ok());
  auto f = OpenLocalFile(path).value();
  auto all = f->ReadAt(0, f->Size().value()).value();
  return std::vector<uint8_t>(all->data(), all->data() + all->size());
}

/// Opens and reads every row group whole and streamed in slices of 3 rows; returns the first
/// error (or OK). Both ways must agree on whether the file is readable.
Status ReadAll(const std::vector<uint8_t>& bytes, ParquetReadOptions options = {}) {
  auto file = MakeBufferFile(Buffer::CopyOf(bytes), "bad.parquet");
  ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(file, options));
  Status whole, streamed;
  for (int g = 0; g < reader->num_row_groups() && whole.ok(); ++g) whole = reader->ReadRowGroup(g).status();
  for (int g = 0; g < reader->num_row_groups() && streamed.ok(); ++g) {
    auto stream = reader->StreamRowGroup(g);
    streamed = stream.status();
    while (streamed.ok()) {
      auto slice = (*stream)->Next(3);
      streamed = slice.status();
      if (!slice.ok() || !*slice) break;
    }
  }
  (void)reader->Inspect();
  RETURN_IF_ERROR(whole);
  return streamed;
}

uint32_t FooterLength(const std::vector<uint8_t>& f) {
  uint32_t n;
  std::memcpy(&n, f.data() + f.size() - 8, 4);
  return n;
}

TEST(ParquetBadInputTest, ValidBaseReads) { EXPECT_TRUE(ReadAll(ValidFile()).ok()); }

TEST(ParquetBadInputTest, TruncatedAndWrongMagic) {
  auto f = ValidFile();
  Status tiny = ReadAll({f.begin(), f.begin() + 8});
  EXPECT_EQ(tiny.code(), StatusCode::kInvalidData);
  EXPECT_NE(tiny.message().find("'bad.parquet'"), std::string::npos) << tiny.ToString();
  Status cut = ReadAll({f.begin(), f.end() - 100});
  EXPECT_EQ(cut.code(), StatusCode::kInvalidData);
  EXPECT_NE(cut.message().find("PAR1"), std::string::npos) << cut.ToString();
  auto magic = f;
  std::memcpy(magic.data() + magic.size() - 4, "XXXX", 4);
  EXPECT_NE(ReadAll(magic).message().find("not a Parquet file"), std::string::npos);
  auto huge = f;
  const uint32_t big = 0x7fffffff;
  std::memcpy(huge.data() + huge.size() - 8, &big, 4);
  EXPECT_NE(ReadAll(huge).message().find("footer length"), std::string::npos);
  // The data cut away but the footer kept: chunks point outside the file.
  std::vector<uint8_t> hollow(f.begin(), f.begin() + 4);
  hollow.insert(hollow.end(), f.end() - 8 - FooterLength(f), f.end());
  Status h = ReadAll(hollow);
  EXPECT_EQ(h.code(), StatusCode::kInvalidData);
  EXPECT_NE(h.message().find("row group 0 column 'id'"), std::string::npos) << h.ToString();
}

TEST(ParquetBadInputTest, HostileThrift) {
  // A list claiming 2^31 elements, deep nesting, and truncation, all inside 20 bytes.
  const uint8_t huge_list[] = {0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07};
  parquet::CompactReader a(huge_list, sizeof huge_list, "test");
  EXPECT_NE(parquet::DecodeFileMetaData(a).status().message().find("elements with only"), std::string::npos);
  std::vector<uint8_t> deep(200, 0x1c);  // field 1, type struct, again and again
  parquet::CompactReader b(deep.data(), deep.size(), "test");
  EXPECT_NE(parquet::DecodeFileMetaData(b).status().message().find("nested deeper"), std::string::npos);
  const uint8_t long_string[] = {0x68, 0xff, 0xff, 0xff, 0x0f, 'a'};  // field 6 (created_by), 32 MiB long
  parquet::CompactReader c(long_string, sizeof long_string, "test");
  EXPECT_NE(parquet::DecodeFileMetaData(c).status().message().find("with only 1 left"), std::string::npos);
}

TEST(ParquetBadInputTest, ClaimsBeyondTheLimits) {
  auto f = ValidFile();
  ParquetReadOptions tight;
  tight.max_row_group_rows = 10;
  Status st = ReadAll(f, tight);
  EXPECT_NE(st.message().find("claims 50 rows"), std::string::npos) << st.ToString();
}

TEST(ParquetBadInputTest, CorruptRleAndDeltaDataIsRefused) {
  std::vector<uint32_t> out(100);
  const uint8_t run_past_end[] = {0x03, 0x01};  // one bit-packed group of width 8, one byte of it
  parquet::RleBitPackedDecoder d(run_past_end, sizeof run_past_end, 8);
  EXPECT_TRUE(d.Get(1, out.data()).ok());  // the values that are there decode
  EXPECT_FALSE(d.Get(99, out.data()).ok());
  const uint8_t wide_rle[] = {0x02, 0xff};  // RLE value 255 in a 1-bit stream
  parquet::RleBitPackedDecoder w(wide_rle, sizeof wide_rle, 1);
  EXPECT_FALSE(w.Get(1, out.data()).ok());
  std::vector<int64_t> values;
  size_t used;
  const uint8_t delta_claims[] = {0x80, 0x01, 0x04, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};  // 2^32 values in 9 bytes
  EXPECT_FALSE(parquet::DecodeDeltaBinaryPacked(delta_claims, sizeof delta_claims, &values, &used).ok());
  // A long constant run (width-0 miniblocks) is legitimate and must decode.
  std::vector<uint8_t> constant = {0x80, 0x01, 0x04, 0xe8, 0x07, 0x0a};  // 1000 values from 5
  for (int b = 0; b < 8; ++b) constant.insert(constant.end(), {0x00, 0, 0, 0, 0});
  ASSERT_TRUE(parquet::DecodeDeltaBinaryPacked(constant.data(), constant.size(), &values, &used).ok());
  ASSERT_EQ(values.size(), 1000u);
  EXPECT_EQ(values[999], 5);
}

// Every single-byte corruption of the file ends in OK or an error, never a crash: the fuzz
// target's job in miniature, deterministic and fast.
TEST(ParquetBadInputTest, EveryByteFlippedStaysSafe) {
  const auto f = ValidFile();
  ParquetReadOptions tight;
  tight.max_row_group_rows = 1 << 16;
  tight.max_chunk_values = 1 << 20;
  int errors = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    for (uint8_t x : {uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x01}}) {
      auto g = f;
      g[i] ^= x;
      Status st = ReadAll(g, tight);
      if (!st.ok()) {
        ++errors;
        EXPECT_NE(st.message().find("bad.parquet"), std::string::npos) << "byte " << i << ": " << st.ToString();
      }
    }
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Inputs the fuzzer once broke the reader with: they must end in a clean error.
TEST(ParquetBadInputTest, FuzzRegressions) {
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/tests/fuzz/regressions/";
  auto file = OpenLocalFile(dir + "parquet_schema_missing_children.parquet").value();
  auto bytes = file->ReadAt(0, file->Size().value()).value();
  Status st = ReadAll(std::vector<uint8_t>(bytes->data(), bytes->data() + bytes->size()));
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
  EXPECT_NE(st.message().find("bad.parquet"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace sluice
