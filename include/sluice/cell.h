#pragma once
/// Heterogeneous cells: CPU-only `preprocess` workers (feeders) read, decode and crop shards
/// for `infer` workers, which own the shards, run the model and write the parts (README
/// "Heterogeneous clusters"). Crops travel as uint8 (4x fewer bytes than float32) under
/// credits:
///
///   feeder -> infer   REQUEST      a shard to work on (answered ASSIGN shard, or none)
///   infer  -> feeder  CREDIT n     room for n more batches in the infer worker's inbox,
///                                  granted at the start and again as its plan takes them
///   feeder -> infer   BATCH        one shard's rows as uint8 crops; costs one credit
///   feeder -> infer   BAD          rows of a shard the feeder could not use
///   feeder -> infer   FAILED       the feeder's error: the infer worker's run fails with it
///
/// A shard stays its infer worker's: it is published only when every one of its rows came
/// back (written or bad), so a feeder that dies loses nothing that was published.
///
/// The transport (MPI, cluster/mpi_cell.h) implements the two ports; the job's code (RunJob,
/// RunFeeder) uses them and never sees MPI.
///
/// Threading: every method may be called from any thread. Handlers run on the transport's
/// thread, one at a time, and must not block.

#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "sluice/batch.h"
#include "sluice/plan.h"
#include "sluice/status.h"

namespace sluice {

enum class CellRole { kNone, kInfer, kPreprocess };

/// An infer worker's side: its feeders.
class FeederPort {
 public:
  struct Handlers {
    /// A feeder asks for work: the shard it should preprocess, or nullopt when there is none.
    std::function<std::optional<int>(int feeder)> assign;
    /// Rows of a shard `assign` gave that feeder; `meta` carries the feeder's figures.
    std::function<void(int feeder, Batch batch, std::string meta)> batch;
    std::function<void(int feeder, int shard, std::vector<BadRow> rows)> bad_rows;
    std::function<void(int feeder, Status error)> failed;
  };
  virtual ~FeederPort() = default;
  virtual int feeders() const = 0;
  /// "feeder 1 (MPI rank 2 on cpu1)".
  virtual std::string Describe(int feeder) const = 0;
  /// Messages go to `handlers` until Detach returns. Requests that arrive while detached wait
  /// for the next Attach, or are answered "none" once Close is called.
  virtual void Attach(Handlers handlers) = 0;
  virtual void Detach() = 0;
  /// This worker will hand out no more shards.
  virtual void Close() = 0;
  /// Room for `credits` more batches from `feeder`.
  virtual void Grant(int feeder, int credits) = 0;
};

/// A feeder's side: the infer workers.
class InferPort {
 public:
  virtual ~InferPort() = default;
  virtual int infer_workers() const = 0;
  virtual std::string Describe(int infer) const = 0;
  /// A shard to work on, {infer worker, shard}, asked of the infer worker that granted this
  /// feeder the most unused credits first; nullopt once every infer worker answered none.
  virtual Result<std::optional<std::pair<int, int>>> RequestShard(std::stop_token stop) = 0;
  /// Sends one batch to infer worker `infer` as soon as it has granted a credit (waits for one).
  virtual Status Send(int infer, const Batch& batch, const std::string& meta, std::stop_token stop) = 0;
  virtual Status SendBadRows(int infer, int shard, const std::vector<BadRow>& rows) = 0;
  /// Tells every infer worker this feeder failed.
  virtual void Fail(const Status& error) = 0;
  /// Seconds spent waiting for credits so far.
  virtual double credit_wait_s() const = 0;
};

}  // namespace sluice
