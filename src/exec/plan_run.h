#pragma once
/// PlanRun: one execution of a Plan (the engine behind sluice::Execute).
///
/// Threads: one per source worker, one per actor/sink replica, one monitor (sampling,
/// autoscaling, progress), plus tasks on the shared CPU pool for map and rebatch stages.
/// All scheduling state lives under one mutex (mu_); user code always runs outside it.
/// Every state change ends with Pump(), which forwards ordering markers, launches pool tasks
/// that may now start and wakes dedicated threads that may now proceed. A pool worker that
/// finishes a task takes the next startable one itself (no hand-off), downstream stages first,
/// so batches drain before new ones are admitted.
///
/// Slots: a stage starts a batch only after reserving room for its outputs in the next stage's
/// input queue, so finishing never blocks and ordered hold-back never deadlocks.
///
/// Wake-up coalescing: waking a sleeping thread costs more than scheduling a batch (about
/// 10-25 us of CPU on our VMs), so when batches flow faster than kCoalesceAboveRate a second,
/// producers stop waking idle consumers for every batch: a consumer is woken when its queue
/// reaches half its capacity, when its input ends, or by the monitor's dispatch tick (every
/// kDispatchTick). A stage that is the bottleneck always has input queued and never waits for
/// the tick, so throughput is unchanged; an idle stage sees its batches up to one tick later.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>
#include <vector>

#include "rebatcher.h"
#include "sluice/executor.h"
#include "sluice/gpu_monitor.h"
#include "sluice/thread_pool.h"
#include "stage_input.h"

namespace sluice::exec {

class PlanRun {
 public:
  PlanRun(const Plan& plan, const ExecutorOptions& options);
  ~PlanRun();
  Status Run(PlanStats* stats);
  /// True when Run returned after a watchdog trip while a thread was still stuck in user code:
  /// the PlanRun must then never be destroyed (that thread may still return into it).
  bool abandoned() const { return abandoned_; }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr double kCoalesceAboveRate = 1500;  // batches/s; off again below a third of it
  static constexpr std::chrono::microseconds kDispatchTick{1000};
  /// After a watchdog trip, how long threads get to leave before Run returns without them.
  static constexpr std::chrono::seconds kStallGrace{5};

  struct StageRun {
    StageRun(const StageSpec& s, int i, bool ordered)
        : spec(s), index(i), label("stage '" + s.name + "' (" + std::string(StageKindName(s.kind)) + ")"),
          input(ordered) {}
    const StageSpec& spec;
    int index;
    const std::string label;  // "stage 'decode' (map)": the prefix of this stage's errors
    StageInput input;
    int64_t max_batches = 0;
    int64_t max_bytes = 0;
    int concurrency = 1, min_concurrency = 1, max_concurrency = 1;
    int running = 0;
    int waiting = 0;                 // dedicated threads blocked in cv.wait
    int64_t reserved_out = 0;        // slots held in the next stage's input by running work
    bool upstream_done = false;      // no more input will arrive
    bool drained = false;            // upstream done, input empty, nothing running or pending
    std::condition_variable cv;      // source workers / replicas wait here
    int64_t growth_estimate = 0;     // largest (bytes out - bytes in) seen for one batch
    // Source workers.
    int64_t next_task = 0;
    bool exhausted = false;
    int workers_alive = 0;
    int reading = 0;
    int holding = 0;  // workers whose task holds rows it has read but not yet handed out
    int64_t max_batch_bytes = 0;
    std::set<int64_t> active_tasks;
    // Rebatch.
    std::unique_ptr<Rebatcher> rebatcher;
    int64_t pending_bytes_counted = 0;
    int64_t next_out_minor = 0;
    // Stats and autoscaling.
    StageStats stats;
    double concurrency_time = 0, queue_time = 0, sampled_time = 0;
    int pressure_ticks = 0, idle_ticks = 0;
  };

