// RunJob: checks everything that can fail before any work, resumes from the published shards,
// runs the plan, then writes the manifest and _SUCCESS.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "job/cpu_gate.h"
#include "job/job_chain.h"
#include "job/feeder_inbox.h"
#include "job/job_input.h"
#include "job/output_dir.h"
#include "job/shard_output.h"
#include "job/work_queue.h"
#include "job/worker_report.h"
#include "sluice/executor.h"
#include "sluice/byte_units.h"
#include "sluice/huge_pages.h"
#include "sluice/inference.h"
#include "sluice/json_lines.h"
#include "sluice/s3.h"

namespace sluice {
namespace {

using job::JoinUri;

/// The run so far (`earlier` rounds, maybe none) and the `round` now running or just ended, as
/// one: the round's current figures (queues, workers, bytes in flight), counters summed, peaks
/// the larger, and timelines continued (the round's times start where the earlier ones end,
/// its running totals on top of theirs). A worker that took shards over runs several rounds.
PlanStats CombineRounds(const PlanStats& earlier, const PlanStats& round) {
  if (earlier.stages.empty()) return round;
  PlanStats run = round;
  const double t0 = earlier.wall_s;
  run.wall_s += t0;
  run.peak_in_flight_bytes = std::max(earlier.peak_in_flight_bytes, round.peak_in_flight_bytes);
  run.peak_rss_bytes = std::max(earlier.peak_rss_bytes, round.peak_rss_bytes);
  run.rss_at_start_bytes = earlier.rss_at_start_bytes;
  run.bad_row_count += earlier.bad_row_count;
  run.timeline = earlier.timeline;
  for (PlanSample p : round.timeline) {
    p.t_s += t0;
    run.timeline.push_back(p);
  }
  for (size_t g = 0; g < run.gpus.size() && g < earlier.gpus.size(); ++g) {
    GpuStats& now = run.gpus[g];
    const GpuStats& before = earlier.gpus[g];
    std::vector<GpuStats::Point> points = before.timeline;
    for (GpuStats::Point p : now.timeline) {
      p.t_s += t0;
      points.push_back(p);
    }
    const double n_before = static_cast<double>(before.timeline.size()), n_now = static_cast<double>(now.timeline.size());
    if (n_before + n_now > 0) now.avg_utilization = (before.avg_utilization * n_before + now.avg_utilization * n_now) / (n_before + n_now);
    now.peak_memory_used_bytes = std::max(now.peak_memory_used_bytes, before.peak_memory_used_bytes);
    now.timeline = std::move(points);
  }
  for (size_t i = 0; i < run.stages.size() && i < earlier.stages.size(); ++i) {
    StageStats& a = run.stages[i];
    const StageStats& b = earlier.stages[i];
    std::vector<TimelinePoint> points = b.timeline;
    for (TimelinePoint p : a.timeline) {
      p.t_s += t0;
      p.rows_done += b.kind == "sink" ? b.rows_in : b.rows_out;
      p.busy_s += b.busy_s;
      p.idle_s += b.idle_s;
      p.blocked_s += b.blocked_s;
      points.push_back(p);
    }
    a.timeline = std::move(points);
    a.rows_in += b.rows_in;
    a.rows_out += b.rows_out;
    a.batches_in += b.batches_in;
    a.batches_out += b.batches_out;
    a.bytes_in += b.bytes_in;
    a.bytes_out += b.bytes_out;
    a.busy_s += b.busy_s;
    a.idle_s += b.idle_s;
    a.blocked_s += b.blocked_s;
    a.bad_rows += b.bad_rows;
    a.max_concurrency = std::max(a.max_concurrency, b.max_concurrency);
    a.min_concurrency = std::min(a.min_concurrency, b.min_concurrency);
    a.max_queue_batches = std::max(a.max_queue_batches, b.max_queue_batches);
  }
  return run;
}

}  // namespace

Result<JobResult> RunJob(const JobSpec& spec, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  // 1. Everything that can fail before any work: credentials, input, model, output.
  bool uses_s3 = spec.output.uri.rfind("s3://", 0) == 0;
  for (const auto& u : spec.input.uris) uses_s3 = uses_s3 || u.rfind("s3://", 0) == 0;
  if (uses_s3) RETURN_IF_ERROR(CheckDefaultS3Credentials());
  ASSIGN_OR_RETURN(job::JobInput input, job::PlanInput(spec));
  const int cpus = job::JobCpus(spec);
  // Feeders (a heterogeneous cell) send uint8 crops; each takes this many batches in flight.
  int feeder_credits = 0;
  if (options.feeders) {
    ASSIGN_OR_RETURN(PreprocessSpec crop, FeederCropSpec(spec));
    const int64_t batch_bytes = 32 * crop.OutputType().fixed_row_bytes();
    const int feeders = std::max(1, options.feeders->feeders());
    feeder_credits = static_cast<int>(std::max<int64_t>(2, spec.resources.memory / 4 / batch_bytes / feeders));
  }
  ASSIGN_OR_RETURN(job::JobModel jm, job::PrepareJobModel(spec, input, cpus));
  const WorkerIdentity& worker = options.worker;
  if (worker.count > 1 && options.overwrite) {
    return Status::InvalidArgument("--overwrite with " + std::to_string(worker.count) +
                                   " workers: workers would delete each other's results; delete output.uri '" + spec.output.uri +
                                   "' (or run one worker with --overwrite) before starting them");
  }
  ASSIGN_OR_RETURN(job::OutputState out, job::PrepareOutput(spec, input, options.overwrite, /*delete_temps=*/worker.count == 1));

  // 2. This worker's place among the others (output_board.h, work_queue.h) and its report.
  const bool several = worker.count > 1;
  const auto heartbeat = std::chrono::milliseconds(static_cast<int64_t>(spec.workers.heartbeat_s * 1000));
  job::WorkerReport me;
  me.rank = worker.rank;
  me.count = worker.count;
  me.source = worker.source;
  me.host = job::HostName();
  me.pid = getpid();
  me.fingerprint = spec.Fingerprint();
  me.started_at = job::UnixNow();
  me.heartbeat_s = spec.workers.heartbeat_s;
  std::unique_ptr<job::OutputBoard> board;
  if (several) {
    RETURN_IF_ERROR(job::CheckWorkerSlot(*out.fsys, spec.output.uri, me, spec.workers.stale_after_s));
    board = std::make_unique<job::OutputBoard>(out.fsys, spec.output.uri, spec.output.format,
                                               std::chrono::milliseconds(static_cast<int64_t>(spec.workers.stale_after_s * 1000)));
    RETURN_IF_ERROR(board->ReleaseAll(worker.rank));  // claims a killed run of this worker left behind
  }
  std::set<int> published_at_start;
  for (const auto& s : input.shards) {
    if (out.published.count(job::PartName(s.index, spec.output.format))) published_at_start.insert(s.index);
  }
  job::WorkQueue queue(input.shards, published_at_start, board.get(), {worker.rank, worker.count, spec.workers.help_others});
  me.own_shards = queue.own_total();
  me.own_resumed = queue.own_published_at_start();
  me.state = "running";
  ASSIGN_OR_RETURN(auto reporter, job::WorkerReporter::Start(out.fsys, JoinUri(spec.output.uri, job::WorkerReportName(worker.rank)), me, heartbeat));
  // A different job file started at the same moment on an empty output shows in _job.json now.
  if (several) {
    Status same = job::CheckJobRecord(spec, *out.fsys);
    if (!same.ok()) {
      (void)reporter->Stop([&](job::WorkerReport& r) {
        r.state = "failed";
        r.error = same.ToString();
        r.ended_at = job::UnixNow();
      });
      return same;
    }
  }

  JobResult result;
  result.worker = worker;
  result.feeder_credits = feeder_credits;
  result.rows_total = input.total_rows;
  result.shards_total = static_cast<int>(input.shards.size());
  result.shards_resumed = queue.own_published_at_start();
  auto shards_known = std::make_shared<std::atomic<int>>(static_cast<int>(published_at_start.size()));
  if (options.on_shards) options.on_shards(*shards_known, result.shards_total);

  // 3. The plan, in rounds: read -> preprocess -> batch -> model -> write over the shards the
  // queue hands out; between rounds a worker with several waits for shards to take over.
  MapFn convert_crops = options.feeders ? MakeCropConversionMap(jm.pre, "input") : nullptr;
  const std::shared_ptr<job::CpuGate>& gate = jm.gate;
  const std::vector<std::string> columns = job::JobOutputColumns(spec, input, options.stages);
  // Freed large buffers kept for reuse are resident too: keep them to a part of the budget.
  SetLargeBufferCacheLimit(std::min<size_t>(LargeBufferCacheLimit(), static_cast<size_t>(spec.resources.memory / 4)));
  auto bad_count = std::make_shared<std::atomic<int64_t>>(0);

  int64_t remaining = 0;  // rows not published at start: the progress display's total
  for (const auto& s : input.shards) remaining += published_at_start.count(s.index) ? 0 : s.rows;

  auto run_round = [&](job::Shard first) -> Status {
    auto ledger = std::make_shared<job::ShardLedger>();
    ledger->Expect(first);
    const job::ShardBadRowHandler to_ledger = [ledger](int shard, const BadRow& row) { ledger->AddBad(shard, row); };
    MapFn local = job::WithShardBadRows(jm.GatedPreprocess(), to_ledger);
    MapFn tracked = [local, convert_crops](Batch b, TaskContext& ctx) -> Result<Batch> {
      if (convert_crops && b.num_rows() > 0 && b.FindColumn("input") >= 0) return convert_crops(std::move(b), ctx);  // a feeder's crops
      return local(std::move(b), ctx);
    };
    // The first shard, then whatever the queue hands out (one read worker at a time asks; the
    // feeders' requests too).
    auto pending = std::make_shared<std::pair<std::mutex, std::optional<job::Shard>>>();
    pending->second = first;
    job::ShardFeed feed = [pending, ledger, &queue, &reporter]() -> Result<std::optional<job::Shard>> {
      std::lock_guard lock(pending->first);
      std::optional<job::Shard> s = std::move(pending->second);
      pending->second.reset();
      if (!s) {
        ASSIGN_OR_RETURN(s, queue.Next());
        if (s) ledger->Expect(*s);
      }
      reporter->Update([&](job::WorkerReport& r) {
        r.in_progress = queue.in_progress();
        r.taken = queue.taken();
      });
      return s;
    };
    std::shared_ptr<job::FeederInbox> inbox;
    job::ShardFeed local_feed = feed;
    if (options.feeders && !options.local_preprocess) {
      local_feed = []() -> Result<std::optional<job::Shard>> { return std::optional<job::Shard>(); };  // every shard to a feeder
    } else if (options.feeders) {
      local_feed = [feed, &inbox]() -> Result<std::optional<job::Shard>> {
        ASSIGN_OR_RETURN(auto s, feed());
        if (!s) inbox->NoMoreShards();
        return s;
      };
    }
    std::shared_ptr<Source> source = job::MakeShardSource(spec, local_feed, 32, remaining);
    int read_workers = std::min({std::max(1, queue.own_total() - queue.own_published_at_start()), cpus, 4});
    if (options.feeders) {
      inbox = std::make_shared<job::FeederInbox>(options.feeders, feed, ledger, feeder_credits, start);
      source = job::WithFeederTask(source, inbox);
      ++read_workers;  // one waits on the feeders
    }
    job::OutputSpec ospec{spec.output.uri, spec.output.format, spec.output.compression, columns,
                          out.published.empty() ? "" : JoinUri(spec.output.uri, *out.published.begin()), spec.output.tensor_layout, nullptr};
    ospec.on_published = [&queue, &reporter, &options, shards_known, total = result.shards_total](int shard, int64_t written, int64_t bad) {
      queue.Published(shard);
      if (options.on_shards) options.on_shards(shards_known->fetch_add(1) + 1, total);
      reporter->Update([&](job::WorkerReport& r) {
        ++r.shards_done;
        r.published.push_back(shard);
        r.rows_done += written;
        r.bad_rows += bad;
        r.in_progress = queue.in_progress();
      });
    };
    Plan plan;
    plan.AddSource("read", source, read_workers);
    job::AddJobStages(plan, spec, tracked, jm.ModelActor(), jm.replicas(), options.stages, to_ledger, cpus);
    plan.AddSink("write", job::MakeShardSink(ospec, ledger));
    ExecutorOptions eo = job::JobExecutorOptions(spec, options.stop);
    // Time waiting for the gate (the other's turn on the cores) is not work: this round's
    // waits, sampled with the progress so the timelines can leave them out too.
    struct GateWaits {
      double t_s, model, preprocess;
    };
    auto waits = std::make_shared<std::vector<GateWaits>>();
    const GateWaits waited_before{0, gate ? gate->model_wait_s() : 0, gate ? gate->preprocess_wait_s() : 0};
    const auto waited_now = [gate, waited_before](double t) {
      return GateWaits{t, gate->model_wait_s() - waited_before.model, gate->preprocess_wait_s() - waited_before.preprocess};
    };
    eo.on_progress = [&options, &reporter, &result, gate, waits, waited_now, inbox](const PlanStats& s) {
      if (gate) waits->push_back(waited_now(s.wall_s));  // the monitor thread only; read after Execute
      reporter->Update([&](job::WorkerReport& r) {
        r.SetStages(s);
        if (inbox) r.feeders = job::CombineFeeders(result.feeders, inbox->figures());
      });
      // Earlier rounds' figures only change between rounds, never while this one runs.
      if (options.on_progress) options.on_progress(CombineRounds(result.stats, s));
    };
    eo.on_bad_row = job::BadRowPolicy(spec, input.total_rows, options.on_bad_row, bad_count);
    PlanStats stats;
    if (inbox) inbox->Start();
    Status st = Execute(plan, eo, &stats);
    if (inbox) {
      inbox->Stop();
      result.feeders = job::CombineFeeders(result.feeders, inbox->figures());
      result.feeder_inbox_peak_bytes = std::max(result.feeder_inbox_peak_bytes, inbox->peak_bytes());
      reporter->Update([&](job::WorkerReport& r) { r.feeders = result.feeders; });
    }
    // After a watchdog trip a replica may still be inside the model: keep the models alive
    // (the caller is expected to exit; see Execute).
    if (st.code() == StatusCode::kStalled) (void)new auto(jm.models);
    if (!st.ok()) return st;
    if (gate) {
      waits->push_back(waited_now(stats.wall_s));
      for (auto& stage : stats.stages) {
        if (stage.name != "model" && stage.name != "preprocess") continue;
        const auto of = [&stage](const GateWaits& w) { return stage.name == "model" ? w.model : w.preprocess; };
        const double waited = of(waits->back());
        stage.busy_s = std::max(0.0, stage.busy_s - waited);
        stage.idle_s += waited;
        size_t k = 0;
        double w = 0;  // the waits up to each timeline point (the last sample at or before it)
        for (TimelinePoint& p : stage.timeline) {
          for (; k < waits->size() && (*waits)[k].t_s <= p.t_s; ++k) w = of((*waits)[k]);
          p.busy_s = std::max(0.0, p.busy_s - w);
          p.idle_s += w;
        }
      }
    }
    for (const auto& s : stats.stages) {
      if (s.name == "write") result.rows_written += s.rows_in;
    }
    result.stats = CombineRounds(result.stats, stats);
    return Status::OK();
  };

  Status st;
  while (true) {
    auto first = queue.Next();
    if (!first.ok()) {
      st = first.status();
      break;
    }
    if (*first) {
      st = run_round(**first);
      if (!st.ok()) break;
      reporter->Update([](job::WorkerReport& r) { r.work_ended_at = job::UnixNow(); });
    }
    if (!several || options.stop.stop_requested()) break;
    reporter->Update([](job::WorkerReport& r) { r.state = "waiting"; });
    auto more = queue.AwaitWork(heartbeat, options.stop);
    if (!more.ok() || !*more) {
      st = more.status();
      break;
    }
    reporter->Update([](job::WorkerReport& r) { r.state = "running"; });
  }
  if (options.feeders) options.feeders->Close();  // no more shards from this worker
  result.bad_rows = bad_count->load();
  result.rows_from_own_cores = result.rows_written + bad_count->load();
  for (const auto& f : result.feeders) result.rows_from_own_cores -= f.rows + f.bad_rows;
  const job::WorkerReport final_report = reporter->Snapshot();
  result.shards_written = final_report.shards_done;
  result.shards_taken = static_cast<int>(final_report.taken.size());
  if (st.ok() && options.stop.stop_requested()) st = Status::Cancelled("stopped by a signal before the job's shards were done");
  if (!st.ok()) {
    // What this worker started and did not publish is free for the others (or the rerun) now.
    queue.ReleaseUnfinished();
    (void)reporter->Stop([&](job::WorkerReport& r) {
      r.state = options.stop.stop_requested() ? "stopped" : "failed";
      r.error = st.ToString();
      r.in_progress.clear();
      r.ended_at = job::UnixNow();
    });
    return st;
  }
  jm.DescribeDType(spec, &result);
  if (result.shards_written > 0) {
    const ThroughputVerdict verdict = ExplainThroughput(result.stats);
    result.bottleneck = verdict.bottleneck;
    result.verdict = verdict.explanation;
  }
  RETURN_IF_ERROR(reporter->Stop([](job::WorkerReport& r) {
    r.state = "done";
    r.in_progress.clear();
    r.ended_at = job::UnixNow();
  }));

  // 4. The manifest, then _SUCCESS, by whichever worker finds every shard published (several
  // finishing at once write the same files, each atomically).
  ASSIGN_OR_RETURN(std::set<std::string> published, job::PublishedParts(spec.output.uri, spec.output.format, *out.fsys));
  for (const auto& s : input.shards) result.shards_published += published.count(job::PartName(s.index, spec.output.format)) ? 1 : 0;
  result.job_complete = result.shards_published == result.shards_total;
  if (result.job_complete) RETURN_IF_ERROR(job::FinishOutput(spec, input, *out.fsys));
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string JobResult::Summary() const {
  std::string s;
  char line[256];
  if (worker.count > 1) {
    s += worker.Describe() + ": owns shards " + std::to_string(worker.rank) + ", " + std::to_string(worker.rank + worker.count) +
         ", ... of the job's; took over " + std::to_string(shards_taken) + " of the others'\n";
  }
  std::snprintf(line, sizeof(line), "%lld rows in %d shards: %d written now, %d already published (resumed)\n",
                static_cast<long long>(rows_total), shards_total, shards_written, shards_resumed);
  s += line;
  if (worker.count > 1) {
    s += job_complete ? "every shard is published: the job is complete (_manifest.json, _SUCCESS)\n"
                      : std::to_string(shards_published) + " of " + std::to_string(shards_total) +
                            " shards published so far; the job completes when the other workers finish theirs\n";
  }
  if (!feeders.empty()) {
    s += "rows from this worker's own cores: " + std::to_string(rows_from_own_cores) + "; feeders' batches held here at most " +
         FormatBytes(feeder_inbox_peak_bytes) + " (" + std::to_string(feeder_credits) + " credits each)\n";
    for (const FeederFigures& f : feeders) {
      std::snprintf(line, sizeof(line), "rows from %s: %lld (%lld bad) in %d shards, %.1f rows/s, %.1f MiB (%.0f bytes per row); it waited %.1f s for credits\n",
                    f.name.c_str(), static_cast<long long>(f.rows + f.bad_rows), static_cast<long long>(f.bad_rows), f.shards, f.rows_per_s(),
                    static_cast<double>(f.bytes) / (1 << 20), f.rows > 0 ? static_cast<double>(f.bytes) / static_cast<double>(f.rows) : 0.0,
                    f.credit_wait_s);
      s += line;
    }
  }
  if (shards_written > 0) {
    s += FormatSummary(stats);
    // What each stage could sustain alone: rows per second of its busy time, all workers.
    s += "stage capacity (rows per busy second x workers):";
    for (const auto& st : stats.stages) {
      if (st.kind == "sink" || st.kind == "rebatch" || st.busy_s <= 0) continue;
      const double per_worker = static_cast<double>(st.kind == "source" ? st.rows_out : st.rows_in) / st.busy_s;
      std::snprintf(line, sizeof(line), " %s %.1f", st.name.c_str(), per_worker * std::max(1, st.max_concurrency));
      s += line;
    }
    s += "\n";
    std::snprintf(line, sizeof(line), "%lld rows written, %lld bad rows, %.1f rows/s end to end (%.1f s); bottleneck: %s\n",
                  static_cast<long long>(rows_written), static_cast<long long>(bad_rows),
                  stats.wall_s > 0 ? static_cast<double>(rows_written + bad_rows) / stats.wall_s : 0.0, wall_s, bottleneck.c_str());
    s += line;
    if (!verdict.empty()) s += "why: " + verdict + "\n";
  }
  if (!model_dtype.empty()) s += "model dtype: " + model_dtype + (model_dtype_why.empty() ? "" : " (" + model_dtype_why + ")") + "\n";
  return s;
}

std::string JobResult::ToJson() const {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"rows_total\":%lld,\"rows_written\":%lld,\"bad_rows\":%lld,\"shards_total\":%d,\"shards_resumed\":%d,"
                "\"shards_written\":%d,\"wall_s\":%.3f,\"plan_wall_s\":%.3f,\"rows_per_s\":%.3f,\"bottleneck\":",
                static_cast<long long>(rows_total), static_cast<long long>(rows_written), static_cast<long long>(bad_rows), shards_total,
                shards_resumed, shards_written, wall_s, stats.wall_s,
                stats.wall_s > 0 ? static_cast<double>(rows_written + bad_rows) / stats.wall_s : 0.0);
  std::string out = buf;
  AppendJsonString(bottleneck, &out);
  out += ",\"verdict\":";
  AppendJsonString(verdict, &out);
  out += ",\"model_dtype\":";
  AppendJsonString(model_dtype, &out);
  out += ",\"model_dtype_why\":";
  AppendJsonString(model_dtype_why, &out);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  out += ",\"peak_rss_bytes\":" + std::to_string(static_cast<int64_t>(usage.ru_maxrss) * 1024);
  out += ",\"worker\":{\"rank\":" + std::to_string(worker.rank) + ",\"count\":" + std::to_string(worker.count) + ",\"source\":";
  AppendJsonString(worker.source, &out);
  out += "},\"shards_taken\":" + std::to_string(shards_taken) + ",\"shards_published\":" + std::to_string(shards_published) + ",\"job_complete\":" + (job_complete ? "true" : "false");
  out += ",\"rows_from_own_cores\":" + std::to_string(rows_from_own_cores) + ",\"feeder_credits\":" + std::to_string(feeder_credits) +
         ",\"feeder_inbox_peak_bytes\":" + std::to_string(feeder_inbox_peak_bytes) + ",\"feeders\":" + job::FeedersJson(feeders);
  out += ",\"stats\":" + StatsToJson(stats) + "}";
  return out;
}

}  // namespace sluice
