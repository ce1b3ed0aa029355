#include <gtest/gtest.h>

#include "sluice/batch.h"

namespace sluice {
namespace {

Batch MakeBatch(std::vector<int64_t> ids, std::vector<std::string> names, std::vector<uint8_t> validity = {}) {
  auto id_col = Column::FromValues<int64_t>(ids);
  auto name_col = Column::FromStrings(names, DataType::String(), validity);
  return Batch::Make({"id", "name"}, {id_col, name_col}).value();
}

TEST(ColumnTest, NumericValuesNullsAndBytes) {
  auto c = Column::FromValues<int32_t>({1, 2, 3, 4}, {1, 0, 1, 1});
  EXPECT_EQ(c.type(), DataType::Int32());
  EXPECT_EQ(c.length(), 4);
  EXPECT_EQ(c.null_count(), 1);
  EXPECT_FALSE(c.IsValid(1));
  EXPECT_EQ(c.Value<int32_t>(3), 4);
  EXPECT_EQ(c.ByteSize(), 4 * 4 + 4);  // values + one validity byte per row
  auto no_nulls = Column::FromValues<double>({1.5, 2.5});
  EXPECT_FALSE(no_nulls.has_validity());
  EXPECT_EQ(no_nulls.ByteSize(), 16);
  auto flags = Column::FromValues<bool>(std::vector<bool>{true, false, true});
  EXPECT_TRUE(flags.Value<bool>(0));
  EXPECT_FALSE(flags.Value<bool>(1));
  EXPECT_EQ(flags.ByteSize(), 3);
}

TEST(ColumnTest, StringSliceIsZeroCopyAndCountsOnlyItsRows) {
  auto c = Column::FromStrings({"a", "bcd", "", "efgh"}, DataType::String(), {1, 1, 0, 1});
  EXPECT_EQ(c.ValueBytes(1), "bcd");
  EXPECT_EQ(c.null_count(), 1);
  // 8 value bytes + 5 offsets * 8 + 4 validity bytes
  EXPECT_EQ(c.ByteSize(), 8 + 5 * 8 + 4);
  auto s = c.Slice(1, 2);
  EXPECT_EQ(s.values_buffer().get(), c.values_buffer().get());
  EXPECT_EQ(s.length(), 2);
  EXPECT_EQ(s.ValueBytes(0), "bcd");
  EXPECT_FALSE(s.IsValid(1));
  EXPECT_EQ(s.ByteSize(), 3 + 3 * 8 + 2);
  auto tail = c.Slice(3, 1);
  EXPECT_EQ(tail.ValueBytes(0), "efgh");
  EXPECT_EQ(tail.null_count(), 0);
}

TEST(ColumnTest, TensorAllocateFillSliceConcat) {
  auto t = Column::Allocate(DataType::Tensor(DType::kUInt8, {2, 2, 3}), 3).value();
  for (int64_t r = 0; r < 3; ++r) {
    for (int i = 0; i < 12; ++i) t.MutableRowData(r)[i] = static_cast<uint8_t>(r * 12 + i);
  }
  EXPECT_EQ(t.ByteSize(), 36);
  EXPECT_EQ(t.TensorShape(), (std::vector<int64_t>{3, 2, 2, 3}));
  auto s = t.Slice(1, 2);
  EXPECT_EQ(s.RowData(0)[0], 12);
  EXPECT_EQ(s.ByteSize(), 24);
  std::vector<Column> parts{t.Slice(2, 1), t.Slice(0, 1)};
  auto joined = Column::Concat(parts).value();
  EXPECT_EQ(joined.length(), 2);
  EXPECT_EQ(joined.RowData(0)[0], 24);
  EXPECT_EQ(joined.RowData(1)[11], 11);
  auto f16 = DataType::Tensor(DType::kFloat16, {3, 224, 224});
  EXPECT_EQ(f16.fixed_row_bytes(), 2 * 3 * 224 * 224);
  EXPECT_EQ(f16.ToString(), "tensor<float16>[3,224,224]");
}

TEST(ColumnTest, ConcatMixesNullAndNonNullParts) {
  auto a = Column::FromStrings({"x", "yy"});
  auto b = Column::FromStrings({"", "zzz"}, DataType::String(), {0, 1});
  std::vector<Column> parts{a, b.Slice(0, 2), a.Slice(1, 1)};
  auto c = Column::Concat(parts).value();
  ASSERT_EQ(c.length(), 5);
  EXPECT_EQ(c.ValueBytes(1), "yy");
  EXPECT_FALSE(c.IsValid(2));
  EXPECT_EQ(c.ValueBytes(3), "zzz");
  EXPECT_EQ(c.ValueBytes(4), "yy");
  EXPECT_EQ(c.null_count(), 1);
  auto expected = Column::FromStrings({"x", "yy", "", "zzz", "yy"}, DataType::String(), {1, 1, 0, 1, 1});
  EXPECT_TRUE(c.Equals(expected));
}

TEST(ColumnTest, ConcatRejectsMismatchedTypes) {
  std::vector<Column> parts{Column::FromValues<int64_t>({1}), Column::FromValues<int32_t>({1})};
  auto r = Column::Concat(parts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("int32"), std::string::npos);
}

TEST(ColumnTest, FromBuffersValidatesLayout) {
  auto values = Buffer::CopyOf(std::vector<uint8_t>(10));
  auto r = Column::FromBuffers(DataType::Int64(), 2, values);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs 16"), std::string::npos);
  std::vector<int64_t> bad_offsets{0, 5, 3};
  auto offsets = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(bad_offsets.data()), 24});
  auto s = Column::FromBuffers(DataType::Binary(), 2, values, offsets);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("decrease at row 1"), std::string::npos);
  std::vector<int64_t> past_end{0, 5, 11};
  auto offsets2 = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(past_end.data()), 24});
  EXPECT_FALSE(Column::FromBuffers(DataType::Binary(), 2, values, offsets2).ok());
}

