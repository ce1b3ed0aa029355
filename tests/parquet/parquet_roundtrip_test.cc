// sluice's writer -> sluice's reader, for every type, nulls, lists, tensors and codec.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "sluice/parquet.h"

namespace sluice {
namespace {

std::string TempPath(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("sluice_pq_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

Column IntList(const std::vector<int64_t>& offsets, const std::vector<int32_t>& values, const std::vector<uint8_t>& value_valid,
               const std::vector<uint8_t>& list_valid) {
  auto off = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8});
  return Column::MakeList(static_cast<int64_t>(offsets.size()) - 1, off, Column::FromValues<int32_t>(values, value_valid),
                          list_valid.empty() ? nullptr : Buffer::CopyOf(list_valid))
      .value();
}

Batch AllTypes(int64_t base) {
  const double nan = std::nan("");
  auto tensor = Column::Allocate(DataType::Tensor(DType::kUInt8, {2, 2, 3}), 4).value();
  for (int64_t r = 0; r < 4; ++r) {
    for (int i = 0; i < 12; ++i) tensor.MutableRowData(r)[i] = static_cast<uint8_t>(base + r * 12 + i);
  }
  return Batch::Make({"id", "i32", "f32", "f64", "flag", "s", "bin", "li", "t"},
                     {Column::FromValues<int64_t>({base, -9223372036854775807LL - 1, 9007199254740993LL, 7}),
                      Column::FromValues<int32_t>({1, 2, 3, -4}, {1, 0, 1, 1}),
                      Column::FromValues<float>({1.5f, -0.0f, 3.4e38f, static_cast<float>(nan)}),
                      Column::FromValues<double>({0.1, 1.0 / 3, INFINITY, nan}, {1, 1, 1, 0}),
                      Column::FromValues<bool>(std::vector<bool>{true, false, true, true}, {1, 1, 0, 1}),
                      Column::FromStrings({"a", "", "Grüße \"q\"\n", "a"}, DataType::String(), {1, 1, 1, 0}),
                      Column::FromStrings({std::string("\0\xff", 2), "", "xyz", "b"}, DataType::Binary()),
                      IntList({0, 2, 2, 2, 5}, {1, 2, 3, 0, 5}, {1, 1, 1, 0, 1}, {1, 1, 0, 1}),
                      tensor})
      .value();
}

void ExpectSameRows(const Batch& a, const Batch& b) {
  ASSERT_EQ(a.names(), b.names());
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (int c = 0; c < a.num_columns(); ++c) {
    EXPECT_EQ(a.column(c).type(), b.column(c).type()) << a.name(c);
    if (a.column(c).type().id() == TypeId::kFloat32 || a.column(c).type().id() == TypeId::kFloat64) {
      for (int64_t r = 0; r < a.num_rows(); ++r) {  // NaN != NaN: compare bits
        EXPECT_EQ(a.column(c).IsValid(r), b.column(c).IsValid(r));
        if (a.column(c).IsValid(r)) {
          EXPECT_EQ(std::memcmp(a.column(c).RowData(r), b.column(c).RowData(r), static_cast<size_t>(a.column(c).type().fixed_row_bytes())), 0)
              << a.name(c) << " row " << r;
        }
      }
    } else {
      EXPECT_TRUE(a.column(c).Equals(b.column(c))) << a.name(c);
    }
  }
}

class RoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTripTest, AllTypesSurvive) {
  const std::string path = TempPath("all_" + GetParam() + ".parquet");
  ParquetWriteOptions opt;
  opt.compression = GetParam();
  opt.row_group_rows = 6;  // 8 rows -> row groups of 6 and 2, one split inside a batch
  auto w = ParquetWriter::Open(path, opt).value();
  ASSERT_TRUE(w->Write(AllTypes(0)).ok());
  ASSERT_TRUE(w->Write(AllTypes(100)).ok());
  ASSERT_TRUE(w->Close().ok());
  auto r = ParquetReader::Open(OpenLocalFile(path).value()).value();
  EXPECT_EQ(r->num_rows(), 8);
  ASSERT_EQ(r->num_row_groups(), 2);
  EXPECT_EQ(r->row_group_rows(0), 6);
  EXPECT_EQ(r->columns()[8].type, DataType::Tensor(DType::kUInt8, {2, 2, 3}));
  std::vector<Batch> parts{r->ReadRowGroup(0).value(), r->ReadRowGroup(1).value()};
  Batch all = Batch::Concat(parts).value();
  std::vector<Batch> in{AllTypes(0), AllTypes(100)};
  ExpectSameRows(all, Batch::Concat(in).value());
  EXPECT_NE(r->created_by().find("sluice"), std::string::npos);
  // Projection in a different order.
  Batch p = r->ReadRowGroup(1, {"s", "id"}).value();
  EXPECT_EQ(p.names(), (std::vector<std::string>{"s", "id"}));
  EXPECT_EQ(p.column(1).Value<int64_t>(0), 9007199254740993LL);  // global row 6 = row 2 of the second batch
}

/// Row group `g` read as a stream in slices of `slice` rows, concatenated.
Batch Streamed(const ParquetReader& r, int g, int64_t slice, const std::vector<std::string>& columns = {}) {
  auto stream = r.StreamRowGroup(g, columns).value();
  std::vector<Batch> parts;
  for (;;) {
    auto next = stream->Next(slice);
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || !*next) break;
    EXPECT_LE((*next)->num_rows(), slice);
    parts.push_back(std::move(**next));
  }
  EXPECT_EQ(stream->buffered_bytes(), 0);
  return Batch::Concat(parts).value();
}

