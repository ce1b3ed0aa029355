// Liveness: reads that hold more than the budget, partial batches that need the last rows,
// and the no-progress watchdog.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "collecting_sink.h"
#include "sluice/executor.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Collected;
using testing::CollectInto;
using testing::SleepMs;

/// Tasks that each "read" one row group of `rows` rows at once and hand it out `slice` rows at
/// a time, reporting the whole group as buffered (what a Parquet task holding a 94 MiB row
/// group under a 64 MiB budget did).
class BigRowGroupSource : public Source {
 public:
  BigRowGroupSource(int tasks, int64_t rows, int64_t slice, int64_t buffered)
      : tasks_(tasks), rows_(rows), slice_(slice), buffered_(buffered) {}
  Result<std::unique_ptr<ReadTask>> NextTask() override {
    if (next_ >= tasks_) return std::unique_ptr<ReadTask>();
    return std::unique_ptr<ReadTask>(new Task(this, next_++));
  }

 private:
  class Task : public ReadTask {
   public:
    Task(const BigRowGroupSource* s, int index) : s_(s), index_(index) {}
    Result<std::optional<Batch>> Next(TaskContext&) override {
      if (at_ >= s_->rows_) return std::optional<Batch>();
      const int64_t n = std::min(s_->slice_, s_->rows_ - at_);
      std::vector<int64_t> ids;
      for (int64_t i = 0; i < n; ++i) ids.push_back(index_ * s_->rows_ + at_ + i);
      at_ += n;
      ASSIGN_OR_RETURN(Batch b, Batch::Make({"id"}, {Column::FromValues(ids)}));
      return std::optional<Batch>(std::move(b));
    }
    int64_t buffered_bytes() const override { return at_ < s_->rows_ ? s_->buffered_ : 0; }
    std::string Describe() const override { return "row group " + std::to_string(index_); }

   private:
    const BigRowGroupSource* s_;
    int index_;
    int64_t at_ = 0;
  };
  int tasks_;
  int64_t rows_, slice_, buffered_;
  int next_ = 0;
};

TEST(ExecutorLivenessTest, RowGroupsLargerThanTheBudgetAndAPartialBatchFinish) {
  // Two 500-row groups each "holding" 94 MiB under a 64 MiB budget, read 32 rows at a time,
  // rebatched to 64: 1,000 rows = 15 full batches + 40 rows that wait in the rebatch until the
  // second task has been read. This hung after 992 rows before the progress rule.
  for (int workers : {1, 2, 4}) {
    Collected out;
    Plan plan;
    plan.AddSource("read", std::make_shared<BigRowGroupSource>(3, 500, 32, int64_t{94} << 20), workers)
        .AddMap("grow", [](Batch b, TaskContext&) -> Result<Batch> {
          return b.WithColumn("pad", Column::FromValues(std::vector<int64_t>(static_cast<size_t>(b.num_rows()), 1)));
        })
        .AddRebatch("batch", 64)
        .AddSink("write", CollectInto(&out));
    ExecutorOptions opt;
    opt.memory_budget = int64_t{64} << 20;
    opt.stall_timeout = std::chrono::milliseconds(20000);
    PlanStats stats;
    const Status st = Execute(plan, opt, &stats);
    ASSERT_TRUE(st.ok()) << "workers " << workers << ": " << st.ToString();
    std::vector<int64_t> ids = out.ids;
    std::sort(ids.begin(), ids.end());
    ASSERT_EQ(ids.size(), 1500u) << "workers " << workers;
    for (int64_t i = 0; i < 1500; ++i) ASSERT_EQ(ids[static_cast<size_t>(i)], i);
  }
}

/// Blocks on batch `stall_at` until the plan is stopped (a hung model that still honours
/// cancellation).
class StallingActor : public Actor {
 public:
  StallingActor(std::atomic<int>* seen, int stall_at) : seen_(seen), stall_at_(stall_at) {}
  Result<Batch> Process(Batch b, TaskContext& ctx) override {
    if (seen_->fetch_add(1) + 1 == stall_at_) {
      while (!ctx.stop_requested()) SleepMs(5);
      return Status::Cancelled("stopped");
    }
    return b;
  }

 private:
  std::atomic<int>* seen_;
  int stall_at_;
};

TEST(ExecutorLivenessTest, WatchdogFailsAStalledPlanNamingItsState) {
  SyntheticSourceOptions so;
  so.tasks = 2;
  so.batches_per_task = 20;
  Collected out;
  std::atomic<int> seen{0};
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 2)
      .AddActor("model", [&](int) -> Result<std::unique_ptr<Actor>> { return std::unique_ptr<Actor>(new StallingActor(&seen, 3)); })
      .AddSink("write", CollectInto(&out));
  ExecutorOptions opt;
  opt.stall_timeout = std::chrono::milliseconds(300);
  PlanStats stats;
  const auto t0 = Clock::now();
  const Status st = Execute(plan, opt, &stats);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(st.code(), StatusCode::kStalled) << st.ToString();
  EXPECT_NE(st.message().find("no stage moved a batch for"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("stage 'model' (actor): queue"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("1 of 1 running"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("budget"), std::string::npos) << st.message();
  EXPECT_LT(s, 4.0);
  EXPECT_GE(s, 0.3);
  EXPECT_EQ(out.ids.size(), 20u);  // the two batches before the stall
  EXPECT_EQ(out.finished.load(), 0);  // the sink was aborted, not finished
}

TEST(ExecutorLivenessTest, SlowButMovingPlansDoNotTripTheWatchdog) {
  SyntheticSourceOptions so;
  so.tasks = 1;
  so.batches_per_task = 12;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddMap("slow", [](Batch b, TaskContext&) -> Result<Batch> {
        SleepMs(60);
        return b;
      }, Concurrency::Fixed(1))
      .AddSink("write", CollectInto(&out));
  ExecutorOptions opt;
  opt.stall_timeout = std::chrono::milliseconds(250);
  ASSERT_TRUE(Execute(plan, opt).ok());
  EXPECT_EQ(out.ids.size(), 120u);
}

}  // namespace
}  // namespace sluice