TEST(BatchTest, MakeChecksNamesAndLengths) {
  auto a = Column::FromValues<int64_t>({1, 2});
  auto b = Column::FromValues<int64_t>({1});
  EXPECT_FALSE(Batch::Make({"a", "b"}, {a, b}).ok());
  EXPECT_FALSE(Batch::Make({"a", "a"}, {a, a}).ok());
  EXPECT_FALSE(Batch::Make({""}, {a}).ok());
  EXPECT_TRUE(Batch::Make({"a", "b"}, {a, a}).ok());
}

TEST(BatchTest, SliceConcatAndByteSize) {
  Batch b = MakeBatch({1, 2, 3, 4, 5}, {"a", "bb", "ccc", "dddd", "e"}, {1, 1, 0, 1, 1});
  EXPECT_EQ(b.num_rows(), 5);
  EXPECT_EQ(b.ByteSize(), 5 * 8 + (1 + 2 + 4 + 1) + 6 * 8 + 5);  // a null stores no bytes
  Batch head = b.Slice(0, 2), tail = b.Slice(2, 3);
  EXPECT_EQ(head.ByteSize() + tail.ByteSize(), b.ByteSize() + 8);  // one offset is shared by both slices
  std::vector<Batch> parts{head, tail};
  Batch joined = Batch::Concat(parts).value();
  EXPECT_TRUE(joined.Equals(b));
  EXPECT_EQ(joined.ByteSize(), b.ByteSize());
  EXPECT_FALSE(joined.column(1).IsValid(2));
}

TEST(BatchTest, ConcatRejectsDifferentSchemas) {
  Batch a = MakeBatch({1}, {"x"});
  Batch c = Batch::Make({"id"}, {Column::FromValues<int64_t>({1})}).value();
  std::vector<Batch> parts{a, c};
  auto r = Batch::Concat(parts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(BatchTest, GetColumnNamesTheMissingColumn) {
  Batch a = MakeBatch({1}, {"x"});
  auto r = a.GetColumn("image");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("'image'"), std::string::npos);
  EXPECT_NE(r.status().message().find("id int64"), std::string::npos);
  auto with = a.WithColumn("score", Column::FromValues<float>({0.5f})).value();
  EXPECT_EQ(with.num_columns(), 3);
  EXPECT_FALSE(a.WithColumn("bad", Column::FromValues<float>({0.5f, 1.f})).ok());
  auto sel = with.Select({"score", "id"}).value();
  EXPECT_EQ(sel.name(0), "score");
}

TEST(StatusTest, ResultAndMacros) {
  auto f = [](bool fail) -> Result<int> {
    if (fail) return Status::InvalidData("row 3 of 'x.parquet': bad");
    return 7;
  };
  auto g = [&](bool fail) -> Status {
    ASSIGN_OR_RETURN(int v, f(fail));
    EXPECT_EQ(v, 7);
    return Status::OK();
  };
  EXPECT_TRUE(g(false).ok());
  Status s = g(true);
  EXPECT_EQ(s.code(), StatusCode::kInvalidData);
  EXPECT_TRUE(s.IsUserError());
  EXPECT_EQ(s.WithContext("stage 'decode'").ToString(), "InvalidData: stage 'decode': row 3 of 'x.parquet': bad");
  EXPECT_FALSE(Status::Internal("x").IsUserError());
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

Column MakeIntList(const std::vector<int64_t>& offsets, const std::vector<int32_t>& values,
                   const std::vector<uint8_t>& value_validity, const std::vector<uint8_t>& list_validity) {
  auto child = Column::FromValues<int32_t>(values, value_validity);
  auto off = Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8});
  std::shared_ptr<Buffer> valid;
  if (!list_validity.empty()) valid = Buffer::CopyOf(list_validity);
  return Column::MakeList(static_cast<int64_t>(offsets.size()) - 1, off, child, valid).value();
}

