#include "sluice/worker_identity.h"

#include <cerrno>
#include <cstdlib>

namespace sluice {
namespace {

using Env = std::function<std::optional<std::string>(const std::string&)>;

Result<int> Number(const std::string& name, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno != 0 || v < 0 || v > 1'000'000) {
    return Status::InvalidArgument(name + " is '" + text + "', not a worker number");
  }
  return static_cast<int>(v);
}

Result<WorkerIdentity> Make(int rank, int count, std::string source) {
  if (count < 1) return Status::InvalidArgument(source + ": a worker count of " + std::to_string(count));
  if (rank < 0 || rank >= count) {
    return Status::InvalidArgument(source + ": worker index " + std::to_string(rank) + " is outside 0.." + std::to_string(count - 1));
  }
  return WorkerIdentity{rank, count, std::move(source)};
}

/// A rank / size pair of variables (srun, Open MPI, PMI); nullopt when the rank is not set.
Result<std::optional<WorkerIdentity>> Pair(const Env& env, const std::string& rank_var, const std::string& size_var) {
  const auto rank = env(rank_var);
  if (!rank) return std::optional<WorkerIdentity>();
  const auto size = env(size_var);
  if (!size) return Status::InvalidArgument(rank_var + " is set but " + size_var + " is not");
  ASSIGN_OR_RETURN(int r, Number(rank_var, *rank));
  ASSIGN_OR_RETURN(int n, Number(size_var, *size));
  ASSIGN_OR_RETURN(WorkerIdentity id, Make(r, n, rank_var));
  return std::optional<WorkerIdentity>(id);
}

}  // namespace

std::string WorkerIdentity::Describe() const {
  return "worker " + std::to_string(rank) + " of " + std::to_string(count) + " (from " + source + ")";
}

Result<WorkerIdentity> ResolveWorkerIdentity(const WorkerFlags& flags, const Env& env) {
  if (!flags.worker.empty()) {
    const auto slash = flags.worker.find('/');
    if (slash == std::string::npos) return Status::InvalidArgument("--worker '" + flags.worker + "': expected R/N, e.g. 0/4");
    ASSIGN_OR_RETURN(int r, Number("--worker's R", flags.worker.substr(0, slash)));
    ASSIGN_OR_RETURN(int n, Number("--worker's N", flags.worker.substr(slash + 1)));
    return Make(r, n, "--worker");
  }
  if (const auto task = env("SLURM_ARRAY_TASK_ID")) {
    ASSIGN_OR_RETURN(int id, Number("SLURM_ARRAY_TASK_ID", *task));
    const auto min = env("SLURM_ARRAY_TASK_MIN"), max = env("SLURM_ARRAY_TASK_MAX"), count = env("SLURM_ARRAY_TASK_COUNT");
    int lo = 0;
    if (min) {
      ASSIGN_OR_RETURN(lo, Number("SLURM_ARRAY_TASK_MIN", *min));
    }
    int n;
    if (max) {
      ASSIGN_OR_RETURN(int hi, Number("SLURM_ARRAY_TASK_MAX", *max));
      n = hi - lo + 1;
    } else if (count) {
      ASSIGN_OR_RETURN(n, Number("SLURM_ARRAY_TASK_COUNT", *count));
    } else {
      return Status::InvalidArgument("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_MAX nor SLURM_ARRAY_TASK_COUNT is");
    }
    return Make(id - lo, n, "SLURM_ARRAY_TASK_ID");
  }
  for (const auto& [rank, size] : {std::pair<const char*, const char*>{"SLURM_PROCID", "SLURM_NTASKS"},
                                   {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                   {"PMI_RANK", "PMI_SIZE"}}) {
    ASSIGN_OR_RETURN(auto id, Pair(env, rank, size));
    if (id) return *id;
  }
  if (const auto index = env("JOB_COMPLETION_INDEX")) {
    ASSIGN_OR_RETURN(int r, Number("JOB_COMPLETION_INDEX", *index));
    int n = 0;
    if (flags.workers) {
      n = *flags.workers;
    } else if (const auto w = env("SLUICE_WORKERS")) {
      ASSIGN_OR_RETURN(n, Number("SLUICE_WORKERS", *w));
    } else {
      return Status::InvalidArgument("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the worker count is not: "
                                     "pass --workers N or set SLUICE_WORKERS to the Job's completions");
    }
    return Make(r, n, "JOB_COMPLETION_INDEX");
  }
  if (flags.workers && *flags.workers != 1) {
    return Status::InvalidArgument("--workers " + std::to_string(*flags.workers) +
                                   " without a worker index (--worker R/N, or a launcher's environment)");
  }
  return WorkerIdentity{};
}

Result<WorkerIdentity> ResolveWorkerIdentity(const WorkerFlags& flags) {
  return ResolveWorkerIdentity(flags, [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

}  // namespace sluice
