// Streaming, stage kinds, backpressure and the memory budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "collecting_sink.h"
#include "sluice/executor.h"

namespace sluice {
namespace {

using testing::Collected;
using testing::AheadTracker;
using testing::CollectInto;
using testing::SleepingMap;
using testing::SleepMs;

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

/// Adds a column recording which replica processed the batch.
class TagActor : public Actor {
 public:
  explicit TagActor(int replica) : replica_(replica) {}
  Result<Batch> Process(Batch batch, TaskContext& ctx) override {
    EXPECT_EQ(ctx.replica(), replica_);
    std::vector<int32_t> tag(static_cast<size_t>(batch.num_rows()), replica_);
    return batch.WithColumn("replica", Column::FromValues<int32_t>(tag));
  }

 private:
  int replica_;
};

TEST(ExecutorTest, EveryStageKindStreamsEveryRowOnce) {
  SyntheticSourceOptions so;
  so.tasks = 5;
  so.batches_per_task = 7;
  so.rows = 33;
  auto source = std::make_shared<SyntheticSource>(so);
  Collected out;
  std::set<int> replicas_seen;
  std::mutex mu;
  Plan plan;
  plan.AddSource("read", source, 3)
      .AddMap("double", [](Batch b, TaskContext&) -> Result<Batch> {
        ASSIGN_OR_RETURN(auto ids, b.GetColumn("id"));
        std::vector<int64_t> d(static_cast<size_t>(ids.length()));
        for (int64_t i = 0; i < ids.length(); ++i) d[static_cast<size_t>(i)] = 2 * ids.Value<int64_t>(i);
        return b.WithColumn("twice", Column::FromValues<int64_t>(d));
      })
      .AddRebatch("rebatch", 100)
      .AddActor("tag", [](int r) -> Result<std::unique_ptr<Actor>> { return std::unique_ptr<Actor>(new TagActor(r)); }, 2)
      .AddSink("collect", CollectInto(&out, [&](const Batch& b) {
        auto twice = b.GetColumn("twice").value();
        auto ids = b.GetColumn("id").value();
        for (int64_t i = 0; i < b.num_rows(); ++i) EXPECT_EQ(twice.Value<int64_t>(i), 2 * ids.Value<int64_t>(i));
        std::lock_guard lock(mu);
        replicas_seen.insert(b.GetColumn("replica").value().Value<int32_t>(0));
        return Status::OK();
      }));
  ExecutorOptions opt;
  opt.cpu_threads = 4;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok()) << stats.status;
  const int64_t total = 5 * 7 * 33;
  std::sort(out.ids.begin(), out.ids.end());
  EXPECT_EQ(out.ids, Iota(total));
  // Rebatched to exactly 100 rows, the last one short.
  int64_t short_batches = 0;
  for (int64_t n : out.batch_rows) short_batches += n != 100;
  EXPECT_EQ(short_batches, 1);
  EXPECT_EQ(out.batch_rows.size(), static_cast<size_t>((total + 99) / 100));
  EXPECT_EQ(out.finished.load(), 1);
  EXPECT_EQ(out.aborted.load(), 0);
  EXPECT_EQ(stats.status, "OK");
  ASSERT_EQ(stats.stages.size(), 5u);
  EXPECT_EQ(stats.stages[0].rows_out, total);
  EXPECT_EQ(stats.stages[1].rows_in, total);
  EXPECT_EQ(stats.stages[2].batches_out, static_cast<int64_t>(out.batch_rows.size()));
  EXPECT_EQ(stats.stages[4].rows_in, total);
  for (const auto& s : stats.stages) EXPECT_TRUE(s.done) << s.name;
  EXPECT_EQ(stats.in_flight_bytes, 0);
}

TEST(ExecutorTest, ActorReplicasShareTheWork) {
  SyntheticSourceOptions so;
  so.batches_per_task = 40;
  so.rows = 4;
  Collected out;
  std::atomic<int> created{0};
  std::mutex mu;
  std::set<int32_t> seen;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddActor("slow", [&](int r) -> Result<std::unique_ptr<Actor>> {
        created.fetch_add(1);
        struct Slow : TagActor {
          using TagActor::TagActor;
          Result<Batch> Process(Batch b, TaskContext& ctx) override {
            SleepMs(2);
            return TagActor::Process(std::move(b), ctx);
          }
        };
        return std::unique_ptr<Actor>(new Slow(r));
      }, 3)
      .AddSink("collect", CollectInto(&out, [&](const Batch& b) {
        std::lock_guard lock(mu);
        seen.insert(b.GetColumn("replica").value().Value<int32_t>(0));
        return Status::OK();
      }));
  ASSERT_TRUE(Execute(plan, {}).ok());
  EXPECT_EQ(created.load(), 3);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2}));
  EXPECT_EQ(out.ids.size(), 160u);
}

