#include "job/job_progress.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>

#include "job/output_board.h"
#include "job/output_dir.h"
#include "job/shard_output.h"
#include "sluice/job.h"
#include "sluice/json_lines.h"

namespace sluice::job {
namespace {

std::string Num(double v, const char* format = "%.1f") {
  char buf[48];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

/// "12.3 s ago", "4 min ago".
std::string Ago(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return Num(seconds, "%.0f s ago");
  if (seconds < 7200) return Num(seconds / 60, "%.0f min ago");
  return Num(seconds / 3600, "%.1f h ago");
}

}  // namespace

WorkersSummary SummarizeWorkers(const std::vector<WorkerReport>& reports) {
  WorkersSummary s;
  std::vector<std::pair<double, int>> rates;
  int64_t rows = 0;
  for (const auto& r : reports) {
    ++s.workers;
    const double end = r.work_end();
    s.first_start = s.first_start == 0 ? r.started_at : std::min(s.first_start, r.started_at);
    s.last_end = std::max(s.last_end, end);
    rows += r.rows_done + r.bad_rows;
    rates.emplace_back(r.rows_per_s(), r.rank);
  }
  if (rates.empty()) return s;
  std::sort(rates.begin(), rates.end());
  s.min_rows_per_s = rates.front().first;
  s.max_rows_per_s = rates.back().first;
  const size_t n = rates.size();
  s.median_rows_per_s = n % 2 ? rates[n / 2].first : (rates[n / 2 - 1].first + rates[n / 2].first) / 2;
  s.slowest_rank = rates.front().second;
  if (s.last_end > s.first_start) s.job_rows_per_s = static_cast<double>(rows) / (s.last_end - s.first_start);
  return s;
}

std::string WorkersSummary::ToJson() const {
  return "{\"workers\":" + std::to_string(workers) + ",\"first_start\":" + Num(first_start, "%.3f") + ",\"last_end\":" + Num(last_end, "%.3f") +
         ",\"job_rows_per_s\":" + Num(job_rows_per_s, "%.3f") + ",\"worker_rows_per_s\":{\"min\":" + Num(min_rows_per_s, "%.3f") +
         ",\"median\":" + Num(median_rows_per_s, "%.3f") + ",\"max\":" + Num(max_rows_per_s, "%.3f") + "},\"slowest_worker\":" +
         std::to_string(slowest_rank) + "}";
}

Result<std::vector<WorkerReport>> ReadWorkerReports(const std::string& dir, FileSystem& fsys) {
  ASSIGN_OR_RETURN(auto names, ListNames(JoinUri(dir, "_workers/"), fsys));
  std::vector<WorkerReport> out;
  for (const auto& n : names) {
    if (n.rfind("worker-", 0) != 0 || n.size() < 5 || n.compare(n.size() - 5, 5, ".json") != 0) continue;
    const std::string uri = JoinUri(JoinUri(dir, "_workers"), n);
    // Reports are rewritten every heartbeat: read one again if it comes half-written.
    auto text = ReadWhole(fsys, uri, [&uri](const std::string& t) { return WorkerReport::Parse(t, uri).ok(); });
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;  // replaced while we listed
      return text.status();
    }
    ASSIGN_OR_RETURN(WorkerReport r, WorkerReport::Parse(*text, uri));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const WorkerReport& a, const WorkerReport& b) { return a.rank < b.rank; });
  return out;
}

Result<JobProgress> ReadJobProgress(const std::string& output_uri) {
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(output_uri));
  JobProgress p;
  p.uri = output_uri;
  p.read_at = UnixNow();
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(output_uri, *fsys));
  if (std::find(names.begin(), names.end(), "_job.json") == names.end()) {
    return Status::NotFound("'" + output_uri + "' holds no sluice job output (no _job.json): has the job started, and is this its output.uri?");
  }
  std::vector<int64_t> shard_rows;
  std::string format;
  {
    ASSIGN_OR_RETURN(std::string text, ReadWhole(*fsys, JoinUri(output_uri, "_job.json"), IsJobRecord));
    try {
      const YAML::Node n = YAML::Load(text);
      p.shards_total = n["shards"].as<int>();
      p.rows_total = n["rows"].as<int64_t>();
      if (n["shard_rows"]) shard_rows = n["shard_rows"].as<std::vector<int64_t>>();
      format = n["format"].as<std::string>("");
    } catch (const YAML::Exception& e) {
      return Status::InvalidData("'" + JoinUri(output_uri, "_job.json") + "' is not a sluice job record: " + e.what());
    }
  }
  for (const auto& n : names) {
    if (n == "_SUCCESS") p.complete = true;
    if (IsPart(n, "." + format)) {
      ++p.shards_published;
      const int shard = std::atoi(n.c_str() + 5);
      if (shard >= 0 && static_cast<size_t>(shard) < shard_rows.size()) p.rows_published += shard_rows[static_cast<size_t>(shard)];
    }
    if (n.rfind("_errors/part-", 0) == 0 && n.find(".tmp-") == std::string::npos) {
      ASSIGN_OR_RETURN(std::string text, ReadText(*fsys, JoinUri(output_uri, n)));
      p.bad_rows += std::count(text.begin(), text.end(), '\n');
    }
    if (n.rfind("_claims/", 0) == 0) {
      if (const auto claim = ParseClaimName(n.substr(8))) p.in_progress.push_back(claim->first);
    }
  }
  std::sort(p.in_progress.begin(), p.in_progress.end());
  p.in_progress.erase(std::unique(p.in_progress.begin(), p.in_progress.end()), p.in_progress.end());
  ASSIGN_OR_RETURN(p.workers, ReadWorkerReports(output_uri, *fsys));
  p.summary = SummarizeWorkers(p.workers);
  return p;
}

