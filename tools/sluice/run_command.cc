#include "run_command.h"

#include <malloc.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <stop_token>

#include "arg_parser.h"
#include "progress_display.h"
#include "sluice/job.h"
#include "sluice/worker_identity.h"

namespace sluice::cli {
namespace {

std::stop_source g_stop;
void OnSignal(int) { g_stop.request_stop(); }  // the plan drains what it can and stops

}  // namespace

int RunJobCommand(const std::vector<std::string>& all_args) {
  std::vector<std::string> args;
  std::string job_file;
  bool overwrite = false;
  for (const auto& a : all_args) {
    if (a == "--overwrite") {
      overwrite = true;
    } else if (a.rfind("--", 0) != 0 && job_file.empty() && (args.empty() || args.back() != "--set")) {
      job_file = a;
    } else {
      args.push_back(a);
    }
  }
  ArgParser p("sluice run JOB.yaml",
              "Runs a batch inference job: reads the input, preprocesses, runs the model and writes predictions, "
              "resuming from the shards an earlier run already published.\n"
              "  --overwrite            start over: delete this job's earlier output first\n\n"
              "Job file reference:\n" + JobFileReference());
  std::vector<std::string> sets;
  std::string progress = "auto", summary_json;
  p.Repeated("--set", &sets, "override a job file key: key.sub=value (repeatable)");
  p.String("--progress", &progress, "auto | tty | plain | none");
  p.String("--summary-json", &summary_json, "also write the summary as JSON to this file");
  WorkerFlags worker_flags;
  int64_t workers = 0;
  p.String("--worker", &worker_flags.worker, "R/N: this process is worker R of N (else from Slurm, MPI or Kubernetes variables)");
  p.Int("--workers", &workers, "the worker count of a Kubernetes Indexed Job (or SLUICE_WORKERS)");
  if (!p.Parse(args)) return p.exit_code();
  if (job_file.empty()) return p.Fail("needs a job file");
  if (workers > 0) worker_flags.workers = static_cast<int>(workers);
  auto worker = ResolveWorkerIdentity(worker_flags);
  if (!worker.ok()) {
    std::fprintf(stderr, "sluice run: %s\n", worker.status().ToString().c_str());
    return 2;
  }
  auto spec = LoadJobFile(job_file, sets);
  if (!spec.ok()) {
    std::fprintf(stderr, "sluice run: %s\n", spec.status().ToString().c_str());
    return 2;
  }
  ProgressMode mode = ProgressMode::kAuto;
  if (progress == "tty") mode = ProgressMode::kTty;
  else if (progress == "plain") mode = ProgressMode::kPlain;
  else if (progress == "none") mode = ProgressMode::kNone;
  else if (progress != "auto") return p.Fail("--progress must be auto, tty, plain or none");
  // Big buffers (row groups, batches) come and go all run long: a fixed mmap threshold returns
  // them to the system when freed instead of letting glibc's adaptive threshold keep them in
  // the heap, where the memory budget cannot see them.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  ProgressDisplay display(mode, stderr);
  if (worker->count > 1) display.SetTitle(worker->Describe());
  RunOptions ro;
  ro.overwrite = overwrite;
  ro.worker = *worker;
  ro.on_progress = [&display](const PlanStats& s) { display.Update(s); };
  ro.stop = g_stop.get_token();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto result = RunJob(*spec, ro);
  display.Finish();
  if (!result.ok()) {
    std::fprintf(stderr, "sluice run: %s\n", result.status().ToString().c_str());
    if (result.status().code() == StatusCode::kStalled) {
      // A thread may still be stuck inside the model or storage: leave without running
      // destructors under it. Nothing half-written was published; a rerun resumes.
      std::fflush(nullptr);
      _exit(1);
    }
    return result.status().IsUserError() ? 2 : 1;
  }
  std::fprintf(stderr, "%s", result->Summary().c_str());
  if (!summary_json.empty()) {
    std::ofstream(summary_json) << result->ToJson() << "\n";
  }
  return 0;
}

}  // namespace sluice::cli
