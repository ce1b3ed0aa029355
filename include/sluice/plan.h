#pragma once
/// Plan: a chain of stages (source -> map/actor/rebatch ... -> sink) and the interfaces user
/// code implements to plug into them. The executor (executor.h) runs a plan with every stage
/// concurrently; the chain is stored as a list of StageSpecs with explicit upstream indices so
/// a DAG (fan-in/fan-out) can be added without changing the stage interfaces.
///
/// Threading contract for user code:
///   - Source::NextTask is called by one thread at a time (the executor serializes it).
///   - ReadTask::Next is called by one thread at a time per task; different tasks run in
///     parallel on the source's worker threads.
///   - MapFn is called concurrently from the shared CPU pool: it must be stateless or
///     internally thread-safe.
///   - An Actor (and a Sink) is created, used and finished on its own replica thread; no
///     other thread touches it, so it may hold thread-affine state (a model on a device).
///   - TaskContext is valid only during the call it is handed to.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "sluice/batch.h"
#include "sluice/memory.h"
#include "sluice/status.h"

namespace sluice {

/// A row a stage could not process, recorded instead of failing the whole plan.
struct BadRow {
  std::string stage;
  std::string row_id;
  std::string reason;
};

/// What a stage's code may ask of the executor while it runs one batch.
class TaskContext {
 public:
  using BadRowHandler = std::function<Status(BadRow)>;
  TaskContext(const std::string& stage, int replica, std::stop_token stop, const BadRowHandler* on_bad_row,
              Allocator* allocator)
      : stage_(stage), replica_(replica), stop_(std::move(stop)), on_bad_row_(on_bad_row), allocator_(allocator) {}

  const std::string& stage() const { return stage_; }
  /// Replica index for actors and sinks, worker index for sources, -1 for map tasks.
  int replica() const { return replica_; }
  /// Set when the plan is cancelled; long-running code should check it and return early.
  const std::stop_token& stop_token() const { return stop_; }
  bool stop_requested() const { return stop_.stop_requested(); }
  /// Records a bad row (the stage leaves it out of its output and goes on). Returns an error
  /// when the plan's bad-row policy refuses to go on; the stage must then return that error.
  Status ReportBadRow(std::string row_id, std::string reason) const;
  /// The same for a row another stage (or process) found bad: its stage is kept.
  Status ReportBadRow(BadRow row) const;
  /// Where output buffers should be allocated (pinned host memory when feeding a GPU).
  Allocator* allocator() const { return allocator_; }

 private:
  const std::string& stage_;
  int replica_;
  std::stop_token stop_;
  const BadRowHandler* on_bad_row_;
  Allocator* allocator_;
};

/// One unit of reading: a file, a row-group range, a group of small files.
class ReadTask {
 public:
  virtual ~ReadTask() = default;
  /// The next batch, or nullopt when the task is done.
  virtual Result<std::optional<Batch>> Next(TaskContext& ctx) = 0;
  /// Names the data the task reads, for error messages ("a.parquet row groups 0-3").
  virtual std::string Describe() const = 0;
  /// Bytes the task has read but not yet returned (a row group it hands out in slices). The
  /// executor counts them in the memory budget, so a task that reads big units and returns
  /// small batches cannot hold memory the budget does not see.
  virtual int64_t buffered_bytes() const { return 0; }
};

/// Hands out read tasks lazily, so listing a huge prefix never materializes every task.
class Source {
 public:
  virtual ~Source() = default;
  /// The next task, or nullptr when there are no more.
  virtual Result<std::unique_ptr<ReadTask>> NextTask() = 0;
  /// Total rows, when known up front (progress display).
  virtual std::optional<int64_t> EstimatedRows() const { return std::nullopt; }
};

/// Stateless batch function run on the shared CPU pool.
using MapFn = std::function<Result<Batch>(Batch, TaskContext&)>;

/// Stateful batch processor with its own thread (e.g. a model on one device). 1 batch in,
/// 1 batch out.
class Actor {
 public:
  virtual ~Actor() = default;
  virtual Result<Batch> Process(Batch batch, TaskContext& ctx) = 0;
  /// Called once on the replica's thread after its last batch when the plan succeeds.
  virtual Status Finish(TaskContext& ctx) { return Status::OK(); }
};
/// Creates replica `replica` on that replica's own thread.
using ActorFactory = std::function<Result<std::unique_ptr<Actor>>(int replica)>;

/// The end of a plan: consumes batches (writes files, counts, collects).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(Batch batch, TaskContext& ctx) = 0;
  /// Called once after the replica's last batch when the plan succeeds (commit output here).
  virtual Status Finish(TaskContext& ctx) { return Status::OK(); }
  /// Called instead of Finish when the plan fails or is cancelled (remove partial output).
  virtual void Abort() {}
};
using SinkFactory = std::function<Result<std::unique_ptr<Sink>>(int replica)>;

enum class StageKind { kSource, kMap, kActor, kRebatch, kSink };
std::string_view StageKindName(StageKind kind);

/// How many batches a stage processes at once: fixed (min == max) or autoscaled between
/// min and max from measured queue pressure (map stages). max = 0 means "the pool size".
struct Concurrency {
  int min = 1;
  int max = 1;
  static Concurrency Fixed(int n) { return {n, n}; }
  static Concurrency Auto(int min = 1, int max = 0) { return {min, max}; }
};

/// Bounds of the queue in front of a stage. 0 = default: batches = max(4, 2 * max
/// concurrency of the stage); bytes = bounded only by the plan's memory budget.
struct QueueLimits {
  int64_t max_batches = 0;
  int64_t max_bytes = 0;
};

struct StageSpec {
  std::string name;
  StageKind kind = StageKind::kMap;
  Concurrency concurrency;
  QueueLimits input_limits;
  std::vector<int> upstream;  // indices of input stages (a chain today: {index - 1})
  std::shared_ptr<Source> source;
  MapFn map;
  ActorFactory actor;
  SinkFactory sink;
  int64_t rebatch_rows = 0;
};

class Plan {
 public:
  /// `workers` read tasks run in parallel.
  Plan& AddSource(std::string name, std::shared_ptr<Source> source, int workers = 1);
  Plan& AddMap(std::string name, MapFn fn, Concurrency concurrency = Concurrency::Auto());
  Plan& AddActor(std::string name, ActorFactory factory, int replicas = 1);
  /// Emits batches of exactly `rows` rows (the last may be shorter).
  Plan& AddRebatch(std::string name, int64_t rows);
  Plan& AddSink(std::string name, SinkFactory factory, int replicas = 1);
  /// Sets the input queue limits of the stage added last.
  Plan& WithInputLimits(QueueLimits limits);

  const std::vector<StageSpec>& stages() const { return stages_; }
  /// A source first, a sink last, maps/actors/rebatches between, unique names, sane numbers.
  Status Validate() const;

 private:
  Plan& Add(StageSpec spec);
  std::vector<StageSpec> stages_;
};

}  // namespace sluice
