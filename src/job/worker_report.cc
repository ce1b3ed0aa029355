#include "job/worker_report.h"

#include <signal.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <condition_variable>

#include "job/output_board.h"
#include "job/output_dir.h"
#include "job/shard_output.h"
#include "sluice/json_lines.h"

namespace sluice::job {

double UnixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

double WorkerReport::rows_per_s() const {
  const double end = work_end();
  return end > started_at ? static_cast<double>(rows_done + bad_rows) / (end - started_at) : 0.0;
}

void WorkerReport::SetStages(const PlanStats& stats) {
  stages.clear();
  for (const auto& s : stats.stages) {
    stages.push_back({s.name, s.kind == "source" ? s.rows_out : s.rows_in, s.busy_s, s.idle_s, s.blocked_s, s.max_concurrency});
  }
}

namespace {

std::string Ints(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

}  // namespace

std::string FeedersJson(const std::vector<FeederFigures>& feeders) {
  std::string j = "[";
  for (size_t i = 0; i < feeders.size(); ++i) {
    const FeederFigures& f = feeders[i];
    j += i ? ",{\"name\":" : "{\"name\":";
    AppendJsonString(f.name, &j);
    j += ",\"shards\":" + std::to_string(f.shards) + ",\"rows\":" + std::to_string(f.rows) + ",\"bad_rows\":" + std::to_string(f.bad_rows) +
         ",\"batches\":" + std::to_string(f.batches) + ",\"bytes\":" + std::to_string(f.bytes) + ",\"active_s\":" + Num(f.active_s) +
         ",\"rows_per_s\":" + Num(f.rows_per_s()) + ",\"credit_wait_s\":" + Num(f.credit_wait_s) + "}";
  }
  return j + "]";
}

std::string WorkerReport::ToJson() const {
  std::string j = "{\"rank\":" + std::to_string(rank) + ",\"count\":" + std::to_string(count) + ",\"source\":";
  AppendJsonString(source, &j);
  j += ",\"host\":";
  AppendJsonString(host, &j);
  j += ",\"pid\":" + std::to_string(pid) + ",\"state\":";
  AppendJsonString(state, &j);
  j += ",\"error\":";
  AppendJsonString(error, &j);
  j += ",\"started_at\":" + Num(started_at) + ",\"updated_at\":" + Num(updated_at) + ",\"ended_at\":" + Num(ended_at) + ",\"work_ended_at\":" + Num(work_ended_at) +
       ",\"seq\":" + std::to_string(seq) + ",\"heartbeat_s\":" + Num(heartbeat_s) + ",\"own_shards\":" + std::to_string(own_shards) + ",\"own_resumed\":" +
       std::to_string(own_resumed) + ",\"shards_done\":" + std::to_string(shards_done) + ",\"published\":" + Ints(published) + ",\"taken\":" + Ints(taken) +
       ",\"in_progress\":" + Ints(in_progress) + ",\"rows_done\":" + std::to_string(rows_done) + ",\"bad_rows\":" +
       std::to_string(bad_rows) + ",\"rows_per_s\":" + Num(rows_per_s()) + ",\"stages\":[";
  for (size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    j += i ? ",{\"name\":" : "{\"name\":";
    AppendJsonString(s.name, &j);
    j += ",\"rows\":" + std::to_string(s.rows) + ",\"busy_s\":" + Num(s.busy_s) + ",\"idle_s\":" + Num(s.idle_s) +
         ",\"blocked_s\":" + Num(s.blocked_s) + ",\"concurrency\":" + std::to_string(s.concurrency) + "}";
  }
  j += "],\"history\":[";
  for (size_t i = 0; i < history.size(); ++i) j += (i ? ",[" : "[") + Num(history[i].first) + "," + std::to_string(history[i].second) + "]";
  j += "],\"feeders\":" + FeedersJson(feeders) + ",\"fingerprint\":";
  AppendJsonString(fingerprint, &j);
  return j + "}\n";
}

Result<WorkerReport> WorkerReport::Parse(const std::string& json, const std::string& name) {
  WorkerReport r;
  try {
    const YAML::Node n = YAML::Load(json);
    r.rank = n["rank"].as<int>();
    r.count = n["count"].as<int>();
    r.source = n["source"].as<std::string>("");
    r.host = n["host"].as<std::string>("");
    r.pid = n["pid"].as<int64_t>(0);
    r.fingerprint = n["fingerprint"].as<std::string>("");
    r.state = n["state"].as<std::string>("");
    r.error = n["error"].as<std::string>("");
    r.started_at = n["started_at"].as<double>(0);
    r.updated_at = n["updated_at"].as<double>(0);
    r.ended_at = n["ended_at"].as<double>(0);
    r.work_ended_at = n["work_ended_at"].as<double>(0);
    r.seq = n["seq"].as<int64_t>(0);
    r.heartbeat_s = n["heartbeat_s"].as<double>(0);
    r.own_shards = n["own_shards"].as<int>(0);
    r.own_resumed = n["own_resumed"].as<int>(0);
    r.shards_done = n["shards_done"].as<int>(0);
    if (n["published"]) r.published = n["published"].as<std::vector<int>>();
    if (n["taken"]) r.taken = n["taken"].as<std::vector<int>>();
    if (n["in_progress"]) r.in_progress = n["in_progress"].as<std::vector<int>>();
    r.rows_done = n["rows_done"].as<int64_t>(0);
    r.bad_rows = n["bad_rows"].as<int64_t>(0);
    for (const auto& s : n["stages"]) {
      r.stages.push_back({s["name"].as<std::string>(""), s["rows"].as<int64_t>(0), s["busy_s"].as<double>(0), s["idle_s"].as<double>(0),
                          s["blocked_s"].as<double>(0), s["concurrency"].as<int>(0)});
    }
    for (const auto& p : n["history"]) r.history.emplace_back(p[0].as<double>(), p[1].as<int64_t>());
    for (const auto& f : n["feeders"]) {
      r.feeders.push_back({f["name"].as<std::string>(""), f["shards"].as<int>(0), f["rows"].as<int64_t>(0), f["bad_rows"].as<int64_t>(0),
                           f["batches"].as<int64_t>(0), f["bytes"].as<int64_t>(0), f["active_s"].as<double>(0), f["credit_wait_s"].as<double>(0)});
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidData("'" + name + "' is not a sluice worker report: " + e.what());
  }
  return r;
}

WorkerReporter::WorkerReporter(std::shared_ptr<FileSystem> fsys, std::string uri, WorkerReport report)
    : fsys_(std::move(fsys)), uri_(std::move(uri)), report_(std::move(report)) {}

Result<std::unique_ptr<WorkerReporter>> WorkerReporter::Start(std::shared_ptr<FileSystem> fsys, std::string uri, WorkerReport report,
                                                              std::chrono::milliseconds interval) {
  std::unique_ptr<WorkerReporter> r(new WorkerReporter(std::move(fsys), std::move(uri), std::move(report)));
  RETURN_IF_ERROR(r->Write());
  r->thread_ = std::jthread([self = r.get(), interval](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      std::unique_lock lock(m);
      if (cv.wait_for(lock, stop, interval, [] { return false; })) break;
      if (stop.stop_requested()) break;
      (void)self->Write();  // a missed heartbeat is retried at the next one
    }
  });
  return r;
}

WorkerReporter::~WorkerReporter() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void WorkerReporter::Update(const std::function<void(WorkerReport&)>& change) {
  std::lock_guard lock(mu_);
  change(report_);
}

WorkerReport WorkerReporter::Snapshot() const {
  std::lock_guard lock(mu_);
  return report_;
}

Status WorkerReporter::Write() {
  std::lock_guard order(write_mu_);
  std::string text;
  {
    std::lock_guard lock(mu_);
    ++report_.seq;
    report_.updated_at = UnixNow();
    auto& h = report_.history;
    if (h.size() >= WorkerReport::kMaxHistory) {  // keep every other point, the newest always
      size_t kept = 0;
      for (size_t i = 0; i < h.size(); i += 2) h[kept++] = h[i];
      h.resize(kept);
    }
    h.emplace_back(report_.updated_at, report_.rows_done);
    text = report_.ToJson();
  }
  return WriteText(*fsys_, uri_, text);
}

Status WorkerReporter::Stop(const std::function<void(WorkerReport&)>& change) {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  Update(change);
  return Write();
}

}  // namespace sluice::job

namespace sluice::job {
namespace {

bool LooksAlive(const WorkerReport& r, const WorkerReport& me, double stale_after_s) {
  if (r.state != "starting" && r.state != "running" && r.state != "waiting") return false;
  if (r.host == me.host) return r.pid != me.pid && ::kill(static_cast<pid_t>(r.pid), 0) == 0;
  return UnixNow() - r.updated_at < stale_after_s;
}

std::string Who(const WorkerReport& r) {
  return "worker " + std::to_string(r.rank) + " of " + std::to_string(r.count) + " (from " + r.source + ") on host " + r.host + ", pid " +
         std::to_string(r.pid);
}

}  // namespace

Status CheckWorkerSlot(FileSystem& fsys, const std::string& dir, const WorkerReport& me, double stale_after_s) {
  const std::vector<int> ranks = me.rank == 0 ? std::vector<int>{0} : std::vector<int>{me.rank, 0};
  for (int rank : ranks) {
    const std::string uri = JoinUri(dir, WorkerReportName(rank));
    auto text = ReadText(fsys, uri);
    if (!text.ok()) continue;  // none yet
    auto other = WorkerReport::Parse(*text, uri);
    if (!other.ok() || !LooksAlive(*other, me, stale_after_s)) continue;
    if (rank == me.rank) {
      return Status::InvalidArgument("two workers claim index " + std::to_string(me.rank) + ": this process is " + Who(me) + ", and '" + uri +
                                     "' says " + Who(*other) + " is running (updated " + std::to_string(static_cast<int>(UnixNow() - other->updated_at)) +
                                     " s ago); give each worker its own index (--worker R/N, or one launcher for all)");
    }
    if (other->count != me.count) {
      return Status::InvalidArgument("workers disagree on their number: this process is " + Who(me) + ", while " + Who(*other) +
                                     " is running on the same output; start every worker with the same count");
    }
    if (other->fingerprint != me.fingerprint) {
      return Status::InvalidArgument("a different job file runs on this output: this process is " + Who(me) + ", while " + Who(*other) +
                                     " runs another job file; give each job its own output.uri");
    }
  }
  return Status::OK();
}

}  // namespace sluice::job
