// Order, cancellation, errors, bad rows and autoscaling.
#include <gtest/gtest.h>

#include <random>

#include "collecting_sink.h"
#include "sluice/executor.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Collected;
using testing::CollectInto;
using testing::SleepingMap;
using testing::SleepMs;

double RandomMs(double max_ms) {
  thread_local std::mt19937 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0, max_ms)(rng);
}

Result<Batch> SleepRandomly(Batch b, double max_ms) {
  SleepMs(RandomMs(max_ms));
  return b;
}

TEST(ExecutorOrderTest, PreserveOrderUnderRandomDelays) {
  SyntheticSourceOptions so;
  so.tasks = 12;
  so.batches_per_task = 6;
  so.rows = 5;
  so.empty_tasks = {3, 7};
  so.before_batch = [](int64_t, int64_t) {
    SleepMs(RandomMs(2));
    return Status::OK();
  };
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 3)
      .AddMap("jitter", [](Batch b, TaskContext&) { return SleepRandomly(std::move(b), 4); }, Concurrency::Fixed(6))
      .AddMap("drop-some", [](Batch b, TaskContext&) -> Result<Batch> {
        // Every 5th batch becomes empty: its ordering slot must still move on.
        if (b.GetColumn("id").value().Value<int64_t>(0) % 25 == 0) return b.Slice(0, 0);
        return SleepRandomly(std::move(b), 2);
      }, Concurrency::Fixed(4))
      .AddActor("replicas", [](int) -> Result<std::unique_ptr<Actor>> {
        struct Jitter : Actor {
          Result<Batch> Process(Batch b, TaskContext&) override { return SleepRandomly(std::move(b), 3); }
        };
        return std::unique_ptr<Actor>(new Jitter());
      }, 3)
      .AddRebatch("rebatch", 7)
      .AddMap("after", [](Batch b, TaskContext&) { return SleepRandomly(std::move(b), 3); }, Concurrency::Fixed(4))
      .AddSink("collect", CollectInto(&out));
  ExecutorOptions opt;
  opt.cpu_threads = 8;
  opt.preserve_order = true;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok()) << stats.status;
  std::vector<int64_t> expected;
  for (int64_t t = 0; t < so.tasks; ++t) {
    if (t == 3 || t == 7) continue;
    for (int64_t b = 0; b < so.batches_per_task; ++b) {
      const int64_t first = (t * so.batches_per_task + b) * so.rows;
      if (first % 25 == 0) continue;
      for (int64_t r = 0; r < so.rows; ++r) expected.push_back(first + r);
    }
  }
  EXPECT_EQ(out.ids, expected);
  for (size_t i = 0; i + 1 < out.batch_rows.size(); ++i) EXPECT_EQ(out.batch_rows[i], 7);
}

TEST(ExecutorOrderTest, UnorderedByDefaultStillDeliversEverything) {
  SyntheticSourceOptions so;
  so.tasks = 4;
  so.batches_per_task = 10;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 2)
      .AddMap("jitter", [](Batch b, TaskContext&) { return SleepRandomly(std::move(b), 2); }, Concurrency::Fixed(4))
      .AddSink("collect", CollectInto(&out));
  ExecutorOptions opt;
  opt.cpu_threads = 4;
  ASSERT_TRUE(Execute(plan, opt).ok());
  std::sort(out.ids.begin(), out.ids.end());
  ASSERT_EQ(out.ids.size(), 400u);
  for (size_t i = 0; i < out.ids.size(); ++i) EXPECT_EQ(out.ids[i], static_cast<int64_t>(i));
}

// A map fails at batch 50 of 10,000: the error comes back fast, names the stage and the cause,
// every thread is joined (Execute returned) and the sink was aborted, not finished.
TEST(ExecutorCancelTest, FirstErrorCancelsPromptly) {
  SyntheticSourceOptions so;
  so.tasks = 100;
  so.batches_per_task = 100;
  so.rows = 4;
  std::atomic<int64_t> seen{0};
  std::atomic<int64_t> failed_at_ns{0};
  std::atomic<int> actors_alive{0};
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 2)
      .AddMap("parse", [&](Batch b, TaskContext&) -> Result<Batch> {
        SleepMs(0.2);
        if (seen.fetch_add(1) == 50) {
          failed_at_ns = Clock::now().time_since_epoch().count();
          return Status::InvalidData("row 200: bad magic bytes");
        }
        return b;
      })
      .AddActor("model", [&](int) -> Result<std::unique_ptr<Actor>> {
        struct Counted : Actor {
          explicit Counted(std::atomic<int>* n) : n_(n) { n_->fetch_add(1); }
          ~Counted() override { n_->fetch_sub(1); }
          Result<Batch> Process(Batch b, TaskContext&) override {
            SleepMs(1);
            return b;
          }
          std::atomic<int>* n_;
        };
        return std::unique_ptr<Actor>(new Counted(&actors_alive));
      }, 2)
      .AddSink("write", CollectInto(&out));
  ExecutorOptions opt;
  opt.cpu_threads = 4;
  PlanStats stats;
  Status st = Execute(plan, opt, &stats);
  const auto returned_ns = Clock::now().time_since_epoch().count();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
  EXPECT_NE(st.message().find("stage 'parse' (map)"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("row 200: bad magic bytes"), std::string::npos);
  ASSERT_GT(failed_at_ns.load(), 0);
  EXPECT_LT((returned_ns - failed_at_ns.load()) / 1e9, 1.0);
  EXPECT_EQ(actors_alive.load(), 0);
  EXPECT_EQ(out.aborted.load(), 1);
  EXPECT_EQ(out.finished.load(), 0);
  EXPECT_LT(out.ids.size(), 10000u * 4);
  EXPECT_EQ(stats.status, st.ToString());
}

