#pragma once
/// `sluice run JOB.yaml --role preprocess`: a feeder of a heterogeneous MPI launch.
#include <string>

#include "cluster/mpi_cell.h"
#include "progress_display.h"
#include "sluice/job.h"

namespace sluice::cli {
/// Runs the feeder until no infer worker has work, prints its summary, ends its part of the
/// launch; on an error tells the infer workers and ends the launch. Returns the exit code.
int RunFeederRole(cluster::MpiCell& cell, const JobSpec& spec, ProgressMode mode, const std::string& summary_json);
}  // namespace sluice::cli