TEST(ListColumnTest, RowsSlicesBytesAndNulls) {
  // [[1, 2], [], null, [3, null, 5]]
  Column c = MakeIntList({0, 2, 2, 2, 5}, {1, 2, 3, 0, 5}, {1, 1, 1, 0, 1}, {1, 1, 0, 1});
  EXPECT_EQ(c.type(), DataType::List(DataType::Int32()));
  EXPECT_EQ(c.type().ToString(), "list<int32>");
  EXPECT_EQ(c.null_count(), 1);
  EXPECT_EQ(c.ListEnd(0) - c.ListBegin(0), 2);
  EXPECT_EQ(c.ListEnd(1) - c.ListBegin(1), 0);
  EXPECT_FALSE(c.child().IsValid(c.ListBegin(3) + 1));
  // offsets 5 * 8 + list validity 4 + child: 5 values * 4 + 5 validity bytes
  EXPECT_EQ(c.ByteSize(), 40 + 4 + 20 + 5);
  Column tail = c.Slice(3, 1);
  EXPECT_EQ(tail.ByteSize(), 16 + 1 + 12 + 3);
  EXPECT_EQ(tail.child().Value<int32_t>(tail.ListBegin(0)), 3);
}

TEST(ListColumnTest, ConcatRebasesOffsets) {
  Column c = MakeIntList({0, 2, 2, 2, 5}, {1, 2, 3, 0, 5}, {1, 1, 1, 0, 1}, {1, 1, 0, 1});
  std::vector<Column> parts{c.Slice(3, 1), c.Slice(0, 3)};
  Column j = Column::Concat(parts).value();
  Column expected = MakeIntList({0, 3, 5, 5, 5}, {3, 0, 5, 1, 2}, {1, 0, 1, 1, 1}, {1, 1, 1, 0});
  EXPECT_TRUE(j.Equals(expected));
  EXPECT_FALSE(j.Equals(c));
  auto bad = Column::MakeList(1, Buffer::CopyOf(std::vector<uint8_t>(16, 0xff)), Column::FromValues<int32_t>({1}));
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(TakeTest, RowsInAnyOrderWithNullsAndLists) {
  std::vector<int64_t> off{0, 2, 2, 5};
  auto list = Column::MakeList(3, Buffer::CopyOf({reinterpret_cast<const uint8_t*>(off.data()), off.size() * 8}),
                               Column::FromValues<int32_t>({1, 2, 3, 4, 5}, {1, 0, 1, 1, 1}), Buffer::CopyOf(std::vector<uint8_t>{1, 0, 1}))
                  .value();
  Batch b = Batch::Make({"s", "l"}, {Column::FromStrings({"x", "yy", "zzz"}, DataType::String(), {1, 0, 1}), list}).value();
  std::vector<int64_t> rows{2, 0, 2};
  Batch t = b.Take(rows).value();
  ASSERT_EQ(t.num_rows(), 3);
  EXPECT_EQ(t.column(0).ValueBytes(0), "zzz");
  EXPECT_EQ(t.column(0).ValueBytes(1), "x");
  const Column& l = t.column(1);
  EXPECT_EQ(l.ListEnd(0) - l.ListBegin(0), 3);
  EXPECT_EQ(l.child().Value<int32_t>(l.ListBegin(0) + 2), 5);
  EXPECT_FALSE(l.child().IsValid(l.ListBegin(1) + 1));
  EXPECT_TRUE(l.IsValid(2));
  std::vector<int64_t> bad{3};
  EXPECT_FALSE(b.Take(bad).ok());
}

}  // namespace
}  // namespace sluice
