#include "sluice/executor.h"

#include <unistd.h>

#include <memory>

#include "plan_run.h"

namespace sluice {

Status Execute(const Plan& plan, const ExecutorOptions& options, PlanStats* stats) {
  Status valid = plan.Validate();
  if (!valid.ok()) {
    if (stats) stats->status = valid.ToString();
    return valid;
  }
  if (options.memory_budget < 0) return Status::InvalidArgument("memory budget must not be negative");
  if (options.sample_interval.count() <= 0 || options.progress_interval.count() <= 0) {
    return Status::InvalidArgument("sample and progress intervals must be positive");
  }
  auto run = std::make_unique<exec::PlanRun>(plan, options);
  Status status = run->Run(stats);
  // A watchdog trip may leave a thread stuck in user code that never returns: its state must
  // outlive this call, so it is left allocated (the process is expected to exit on this error).
  if (run->abandoned()) (void)run.release();
  return status;
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return int64_t{4} << 30;
  return static_cast<int64_t>(pages) * page;
}

}  // namespace sluice