// A slow sink must stop the source: the data set (30 MiB) is 15x the budget (2 MiB), and the
// measured peak of bytes in flight stays under the budget.
TEST(ExecutorTest, SlowSinkBackpressuresTheSourceUnderTheBudget) {
  SyntheticSourceOptions so;
  so.tasks = 4;
  so.batches_per_task = 30;
  so.rows = 16;
  so.payload_shape = {16 * 1024};  // 256 KiB per batch
  auto source = std::make_shared<SyntheticSource>(so);
  Collected out;
  AheadTracker ahead(source.get());
  Plan plan;
  plan.AddSource("read", source, 2)
      .AddMap("touch", SleepingMap(0))
      .AddSink("slow", CollectInto(&out, [&](const Batch&) {
        SleepMs(10);  // far slower than the source, also under TSan
        ahead.OnWrite();
        return Status::OK();
      }));
  ExecutorOptions opt;
  opt.cpu_threads = 4;
  opt.memory_budget = 2 << 20;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok()) << stats.status;
  EXPECT_EQ(out.ids.size(), static_cast<size_t>(4 * 30 * 16));
  const int64_t batch_bytes = 16 * (16 * 1024 + 8);
  EXPECT_LE(stats.peak_in_flight_bytes, opt.memory_budget);
  EXPECT_GE(stats.peak_in_flight_bytes, 4 * batch_bytes);  // the budget was used, not starved
  // The source never ran more than a budget's worth of batches ahead of the sink.
  EXPECT_LE(ahead.max_ahead(), opt.memory_budget / batch_bytes + 1);
  EXPECT_GT(stats.stages[0].blocked_s, 0.1);
}

// Small queues bound the source even with a huge budget.
TEST(ExecutorTest, QueueLimitsBoundBatchesInFlight) {
  SyntheticSourceOptions so;
  so.batches_per_task = 100;
  so.rows = 2;
  auto source = std::make_shared<SyntheticSource>(so);
  Collected out;
  AheadTracker ahead(source.get());
  Plan plan;
  plan.AddSource("read", source)
      .AddMap("m", SleepingMap(0), Concurrency::Fixed(1))
      .WithInputLimits({2, 0})
      .AddSink("slow", CollectInto(&out, [&](const Batch&) {
        SleepMs(1);
        ahead.OnWrite();
        return Status::OK();
      }))
      .WithInputLimits({2, 0});
  ASSERT_TRUE(Execute(plan, {}).ok());
  // map input (2) + map running (1) + sink input (2) + reading (1)
  EXPECT_LE(ahead.max_ahead(), 6);
  EXPECT_EQ(out.ids.size(), 200u);
}

// A map that grows data 16x (decode-like) stays within the budget too.
TEST(ExecutorTest, GrowingMapStaysWithinBudget) {
  SyntheticSourceOptions so;
  so.tasks = 2;
  so.batches_per_task = 60;
  so.rows = 8;
  so.payload_shape = {4096};  // 32 KiB in
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddMap("grow", [](Batch b, TaskContext&) -> Result<Batch> {
        ASSIGN_OR_RETURN(auto big, Column::Allocate(DataType::Tensor(DType::kUInt8, {65536}), b.num_rows()));
        ASSIGN_OR_RETURN(auto ids, b.GetColumn("id"));
        return Batch::Make({"id", "decoded"}, {ids, big});  // 512 KiB out
      })
      .AddSink("slow", CollectInto(&out, [](const Batch&) {
        SleepMs(2);
        return Status::OK();
      }));
  ExecutorOptions opt;
  opt.cpu_threads = 4;
  opt.memory_budget = 4 << 20;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok()) << stats.status;
  EXPECT_EQ(out.ids.size(), 960u);
  // One map task may be admitted before its growth is known; after that the budget holds.
  EXPECT_LE(stats.peak_in_flight_bytes, opt.memory_budget + (8 * 65536 + 64));
}

TEST(ExecutorTest, BatchLargerThanTheBudgetStillRunsAlone) {
  SyntheticSourceOptions so;
  so.batches_per_task = 3;
  so.rows = 4;
  so.payload_shape = {1 << 20};
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so)).AddSink("s", CollectInto(&out));
  ExecutorOptions opt;
  opt.memory_budget = 1 << 20;
  ASSERT_TRUE(Execute(plan, opt).ok());
  EXPECT_EQ(out.ids.size(), 12u);
}

TEST(ExecutorTest, EmptySourceFinishes) {
  SyntheticSourceOptions so;
  so.tasks = 0;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so)).AddRebatch("r", 4).AddSink("s", CollectInto(&out));
  ASSERT_TRUE(Execute(plan, {}).ok());
  EXPECT_TRUE(out.ids.empty());
  EXPECT_EQ(out.finished.load(), 1);
}

TEST(ExecutorTest, InvalidPlansAreRejectedWithTheStageNamed) {
  Collected out;
  Plan no_sink;
  no_sink.AddSource("read", std::make_shared<SyntheticSource>(SyntheticSourceOptions{}));
  EXPECT_EQ(Execute(no_sink, {}).code(), StatusCode::kInvalidArgument);
  Plan dup;
  dup.AddSource("x", std::make_shared<SyntheticSource>(SyntheticSourceOptions{})).AddSink("x", CollectInto(&out));
  EXPECT_NE(Execute(dup, {}).message().find("'x'"), std::string::npos);
  Plan zero;
  zero.AddSource("read", std::make_shared<SyntheticSource>(SyntheticSourceOptions{}))
      .AddRebatch("r", 0)
      .AddSink("s", CollectInto(&out));
  EXPECT_NE(Execute(zero, {}).message().find("'r'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