std::vector<int> JobProgress::Stragglers() const {
  std::vector<double> rates;
  for (const auto& w : workers) {
    if (w.state == "running") rates.push_back(w.rows_per_s());
  }
  std::sort(rates.begin(), rates.end());
  const double median = rates.empty() ? 0 : rates[rates.size() / 2];
  std::vector<int> out;
  for (const auto& w : workers) {
    if (w.state != "running" && w.state != "starting") continue;
    const bool silent = w.heartbeat_s > 0 && read_at - w.updated_at > 3 * w.heartbeat_s;
    const bool slow = w.state == "running" && rates.size() > 1 && w.rows_per_s() < 0.5 * median;
    if (silent || slow) out.push_back(w.rank);
  }
  return out;
}

std::string JobProgress::ToText() const {
  std::string s = uri + ": " + (complete ? "complete" : "not complete") + "\n";
  // After completion, claims left are those of workers that stopped and never came back.
  const std::string claimed = in_progress.empty() ? ""
                              : complete           ? ", " + std::to_string(in_progress.size()) + " claims left by stopped workers"
                                                   : ", " + std::to_string(in_progress.size()) + " in progress";
  s += "  shards  " + std::to_string(shards_published) + " of " + std::to_string(shards_total) + " published" + claimed + "\n";
  s += "  rows    " + std::to_string(rows_published) + " of " + std::to_string(rows_total) + " in published shards (" +
       Num(rows_total > 0 ? 100.0 * static_cast<double>(rows_published) / static_cast<double>(rows_total) : 100.0) + "%), " +
       std::to_string(bad_rows) + " bad rows in _errors/\n";
  if (!workers.empty()) {
    s += "  workers " + std::to_string(workers.size()) + ": " + Num(summary.job_rows_per_s) + " rows/s together; per worker min " +
         Num(summary.min_rows_per_s) + " / median " + Num(summary.median_rows_per_s) + " / max " + Num(summary.max_rows_per_s) + "\n";
    for (const auto& w : workers) {
      char line[320];
      std::snprintf(line, sizeof(line), "    worker %d of %d  %-8s %-20s %5d shards (%zu taken) %9lld rows %8.1f rows/s  last activity %s\n", w.rank,
                    w.count, w.state.c_str(), w.host.c_str(), w.shards_done, w.taken.size(), static_cast<long long>(w.rows_done + w.bad_rows),
                    w.rows_per_s(), Ago(read_at - w.updated_at).c_str());
      s += line;
      if (!w.error.empty()) s += "      error: " + w.error + "\n";
    }
  }
  const auto slow = Stragglers();
  if (!slow.empty()) {
    s += "  stragglers:";
    for (int r : slow) s += " worker " + std::to_string(r);
    s += " (slower than half the median, or silent for three heartbeats)\n";
  }
  return s;
}

std::string JobProgress::ToJson() const {
  std::string j = "{\"uri\":";
  AppendJsonString(uri, &j);
  j += ",\"complete\":" + std::string(complete ? "true" : "false") + ",\"shards_total\":" + std::to_string(shards_total) +
       ",\"shards_published\":" + std::to_string(shards_published) + ",\"rows_total\":" + std::to_string(rows_total) +
       ",\"rows_published\":" + std::to_string(rows_published) + ",\"bad_rows\":" + std::to_string(bad_rows) + ",\"in_progress\":[";
  for (size_t i = 0; i < in_progress.size(); ++i) j += (i ? "," : "") + std::to_string(in_progress[i]);
  j += "],\"summary\":" + summary.ToJson() + ",\"stragglers\":[";
  const auto slow = Stragglers();
  for (size_t i = 0; i < slow.size(); ++i) j += (i ? "," : "") + std::to_string(slow[i]);
  j += "],\"workers\":[";
  for (size_t i = 0; i < workers.size(); ++i) {
    std::string w = workers[i].ToJson();
    w.pop_back();  // the newline
    j += (i ? "," : "") + w.substr(0, w.size() - 1) + ",\"last_activity_s_ago\":" + Num(read_at - workers[i].updated_at, "%.1f") + "}";
  }
  return j + "],\"read_at\":" + Num(read_at, "%.3f") + "}\n";
}

}  // namespace sluice::job

namespace sluice {

Result<std::string> DescribeJobOutput(const std::string& output_uri, bool json, bool* complete) {
  ASSIGN_OR_RETURN(job::JobProgress p, job::ReadJobProgress(output_uri));
  if (complete) *complete = p.complete;
  return json ? p.ToJson() : p.ToText();
}

}  // namespace sluice
