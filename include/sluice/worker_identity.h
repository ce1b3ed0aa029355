#pragma once
/// Which worker of a multi-process job this process is: `sluice run JOB.yaml` started N times
/// by a launcher becomes worker r of N. The identity comes from the launcher's environment, in
/// this order: an explicit `--worker R/N`; Slurm job arrays (SLURM_ARRAY_TASK_ID with
/// SLURM_ARRAY_TASK_MIN and _MAX or _COUNT); srun (SLURM_PROCID / SLURM_NTASKS); Open MPI
/// (OMPI_COMM_WORLD_RANK / _SIZE); PMIx and MPICH (PMI_RANK / PMI_SIZE); Kubernetes Indexed
/// Jobs (JOB_COMPLETION_INDEX, with the count from `--workers N` or SLUICE_WORKERS). Nothing
/// set: worker 0 of 1, a single-process job.
///
/// Threading: pure functions.

#include <functional>
#include <optional>
#include <string>

#include "sluice/status.h"

namespace sluice {

struct WorkerIdentity {
  int rank = 0;
  int count = 1;
  std::string source = "a single process";  // "--worker", "SLURM_ARRAY_TASK_ID", ...
  /// "worker 3 of 8 (from SLURM_ARRAY_TASK_ID)".
  std::string Describe() const;
};

struct WorkerFlags {
  std::string worker;              // --worker R/N ("" = not given)
  std::optional<int> workers;      // --workers N
};

/// Reads the identity; `getenv` is the environment (injected for tests). Errors name the
/// variable or flag and its value: an index outside its count, a count below 1, text that is
/// not a number, a Kubernetes index without a worker count.
Result<WorkerIdentity> ResolveWorkerIdentity(const WorkerFlags& flags,
                                             const std::function<std::optional<std::string>(const std::string&)>& getenv);

/// The same from this process's environment.
Result<WorkerIdentity> ResolveWorkerIdentity(const WorkerFlags& flags);

}  // namespace sluice
