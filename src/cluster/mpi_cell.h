#pragma once
/// The MPI transport of a heterogeneous cell (sluice/cell.h): every process of one launch
/// (`mpirun ... --role infer : ... --role preprocess`, or a Slurm heterogeneous job) starts
/// one MpiCell, which learns every rank's role and host, then carries the cell's messages.
/// Batches go out as one MPI message each, sent straight from the batch's buffers through an
/// hindexed datatype (no copy), and arrive in one 64-byte aligned buffer the columns view.
///
/// When a process of the launch dies, MPI (and mpirun) end the whole launch; nothing a worker
/// had not published is published, and the rerun resumes from the published parts.
///
/// Threading: one thread of its own calls MPI (MPI_THREAD_FUNNELED: it called MPI_Init_thread);
/// every method may be called from any thread.

#include <memory>

#include "sluice/cell.h"
#include "sluice/status.h"
#include "sluice/worker_identity.h"

namespace sluice::cluster {

class MpiCell {
 public:
  virtual ~MpiCell() = default;
  /// Initializes MPI and exchanges roles, hosts and each process's job fingerprint
  /// (JobSpec::Fingerprint); fails when no rank is an infer worker or when the job files differ
  /// (every rank says which ranks disagree with rank 0).
  static Result<std::unique_ptr<MpiCell>> Start(CellRole role, const std::string& job_fingerprint);
  /// Infer workers: worker r of the infer workers (they share the shards); feeders: feeder r of the feeders.
  virtual const WorkerIdentity& identity() const = 0;
  virtual FeederPort* feeders() = 0;  // infer role
  virtual InferPort* infer() = 0;     // preprocess role
  /// The end of this process's part after success: an infer worker answers every request
  /// "none" and waits for each feeder to finish; a feeder tells every infer worker it is
  /// done. Then MPI_Finalize.
  virtual Status Finish() = 0;
  /// After a failure: ends the whole launch now (MPI_Abort with `code`), after at most 2 s for
  /// messages already posted (a FAILED) to leave.
  [[noreturn]] virtual void Abort(int code) = 0;
};

}  // namespace sluice::cluster
