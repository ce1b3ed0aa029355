// Framework overhead, after the seeds' time.sleep(1) UDF microbenchmark (Spark 128.9 s, Ray
// Data 4.4 s there): a map stage that sleeps 1 s per batch over N batches with concurrency C.
// The ideal is ceil(N / C) seconds; everything above it is the executor's overhead.
//
//   overhead_bench [--batches=64] [--concurrency=16] [--sleep_ms=1000]
#include <chrono>
#include <cstdio>
#include <thread>

#include "bench_args.h"
#include "sluice/executor.h"
#include "sluice/synthetic_source.h"
#include "sluice/thread_pool.h"

using namespace sluice;

int main(int argc, char** argv) {
  const long long n = bench::IntArg(argc, argv, "batches", 64);
  const long long c = bench::IntArg(argc, argv, "concurrency", 16);
  const long long sleep_ms = bench::IntArg(argc, argv, "sleep_ms", 1000);
  SyntheticSourceOptions so;
  so.tasks = n;
  so.batches_per_task = 1;
  so.rows = 100;
  Plan plan;
  plan.AddSource("read", std::make_shared<SyntheticSource>(so), 2)
      .AddMap("sleep", [sleep_ms](Batch b, TaskContext&) -> Result<Batch> {
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        return b;
      }, Concurrency::Fixed(static_cast<int>(c)))
      .AddSink("discard", [](int) -> Result<std::unique_ptr<Sink>> {
        struct Discard : Sink {
          Status Write(Batch, TaskContext&) override { return Status::OK(); }
        };
        return std::unique_ptr<Sink>(new Discard());
      });
  ThreadPool pool(static_cast<int>(c));  // sleeping tasks need a thread each, as Ray's tasks have a worker each
  ExecutorOptions opt;
  opt.pool = &pool;
  PlanStats stats;
  const auto t0 = std::chrono::steady_clock::now();
  Status st = Execute(plan, opt, &stats);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok()) {
    std::fprintf(stderr, "overhead_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  const double ideal = static_cast<double>((n + c - 1) / c) * static_cast<double>(sleep_ms) / 1000.0;
  std::printf("overhead_bench batches=%lld concurrency=%lld sleep=%lldms wall_s=%.4f ideal_s=%.4f overhead_pct=%.3f\n", n,
              c, sleep_ms, wall, ideal, 100.0 * (wall - ideal) / ideal);
  return 0;
}
