#include "run_command.h"


#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stop_token>

#include "arg_parser.h"
#include "progress_display.h"
#include "sluice/job.h"
#include "sluice/metrics.h"
#include "sluice/report.h"
#include "sluice/worker_identity.h"
#ifdef SLUICE_WITH_MPI
#include "feeder_role.h"
#endif

namespace sluice::cli {
namespace {

std::stop_source g_stop;
void OnSignal(int) { g_stop.request_stop(); }  // the plan drains what it can and stops

/// The job as run, for the report: the file, then the --set overrides applied to it.
std::string ReadJobText(const std::string& path, const std::vector<std::string>& sets) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!sets.empty()) {
    text += "\n# overridden on the command line:\n";
    for (const auto& s : sets) text += "#   --set " + s + "\n";
  }
  return text;
}

}  // namespace

int RunJobCommand(const std::vector<std::string>& all_args) {
  std::string command_line = "sluice run";
  for (const auto& a : all_args) command_line += " " + a;
  std::vector<std::string> args;
  std::string job_file;
  bool overwrite = false, feeders_only = false;
  for (const auto& a : all_args) {
    if (a == "--overwrite") {
      overwrite = true;
    } else if (a == "--feeders-only") {
      feeders_only = true;
    } else if (a.rfind("--", 0) != 0 && job_file.empty() && (args.empty() || args.back() != "--set")) {
      job_file = a;
    } else {
      args.push_back(a);
    }
  }
  ArgParser p("sluice run JOB.yaml",
              "Runs a batch inference job: reads the input, preprocesses, runs the model and writes predictions, "
              "resuming from the shards an earlier run already published.\n"
              "  --overwrite            start over: delete this job's earlier output first\n"
              "  --feeders-only         with --role infer: only the feeders preprocess; this worker's cores run the model\n\n"
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
  int64_t metrics_port = -1;
  std::string metrics_addr;
  p.Int("--metrics-port", &metrics_port, "serve Prometheus metrics at http://127.0.0.1:PORT/metrics while the job runs");
  p.String("--metrics-addr", &metrics_addr, "HOST:PORT to serve Prometheus metrics on (e.g. 0.0.0.0:9400 for every interface)");
  std::string report_path;
  p.String("--report", &report_path, "write an HTML report of the run to this file (also when it stops with an error)");
  std::string role;
  p.String("--role", &role, "infer | preprocess: this process's part in a heterogeneous MPI launch (README 'Heterogeneous clusters')");

  if (!p.Parse(args)) return p.exit_code();
  if (job_file.empty()) return p.Fail("needs a job file");
  if (!role.empty() && role != "infer" && role != "preprocess") return p.Fail("--role must be infer or preprocess");
  if (!report_path.empty()) {
    if (Status st = CheckReportPath(report_path); !st.ok()) {
      std::fprintf(stderr, "sluice run: %s\n", st.message().c_str());
      return 2;
    }
  }
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
  // glibc's adaptive mmap threshold stays: sluice's own big buffers (row groups, batches) are
  // mapped and recycled by AllocateLarge (huge_pages.h), outside the heap, so freed ones do not
  // hide from the memory budget there; a fixed 1 MiB threshold made every libtorch tensor over
  // 1 MiB a fresh mapping with page faults (measured: a CPU resnet18 job 32 vs 44 rows/s).
  // Metrics: bound before any work, so a port in use fails at once.
  std::mutex stats_mu;
  PlanStats latest;
  std::pair<int, int> shards{0, 0};  // published, total
  std::unique_ptr<MetricsServer> metrics;
  if (metrics_port >= 0 || !metrics_addr.empty()) {
    MetricsServer::Options mo;
    if (!metrics_addr.empty()) {
      const size_t colon = metrics_addr.rfind(':');
      if (colon == std::string::npos) return p.Fail("--metrics-addr must be HOST:PORT");
      mo.host = metrics_addr.substr(0, colon);
      mo.port = std::atoi(metrics_addr.c_str() + colon + 1);
    } else {
      mo.port = static_cast<int>(metrics_port);
    }
    const std::string labels = worker->count > 1 ? "worker=\"" + std::to_string(worker->rank) + "\"" : "";
    mo.render = [&stats_mu, &latest, &shards, labels] {
      std::lock_guard lock(stats_mu);
      return PrometheusText(latest, labels) + PrometheusShardsText(shards.first, shards.second, labels);
    };
    auto server = MetricsServer::Start(std::move(mo));
    if (!server.ok()) {
      std::fprintf(stderr, "sluice run: %s\n", server.status().ToString().c_str());
      return 2;
    }
    metrics = std::move(server).value();
    std::fprintf(stderr, "metrics: http://%s:%d/metrics\n", metrics_addr.empty() ? "127.0.0.1" : metrics_addr.substr(0, metrics_addr.rfind(':')).c_str(),
                 metrics->port());
  }
  // A heterogeneous cell: MPI tells every process the others' roles; infer workers share the
  // shards among themselves, feeders work for them.
#ifdef SLUICE_WITH_MPI
  std::unique_ptr<cluster::MpiCell> cell;
  if (!role.empty()) {
    auto started = cluster::MpiCell::Start(role == "infer" ? CellRole::kInfer : CellRole::kPreprocess, spec->Fingerprint());
    if (!started.ok()) {
      std::fprintf(stderr, "sluice run --role %s: %s\n", role.c_str(), started.status().ToString().c_str());
      return 2;
    }
    cell = std::move(started).value();
    worker = cell->identity();
    if (role == "preprocess") return RunFeederRole(*cell, *spec, mode, summary_json);
  }
  // After a failure the whole launch ends (the others would wait for this process forever).
  const auto end_cell = [&cell](int code) {
    if (!cell) return code;
    if (code != 0) cell->Abort(code);
    Status st = cell->Finish();
    if (!st.ok()) std::fprintf(stderr, "sluice run: %s\n", st.ToString().c_str());
    return st.ok() ? 0 : 1;
  };
#else
  if (!role.empty()) {
    std::fprintf(stderr, "sluice run --role: this sluice was built without MPI (install libopenmpi-dev and rebuild)\n");
    return 2;
  }
  const auto end_cell = [](int code) { return code; };
#endif
  ProgressDisplay display(mode, stderr);
  if (worker->count > 1 || !role.empty()) display.SetTitle(worker->Describe());
  RunOptions ro;
  ro.overwrite = overwrite;
  ro.worker = *worker;
#ifdef SLUICE_WITH_MPI
  if (cell && cell->feeders()->feeders() > 0) ro.feeders = cell->feeders();
  ro.local_preprocess = !feeders_only;
#endif
  ro.on_progress = [&display, &stats_mu, &latest, serving = metrics != nullptr](const PlanStats& s) {
    display.Update(s);
    if (!serving) return;  // the snapshot (timelines included) is copied only for a scraper
    std::lock_guard lock(stats_mu);
    latest = s;
  };
  ro.on_shards = [&stats_mu, &shards](int published, int total) {
    std::lock_guard lock(stats_mu);
    shards = {published, total};
  };
  RunReportRecorder recorder;
  if (!report_path.empty()) recorder.Attach(&ro);
  ro.stop = g_stop.get_token();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto result = RunJob(*spec, ro);
  display.Finish();
  if (!report_path.empty()) {
    RunReportInput in;
    in.title = job_file;
    in.job_file_text = ReadJobText(job_file, sets);
    in.command = command_line;
    in.worker = *worker;
    if (Status st = recorder.Write(report_path, std::move(in), result); !st.ok()) {
      std::fprintf(stderr, "sluice run: the report: %s\n", st.ToString().c_str());
      report_path.clear();
    }
  }
  const auto say_report = [&report_path] {
    if (!report_path.empty()) std::fprintf(stderr, "report: %s\n", report_path.c_str());
  };
  if (metrics && metrics->scrapes() > 0) {
    // Someone scrapes: let the final figures reach them (one more scrape, at most 15 s).
    if (result.ok()) {
      std::lock_guard lock(stats_mu);
      latest = result->stats;
    }
    metrics->WaitForScrape(metrics->scrapes(), 15000);
  }
  if (!result.ok()) {
    std::fprintf(stderr, "sluice run: %s\n", result.status().ToString().c_str());
    say_report();
    if (result.status().code() == StatusCode::kStalled) {
      // A thread may still be stuck inside the model or storage: leave without running
      // destructors under it. Nothing half-written was published; a rerun resumes.
      std::fflush(nullptr);
      if (!role.empty()) end_cell(1);
      _exit(1);
    }
    return end_cell(result.status().IsUserError() ? 2 : 1);
  }
  std::fprintf(stderr, "%s", result->Summary().c_str());
  say_report();
  if (!summary_json.empty()) {
    std::ofstream(summary_json) << result->ToJson() << "\n";
  }
  return end_cell(0);
}

}  // namespace sluice::cli