TEST_P(RoundTripTest, StreamedSlicesEqualWholeRowGroups) {
  const std::string path = TempPath("stream_" + GetParam() + ".parquet");
  ParquetWriteOptions opt;
  opt.compression = GetParam();
  opt.row_group_rows = 6;
  auto w = ParquetWriter::Open(path, opt).value();
  ASSERT_TRUE(w->Write(AllTypes(0)).ok());
  ASSERT_TRUE(w->Write(AllTypes(100)).ok());
  ASSERT_TRUE(w->Close().ok());
  auto r = ParquetReader::Open(OpenLocalFile(path).value()).value();
  for (int g = 0; g < 2; ++g) {
    for (int64_t slice : {1, 4, 100}) ExpectSameRows(Streamed(*r, g, slice), r->ReadRowGroup(g).value());
  }
  ExpectSameRows(Streamed(*r, 1, 1, {"s", "id"}), r->ReadRowGroup(1, {"s", "id"}).value());
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTripTest, ::testing::Values("none", "snappy", "gzip", "zstd", "lz4_raw", "brotli"));

TEST(ParquetWriterTest, DictionaryAndManyPages) {
  const std::string path = TempPath("dict.parquet");
  std::vector<std::string> s;
  std::vector<int64_t> ids;
  for (int i = 0; i < 20000; ++i) {
    s.push_back("label_" + std::to_string(i % 7));
    ids.push_back(i);
  }
  ParquetWriteOptions opt;
  opt.page_bytes = 4096;
  auto w = ParquetWriter::Open(path, opt).value();
  Batch b = Batch::Make({"id", "s"}, {Column::FromValues<int64_t>(ids), Column::FromStrings(s)}).value();
  ASSERT_TRUE(w->Write(b).ok());
  ASSERT_TRUE(w->Close().ok());
  auto r = ParquetReader::Open(OpenLocalFile(path).value()).value();
  const std::string info = r->Inspect();
  EXPECT_NE(info.find("RLE_DICTIONARY"), std::string::npos) << info;
  EXPECT_NE(info.find("min \"label_0\""), std::string::npos) << info;
  EXPECT_NE(info.find("max 19999"), std::string::npos) << info;
  ExpectSameRows(r->ReadRowGroup(0).value(), b);
}

TEST(ParquetStreamTest, ManySmallPagesListsAndLargeTensorsStreamInBoundedMemory) {
  const std::string path = TempPath("stream_pages.parquet");
  std::vector<std::string> s;
  std::vector<int64_t> ids, offsets{0};
  std::vector<int32_t> values;
  const int64_t rows = 3000;
  auto tensor = Column::Allocate(DataType::Tensor(DType::kUInt8, {64, 64, 3}), rows).value();  // 12 KiB a row, 36 MiB
  for (int64_t i = 0; i < rows; ++i) {
    s.push_back("label_" + std::to_string(i % 7));
    ids.push_back(i);
    for (int64_t k = 0; k < i % 5; ++k) values.push_back(static_cast<int32_t>(i * 10 + k));
    offsets.push_back(static_cast<int64_t>(values.size()));
    std::memset(tensor.MutableRowData(i), static_cast<int>(i % 251), 64 * 64 * 3);
  }
  auto off = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8});
  Column list = Column::MakeList(rows, off, Column::FromValues<int32_t>(values)).value();
  ParquetWriteOptions opt;
  opt.page_bytes = 4096;
  opt.compression = "none";
  auto w = ParquetWriter::Open(path, opt).value();
  Batch b = Batch::Make({"id", "s", "li", "t"}, {Column::FromValues<int64_t>(ids), Column::FromStrings(s), list, tensor}).value();
  ASSERT_TRUE(w->Write(b).ok());
  ASSERT_TRUE(w->Close().ok());
  auto r = ParquetReader::Open(OpenLocalFile(path).value()).value();
  ASSERT_EQ(r->num_row_groups(), 1);
  for (int64_t slice : {7, 1000}) ExpectSameRows(Streamed(*r, 0, slice), b);
  // What the stream holds stays near one window per column plus the slice, not the 36 MiB group.
  auto stream = r->StreamRowGroup(0).value();
  int64_t most = 0;
  while (auto next = stream->Next(32).value()) most = std::max(most, stream->buffered_bytes());
  EXPECT_GT(most, 0);
  EXPECT_LT(most, int64_t{8} << 20) << most;
}

TEST(ParquetWriterTest, EmptyFileKeepsItsSchema) {
  const std::string path = TempPath("empty.parquet");
  auto w = ParquetWriter::Open(path).value();
  Batch schema = Batch::Make({"id", "li"}, {EmptyColumn(DataType::Int64()), EmptyColumn(DataType::List(DataType::Float32()))}).value();
  ASSERT_TRUE(w->Write(schema).ok());
  ASSERT_TRUE(w->Close().ok());
  auto r = ParquetReader::Open(OpenLocalFile(path).value()).value();
  EXPECT_EQ(r->num_rows(), 0);
  EXPECT_EQ(r->num_row_groups(), 0);
  ASSERT_EQ(r->columns().size(), 2u);
  EXPECT_EQ(r->columns()[1].type, DataType::List(DataType::Float32()));
}

TEST(ParquetWriterTest, AbortLeavesNothingAndMismatchIsRefused) {
  const std::string path = TempPath("aborted.parquet");
  {
    auto w = ParquetWriter::Open(path).value();
    ASSERT_TRUE(w->Write(AllTypes(0)).ok());
    Batch other = Batch::Make({"x"}, {Column::FromValues<int32_t>({1})}).value();
    Status st = w->Write(other);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("does not match"), std::string::npos);
  }  // destroyed without Close: aborted
  EXPECT_FALSE(std::filesystem::exists(path));
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    EXPECT_EQ(e.path().filename().string().find(".aborted.parquet.tmp"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice
