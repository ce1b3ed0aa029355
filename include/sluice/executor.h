#pragma once
/// Executor: runs a Plan with every stage at once.
///
/// - Streaming: sources, CPU maps, actors and the sink all run concurrently.
/// - Backpressure: each stage's input queue is bounded in batches (and optionally bytes); a
///   stage starts a batch only with a slot reserved in its output queue, so a full queue stops
///   its producer, up to the source, which stops reading.
/// - Memory budget: every byte from the moment a source produces it until the sink has consumed
///   it counts against one budget; the source reads only while the budget has room for another
///   batch, and a stage that grows data (decode) starts only within the budget unless everything
///   downstream of it is empty (so the plan can always drain). A single batch larger than the
///   budget still runs alone.
/// - Concurrency: map stages run on a shared CPU pool, each up to its own limit (fixed or
///   autoscaled); actors and sinks run one thread per replica; sources one thread per worker.
/// - Order: unordered by default; preserve_order delivers batches downstream in source order
///   (task order, then batch order), holding early arrivals only within the queue bounds.
/// - Errors: the first error cancels the plan (pending work is dropped, running work is asked to
///   stop through TaskContext::stop_token) and is returned naming the stage; Execute returns
///   only after every thread has finished.
/// - Liveness: a read task that holds more than the budget (one huge row group) still runs
///   when nothing else in the plan can move; the watchdog (stall_timeout) turns any remaining
///   stall into an error naming the plan's state.
///
/// Threading: Execute blocks the calling thread; it may be called from several threads for
/// different plans. Callbacks (on_progress, on_bad_row) run on executor threads.

#include <chrono>
#include <functional>
#include <stop_token>

#include "sluice/plan.h"
#include "sluice/stats.h"

namespace sluice {

class ThreadPool;

struct ExecutorOptions {
  /// Threads of the shared CPU pool for map stages; 0 = all hardware threads.
  int cpu_threads = 0;
  /// Use this pool instead of creating one (it must outlive Execute).
  ThreadPool* pool = nullptr;
  /// Bytes in flight across the plan; 0 = a quarter of physical memory.
  int64_t memory_budget = 0;
  bool preserve_order = false;
  /// Decides on each bad row; a non-OK answer fails the plan with that error. Unset: every bad
  /// row is accepted and the first PlanStats::kMaxKeptBadRows are kept in the stats.
  std::function<Status(const BadRow&)> on_bad_row;
  /// Called every progress_interval with a snapshot, from the executor's monitor thread.
  std::function<void(const PlanStats&)> on_progress;
  std::chrono::milliseconds progress_interval{1000};
  /// How often queue depths and concurrency are sampled and autoscaling decides.
  std::chrono::milliseconds sample_interval{20};
  /// Cancels the plan from outside (the result is a Cancelled error).
  std::stop_token stop;
  /// Allocator handed to stages through TaskContext.
  Allocator* allocator = nullptr;
  /// No-progress watchdog: when no stage has moved a batch for this long while work remains,
  /// the plan fails with a Stalled error that describes every stage (queues, workers, bytes in
  /// flight) instead of hanging. Zero turns it off.
  std::chrono::milliseconds stall_timeout{0};
  /// Samples GPU utilization and memory with the timelines when NVML is present (gpu_monitor.h).
  bool sample_gpus = true;
};

/// Runs `plan` to the end. `stats` (optional) receives the final statistics in every case.
Status Execute(const Plan& plan, const ExecutorOptions& options, PlanStats* stats = nullptr);

/// Physical memory of this machine in bytes.
int64_t PhysicalMemoryBytes();

}  // namespace sluice
