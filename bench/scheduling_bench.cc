// Scheduling cost: empty batches through empty stages. 1M rows in 100k batches (10 rows each)
// flow source -> K no-op maps -> sink; every CPU cycle spent is the executor's. Prints the
// process CPU time per batch per stage and what a 10k batches/s pipeline would spend on it.
//
// With --rate=R the source paces itself to R batches/s, to measure the CPU a pipeline running
// at that rate spends on scheduling (core_pct = cpu / wall).
//
//   scheduling_bench [--batches=100000] [--rows=10] [--maps=3] [--threads=2] [--ordered=0] [--rate=0]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "bench_args.h"
#include "sluice/executor.h"

using namespace sluice;

namespace {

/// Batches with a row count and no columns: nothing to build, so the cost measured is the
/// executor's alone.
class EmptyBatches : public Source {
 public:
  using Clock = std::chrono::steady_clock;
  EmptyBatches(int64_t tasks, int64_t per_task, int64_t rows, double rate)
      : tasks_(tasks), per_task_(per_task), rows_(rows), period_(rate > 0 ? 1.0 / rate : 0) {}
  Result<std::unique_ptr<ReadTask>> NextTask() override {
    if (next_++ >= tasks_) return std::unique_ptr<ReadTask>();
    struct Task : ReadTask {
      EmptyBatches* s;
      int64_t left;
      Task(EmptyBatches* src, int64_t n) : s(src), left(n) {}
      Result<std::optional<Batch>> Next(TaskContext&) override {
        if (left-- <= 0) return std::optional<Batch>();
        if (s->period_ > 0) {  // one source worker: pace against the first batch's time
          if (s->emitted_ == 0) s->start_ = Clock::now();
          const auto due = s->start_ + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(s->period_ * static_cast<double>(s->emitted_++)));
          std::this_thread::sleep_until(due);
        }
        return std::optional<Batch>(Batch::Empty(s->rows_));
      }
      std::string Describe() const override { return "empty batches"; }
    };
    return std::unique_ptr<ReadTask>(new Task(this, per_task_));
  }

 private:
  int64_t tasks_, per_task_, rows_, next_ = 0;
  double period_;
  int64_t emitted_ = 0;
  Clock::time_point start_ = Clock::now();
};

/// CPU the pacing itself costs (sleep_until at `rate` for one second): subtracted from the
/// paced run so the figure is the executor's alone.
double PacingCorePct(double rate);

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double PacingCorePct(double rate) {
  using Clock = std::chrono::steady_clock;
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  for (int64_t i = 0; i < static_cast<int64_t>(rate); ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(static_cast<double>(i) / rate)));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  return 100.0 * (CpuSeconds() - cpu0) / wall;
}

}  // namespace

int main(int argc, char** argv) {
  const long long batches = bench::IntArg(argc, argv, "batches", 100000);
  const long long rows = bench::IntArg(argc, argv, "rows", 10);
  const long long maps = bench::IntArg(argc, argv, "maps", 3);
  const long long threads = bench::IntArg(argc, argv, "threads", 2);
  const long long ordered = bench::IntArg(argc, argv, "ordered", 0);
  const long long rate = bench::IntArg(argc, argv, "rate", 0);
  Plan plan;
  plan.AddSource("read", std::make_shared<EmptyBatches>(100, batches / 100, rows, static_cast<double>(rate)), 1);
  for (long long i = 0; i < maps; ++i) {
    plan.AddMap("noop" + std::to_string(i), [](Batch b, TaskContext&) -> Result<Batch> { return b; });
  }
  plan.AddSink("discard", [](int) -> Result<std::unique_ptr<Sink>> {
    struct Discard : Sink {
      Status Write(Batch, TaskContext&) override { return Status::OK(); }
    };
    return std::unique_ptr<Sink>(new Discard());
  });
  ExecutorOptions opt;
  opt.cpu_threads = static_cast<int>(threads);
  opt.preserve_order = ordered != 0;
  const double pacing_pct = rate > 0 ? PacingCorePct(static_cast<double>(rate)) : 0.0;
  PlanStats stats;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  Status st = Execute(plan, opt, &stats);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  if (!st.ok()) {
    std::fprintf(stderr, "scheduling_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  const long long stages = maps + 2;
  const double per_batch_stage_us = cpu / static_cast<double>(batches) / static_cast<double>(stages) * 1e6;
  const double per_batch_us = cpu / static_cast<double>(batches) * 1e6;
  std::printf(
      "scheduling_bench batches=%lld rows=%lld stages=%lld threads=%lld ordered=%lld rate=%lld wall_s=%.3f cpu_s=%.3f "
      "batches_per_s=%.0f cpu_us_per_batch_per_stage=%.3f cpu_us_per_batch=%.3f core_pct=%.2f pacing_core_pct=%.2f "
      "executor_core_pct=%.2f\n",
      batches, rows, stages, threads, ordered, rate, wall, cpu, static_cast<double>(batches) / wall, per_batch_stage_us,
      per_batch_us, 100.0 * cpu / wall, pacing_pct, 100.0 * cpu / wall - pacing_pct);
  return 0;
}