  // Scheduling decisions; all called with mu_ held.
  bool IsPoolStage(const StageRun& st) const;
  bool HasOutputRoom(const StageRun& st, int64_t slots) const;
  bool DownstreamIdle(int s) const;
  bool BudgetAllows(const StageRun& st) const;
  int64_t SlotsFor(const StageRun& st, const Item& item) const;
  bool CanStart(const StageRun& st) const;
  bool CanFlush(const StageRun& st) const;
  /// `task_buffered`: bytes the worker's task already holds (its next batch comes from them).
  bool SourceMayRead(const StageRun& st, int64_t task_index, int64_t task_buffered) const;
  Item TakeForStart(StageRun& st, int64_t* slots);
  void Emit(StageRun& from, Item item);
  void Complete(StageRun& st, const Item& item, int64_t slots, Result<std::vector<Batch>> out,
                Clock::duration busy);
  void AddInFlight(int64_t delta);
  void ForwardMarkers();
  /// `eager`: take any startable work; otherwise (coalescing) only stages whose queue reached
  /// their wake threshold.
  bool PickPoolWork(bool eager, int* s, Item* item, int64_t* slots, bool* flush);
  bool ShouldWake(const StageRun& st, bool tick) const;
  /// `tick`: called by the dispatch tick, which wakes everything that can run.
  void Pump(bool tick = false);
  void UpdateDrained();
  void Fail(Status status);
  /// The plan's state for the watchdog's error: every stage's queue, workers and bytes.
  std::string DescribeState() const;
  /// Fails the plan when nothing has moved for options_.stall_timeout.
  void CheckProgress(Clock::time_point now);

  // Threads (plan_run_workers.cc).
  void SourceWorker(int worker);
  void ReplicaThread(int s, int replica);
  void PoolWorker(int s, Item item, int64_t slots, bool flush);
  Result<std::vector<Batch>> RunPoolStage(StageRun& st, Item& item, bool flush);
  Status HandleBadRow(BadRow row);

  // Monitoring (plan_run_monitor.cc).
  void MonitorLoop();
  void Sample(double dt);
  void UpdateCoalescing(double dt);
  void Autoscale(StageRun& st);
  PlanStats Snapshot() const;
  /// Source::EstimatedRows is user code: call it without mu_ held.
  void FillTotalRows(PlanStats& stats) const;

  const Plan& plan_;
  ExecutorOptions options_;
  const bool ordered_;
  int64_t budget_ = 0;
  Allocator* allocator_ = nullptr;
  TaskContext::BadRowHandler bad_row_handler_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::condition_variable monitor_cv_;
  std::vector<std::unique_ptr<StageRun>> stages_;
  Status status_;
  bool cancelled_ = false;
  bool finished_ = false;
  int live_threads_ = 0;
  int pool_busy_ = 0;
  int64_t in_flight_ = 0;
  int64_t growth_reserved_ = 0;  // what running tasks of growing stages are expected to add
  uint64_t pushes_ = 0;       // batches pushed between stages, for the rate that turns coalescing on
  uint64_t pushes_at_sample_ = 0;
  bool coalesce_ = false;
  int64_t peak_in_flight_ = 0;
  int64_t rss_at_start_ = 0, peak_rss_ = 0;
  Clock::time_point start_;
  uint64_t completions_ = 0;         // batches any stage finished (with pushes_: what progress is)
  uint64_t progress_seen_ = 0;       // pushes_ + completions_ at the monitor's last look
  Clock::time_point last_progress_;  // when the monitor last saw it change
  bool stall_tripped_ = false;
  bool abandoned_ = false;
  double timeline_interval_s_ = 1.0;
  double next_timeline_s_ = 0;
  std::vector<PlanSample> timeline_;     // the plan's own samples, with the stages'
  std::unique_ptr<GpuMonitor> gpus_;     // null without NVML or with sample_gpus off
  std::stop_source stop_source_;

  std::mutex source_mu_;  // serializes Source::NextTask

  mutable std::mutex bad_mu_;  // taken after mu_, never before
  int64_t bad_row_count_ = 0;
  std::vector<int64_t> bad_rows_by_stage_;
  std::vector<BadRow> kept_bad_rows_;

  std::vector<std::jthread> threads_;
  std::jthread monitor_;
  std::unique_ptr<ThreadPool> own_pool_;  // declared last: destroyed (joined) first
  ThreadPool* pool_ = nullptr;
};

}  // namespace sluice::exec
