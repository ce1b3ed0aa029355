// ParquetSource in the executor: row-group range tasks, order, projection, tensors, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "sluice/executor.h"
#include "sluice/parquet_source.h"

namespace sluice {
namespace {

/// A file of `groups` row groups of 10 rows: id, and pixels as list<int32> of 2x2x3 values.
std::string MakeFile(const std::string& name, int64_t first_id, int groups) {
  const std::string path = ::testing::TempDir() + name;
  ParquetWriteOptions opt;
  opt.row_group_rows = 10;
  auto w = ParquetWriter::Open(path, opt).value();
  const int64_t rows = 10 * groups;
  std::vector<int64_t> ids, offsets{0};
  std::vector<int32_t> px;
  for (int64_t r = 0; r < rows; ++r) {
    ids.push_back(first_id + r);
    for (int i = 0; i < 12; ++i) px.push_back(static_cast<int32_t>((r + i) % 256));
    offsets.push_back(static_cast<int64_t>(px.size()));
  }
  auto list = Column::MakeList(rows, Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8}),
                               Column::FromValues<int32_t>(px)).value();
  EXPECT_TRUE(w->Write(Batch::Make({"id", "pixels", "extra"}, {Column::FromValues<int64_t>(ids), list, Column::FromValues<int64_t>(ids)}).value()).ok());
  EXPECT_TRUE(w->Close().ok());
  return path;
}

struct Collect : Sink {
  std::mutex* mu;
  std::vector<int64_t>* ids;
  std::vector<std::string>* names;
  Status Write(Batch b, TaskContext&) override {
    std::lock_guard lock(*mu);
    *names = b.names();
    auto px = b.GetColumn("pixels");
    if (!px.ok() || px->type() != DataType::Tensor(DType::kUInt8, {2, 2, 3})) return Status::Internal("pixels is not a tensor");
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      const int64_t id = b.column(0).Value<int64_t>(r);
      if (px->RowData(r)[5] != static_cast<uint8_t>((id % 1000 + 5) % 256)) return Status::Internal("pixel mismatch");
      ids->push_back(id);
    }
    return Status::OK();
  }
};

TEST(ParquetSourceTest, RowGroupRangesFeedParallelTasksInOrder) {
  ParquetSourceOptions so;
  so.paths = {MakeFile("src_a.parquet", 0, 7), MakeFile("src_b.parquet", 1000, 3)};
  so.columns = {"id", "pixels"};
  so.row_groups_per_task = 2;
  so.tensor_columns["pixels"] = TensorSpec{DType::kUInt8, {2, 2, 3}};
  std::mutex mu;
  std::vector<int64_t> ids;
  std::vector<std::string> names;
  Plan plan;
  plan.AddSource("read", std::make_shared<ParquetSource>(so), 3).AddSink("collect", [&](int) -> Result<std::unique_ptr<Sink>> {
    auto s = std::make_unique<Collect>();
    s->mu = &mu;
    s->ids = &ids;
    s->names = &names;
    return std::unique_ptr<Sink>(std::move(s));
  });
  ExecutorOptions opt;
  opt.preserve_order = true;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok()) << stats.status;
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 70; ++i) expected.push_back(i);
  for (int64_t i = 0; i < 30; ++i) expected.push_back(1000 + i);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "pixels"}));
  EXPECT_EQ(stats.stages[0].batches_out, 10);
}

TEST(ParquetSourceTest, MissingFileAndBadShapeNameTheFile) {
  ParquetSourceOptions so;
  so.paths = {"/nonexistent/x.parquet"};
  Plan plan;
  plan.AddSource("read", std::make_shared<ParquetSource>(so)).AddSink("s", [](int) -> Result<std::unique_ptr<Sink>> {
    struct Drop : Sink {
      Status Write(Batch, TaskContext&) override { return Status::OK(); }
    };
    return std::unique_ptr<Sink>(new Drop());
  });
  Status st = Execute(plan, {});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("/nonexistent/x.parquet"), std::string::npos) << st.ToString();

  const std::string path = MakeFile("src_c.parquet", 0, 1);
  auto reader = ParquetReader::Open(OpenLocalFile(path).value()).value();
  Batch b = reader->ReadRowGroup(0).value();
  Status bad = ColumnToTensor(b.GetColumn("pixels").value(), TensorSpec{DType::kUInt8, {4, 4, 3}}, "'c' column 'pixels'").status();
  EXPECT_NE(bad.message().find("12 elements"), std::string::npos) << bad.ToString();
  EXPECT_NE(bad.message().find("row 0"), std::string::npos);
}

}  // namespace
}  // namespace sluice