TEST(ExecutorCancelTest, ErrorsNameTheStageWhereverTheyHappen) {
  auto run_with = [](std::function<void(Plan&, std::shared_ptr<SyntheticSource>, Collected*)> build) {
    SyntheticSourceOptions so;
    so.tasks = 3;
    so.batches_per_task = 20;
    auto source = std::make_shared<SyntheticSource>(so);
    Collected out;
    Plan plan;
    build(plan, source, &out);
    return Execute(plan, {});
  };
  // Source read failure names the read task.
  Status a = run_with([](Plan& p, auto, Collected* out) {
    SyntheticSourceOptions so;
    so.tasks = 2;
    so.before_batch = [](int64_t t, int64_t b) {
      return t == 1 && b == 3 ? Status::IOError("HTTP 503 SlowDown on s3://b/k") : Status::OK();
    };
    p.AddSource("read", std::make_shared<SyntheticSource>(so)).AddSink("s", CollectInto(out));
  });
  EXPECT_EQ(a.code(), StatusCode::kIOError);
  EXPECT_NE(a.message().find("stage 'read' (source) reading synthetic task 1"), std::string::npos) << a.ToString();
  // Actor factory failure (a model that cannot load).
  Status b = run_with([](Plan& p, auto src, Collected* out) {
    p.AddSource("read", src)
        .AddActor("model", [](int r) -> Result<std::unique_ptr<Actor>> {
          return Status::NotFound("model file 'm.pt' not found");
        }, 2)
        .AddSink("s", CollectInto(out));
  });
  EXPECT_EQ(b.code(), StatusCode::kNotFound);
  EXPECT_NE(b.message().find("stage 'model' (actor) replica"), std::string::npos) << b.ToString();
  // A user exception is caught and turned into an Internal error.
  Status c = run_with([](Plan& p, auto src, Collected* out) {
    p.AddSource("read", src)
        .AddMap("boom", [](Batch, TaskContext&) -> Result<Batch> { throw std::runtime_error("kaboom"); })
        .AddSink("s", CollectInto(out));
  });
  EXPECT_EQ(c.code(), StatusCode::kInternal);
  EXPECT_NE(c.message().find("kaboom"), std::string::npos);
  EXPECT_NE(c.message().find("'boom'"), std::string::npos);
  // A sink that fails to commit.
  Status d = run_with([](Plan& p, auto src, Collected* out) {
    struct BadCommit : Sink {
      Status Write(Batch, TaskContext&) override { return Status::OK(); }
      Status Finish(TaskContext&) override { return Status::IOError("rename failed"); }
    };
    p.AddSource("read", src).AddSink("write", [](int) -> Result<std::unique_ptr<Sink>> {
      return std::unique_ptr<Sink>(new BadCommit());
    });
  });
  EXPECT_NE(d.message().find("stage 'write' (sink) replica 0 finishing: rename failed"), std::string::npos)
      << d.ToString();
}

TEST(ExecutorCancelTest, CallerStopTokenCancels) {
  SyntheticSourceOptions so;
  so.tasks = 1000;
  so.batches_per_task = 1000;
  std::stop_source stop;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddMap("m", SleepingMap(0.5))
      .AddSink("s", CollectInto(&out));
  ExecutorOptions opt;
  opt.stop = stop.get_token();
  std::jthread stopper([&] {
    SleepMs(100);
    stop.request_stop();
  });
  const auto t0 = Clock::now();
  Status st = Execute(plan, opt);
  EXPECT_EQ(st.code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 2.0);
}

TEST(ExecutorBadRowTest, BadRowsAreRecordedAndThePlanGoesOn) {
  SyntheticSourceOptions so;
  so.batches_per_task = 10;
  so.rows = 10;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddMap("decode", [](Batch b, TaskContext& ctx) -> Result<Batch> {
        auto ids = b.GetColumn("id").value();
        // Row ids divisible by 7 are "corrupt": report and leave them out.
        std::vector<int64_t> keep;
        for (int64_t i = 0; i < b.num_rows(); ++i) {
          const int64_t id = ids.Value<int64_t>(i);
          if (id % 7 == 0) {
            RETURN_IF_ERROR(ctx.ReportBadRow(std::to_string(id), "truncated JPEG"));
          } else {
            keep.push_back(id);
          }
        }
        return Batch::Make({"id"}, {Column::FromValues<int64_t>(keep)});
      })
      .AddSink("s", CollectInto(&out));
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, {}, &stats).ok());
  EXPECT_EQ(stats.bad_row_count, 15);  // 0, 7, ..., 98
  ASSERT_EQ(stats.bad_rows.size(), 15u);
  EXPECT_EQ(stats.stages[1].bad_rows, 15);
  EXPECT_EQ(out.ids.size(), 85u);
  bool found = false;
  for (const auto& r : stats.bad_rows) {
    if (r.row_id == "49") {
      found = true;
      EXPECT_EQ(r.stage, "decode");
      EXPECT_EQ(r.reason, "truncated JPEG");
    }
  }
  EXPECT_TRUE(found);
}

