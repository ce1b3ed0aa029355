// The executor's internal parts: the ordered stage input and the rebatcher.
#include <gtest/gtest.h>

#include "rebatcher.h"
#include "stage_input.h"

namespace sluice::exec {
namespace {

Item Keyed(int64_t major, int64_t minor, bool last = false) {
  Item it;
  it.key = {major, minor, last};
  it.bytes = 10;
  return it;
}

TEST(StageInputTest, OrderedReleasesInKeyOrderAcrossTasks) {
  StageInput in(true);
  in.Push(Keyed(1, 0, true));
  in.Push(Keyed(0, 1, true));
  EXPECT_FALSE(in.HasReady());
  EXPECT_EQ(in.batches(), 2);
  EXPECT_EQ(in.bytes(), 20);
  in.Push(Keyed(0, 0));
  ASSERT_TRUE(in.HasReady());
  EXPECT_EQ(in.PopReady().key.minor, 0);
  ASSERT_TRUE(in.HasReady());
  EXPECT_TRUE(in.PopReady().key.last);
  ASSERT_TRUE(in.HasReady());
  EXPECT_EQ(in.PopReady().key.major, 1);
  EXPECT_TRUE(in.empty());
}

TEST(StageInputTest, UnorderedIsFifo) {
  StageInput in(false);
  in.Push(Keyed(5, 0));
  in.Push(Keyed(1, 0));
  EXPECT_EQ(in.PopReady().key.major, 5);
  EXPECT_EQ(in.PopReady().key.major, 1);
}

Batch Rows(int64_t first, int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(first + i);
  return Batch::Make({"id"}, {Column::FromValues<int64_t>(v)}).value();
}

TEST(RebatcherTest, ExactSizesAcrossInputsAndShortLast) {
  Rebatcher r(4);
  EXPECT_EQ(r.OutputsFor(3), 0);
  EXPECT_TRUE(r.Add(Rows(0, 3)).value().empty());
  EXPECT_EQ(r.OutputsFor(10), 3);
  auto out = r.Add(Rows(3, 10)).value();
  ASSERT_EQ(out.size(), 3u);
  int64_t next = 0;
  for (const auto& b : out) {
    ASSERT_EQ(b.num_rows(), 4);
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(b.column(0).Value<int64_t>(i), next++);
  }
  EXPECT_EQ(r.pending_rows(), 1);
  EXPECT_EQ(r.pending_bytes(), 8);
  auto last = r.Flush().value();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].num_rows(), 1);
  EXPECT_EQ(last[0].column(0).Value<int64_t>(0), 12);
  EXPECT_EQ(r.pending_bytes(), 0);
  EXPECT_TRUE(r.Flush().value().empty());
}

TEST(RebatcherTest, SlicesWithinOneInputAreZeroCopy) {
  Rebatcher r(2);
  Batch in = Rows(0, 6);
  auto out = r.Add(in).value();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].column(0).values_buffer().get(), in.column(0).values_buffer().get());
}

}  // namespace
}  // namespace sluice::exec
