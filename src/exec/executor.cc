#include "sluice/executor.h"

#include <unistd.h>

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
  exec::PlanRun run(plan, options);
  return run.Run(stats);
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return int64_t{4} << 30;
  return static_cast<int64_t>(pages) * page;
}

}  // namespace sluice