TEST(ExecutorBadRowTest, PolicyCanStopThePlan) {
  SyntheticSourceOptions so;
  so.batches_per_task = 100;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddMap("decode", [](Batch b, TaskContext& ctx) -> Result<Batch> {
        RETURN_IF_ERROR(ctx.ReportBadRow("row", "bad"));
        return b;
      })
      .AddSink("s", CollectInto(&out));
  ExecutorOptions opt;
  std::atomic<int> n{0};
  opt.on_bad_row = [&](const BadRow&) {
    return ++n > 5 ? Status::InvalidData("more than 5 bad rows (max_bad_rows: 5)") : Status::OK();
  };
  Status st = Execute(plan, opt);
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
  EXPECT_NE(st.message().find("max_bad_rows"), std::string::npos);
}

// A slow map stage gets more workers while the fast one stays small.
TEST(ExecutorAutoscaleTest, SlowStageGetsMoreWorkers) {
  SyntheticSourceOptions so;
  so.tasks = 2;
  so.batches_per_task = 250;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 2)
      .AddMap("fast", SleepingMap(0), Concurrency::Auto(1, 8))
      .AddMap("slow", SleepingMap(10), Concurrency::Auto(1, 8))
      .AddSink("s", CollectInto(&out));
  ExecutorOptions opt;
  opt.cpu_threads = 10;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok());
  EXPECT_EQ(out.ids.size(), 5000u);
  const StageStats& fast = stats.stages[1];
  const StageStats& slow = stats.stages[2];
  EXPECT_GE(slow.max_concurrency, 6) << FormatSummary(stats);
  EXPECT_LE(fast.max_concurrency, 3) << FormatSummary(stats);
  EXPECT_GT(slow.avg_concurrency, 3.0) << FormatSummary(stats);
}

TEST(ExecutorStatsTest, ProgressSnapshotsAndJson) {
  SyntheticSourceOptions so;
  so.batches_per_task = 60;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so))
      .AddMap("m", SleepingMap(2))
      .AddSink("s", CollectInto(&out));
  ExecutorOptions opt;
  opt.progress_interval = std::chrono::milliseconds(20);
  std::atomic<int> snapshots{0};
  std::atomic<bool> saw_total{false};
  opt.on_progress = [&](const PlanStats& s) {
    ++snapshots;
    if (s.stages[0].total_rows == 600) saw_total = true;
    EXPECT_EQ(FormatProgressLines(s).size(), 4u);
  };
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok());
  EXPECT_GE(snapshots.load(), 2);
  EXPECT_TRUE(saw_total.load());
  const std::string json = StatsToJson(stats);
  EXPECT_NE(json.find("\"name\": \"m\""), std::string::npos);
  EXPECT_NE(json.find("\"rows_in\": 600"), std::string::npos);
  EXPECT_NE(json.find("\"status\": \"OK\""), std::string::npos);
  const std::string table = FormatSummary(stats);
  EXPECT_NE(table.find("status OK"), std::string::npos);
  EXPECT_GT(stats.stages[1].busy_s, 0.1);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Tens of thousands of tiny batches a second switch the executor to coalesced wake-ups; every
// row must still arrive, in order when asked, and the plan must end promptly.
class HighRateTest : public ::testing::TestWithParam<bool> {};

TEST_P(HighRateTest, ManyTinyBatchesArriveCompletely) {
  SyntheticSourceOptions so;
  so.tasks = 40;
  so.batches_per_task = 500;
  so.rows = 2;
  Collected out;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 2)
      .AddMap("a", SleepingMap(0))
      .AddMap("b", SleepingMap(0))
      .AddRebatch("r", 3)
      .AddActor("act", [](int) -> Result<std::unique_ptr<Actor>> {
        struct Pass : Actor {
          Result<Batch> Process(Batch b, TaskContext&) override { return b; }
        };
        return std::unique_ptr<Actor>(new Pass());
      }, 2)
      .AddSink("collect", CollectInto(&out));
  ExecutorOptions opt;
  opt.cpu_threads = 2;
  opt.preserve_order = GetParam();
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, opt, &stats).ok()) << stats.status;
  ASSERT_EQ(out.ids.size(), 40u * 500 * 2);
  if (!GetParam()) std::sort(out.ids.begin(), out.ids.end());
  for (size_t i = 0; i < out.ids.size(); ++i) ASSERT_EQ(out.ids[i], static_cast<int64_t>(i));
}

INSTANTIATE_TEST_SUITE_P(OrderedAndNot, HighRateTest, ::testing::Bool());

}  // namespace
}  // namespace sluice
