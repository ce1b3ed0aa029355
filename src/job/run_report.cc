// Run and job reports (report.h): the data as one JSON document, put into the compiled-in page.
#include <sys/utsname.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "job/job_progress.h"
#include "job/output_dir.h"
#include "job/report_page.h"
#include "job/shard_output.h"
#include "job/worker_report.h"
#include "sluice/executor.h"
#include "sluice/filesystem.h"
#include "sluice/json_lines.h"
#include "sluice/report.h"

namespace sluice {
namespace {

std::string Quoted(const std::string& s) {
  std::string o;
  AppendJsonString(s, &o);
  return o;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string MachineJson(const std::string& command) {
  utsname u{};
  uname(&u);
  return "{\"host\":" + Quoted(job::HostName()) + ",\"cpu\":" + Quoted(CpuModel()) +
         ",\"cores\":" + std::to_string(std::thread::hardware_concurrency()) + ",\"memory_bytes\":" + std::to_string(PhysicalMemoryBytes()) +
         ",\"system\":" + Quoted(std::string(u.sysname) + " " + u.release + " " + u.machine) + ",\"sluice_version\":" + Quoted(SLUICE_VERSION) +
         ",\"command\":" + Quoted(command) + "}";
}

/// The page with `data` (a JSON document) in its data script. "</" inside JSON can only be in
/// a string, where "<\/" means the same and cannot end the script element.
std::string FillPage(const std::string& data) {
  std::string safe;
  safe.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '<' && i + 1 < data.size() && (data[i + 1] == '/' || data[i + 1] == '!')) {
      safe += "\\u003c";
    } else {
      safe += data[i];
    }
  }
  std::string page = job::ReportPageTemplate();
  const std::string marker = "/*SLUICE_REPORT_DATA*/";
  page.replace(page.find(marker), marker.size(), safe);
  return page;
}

}  // namespace

std::string RenderRunReport(const RunReportInput& in) {
  const ThroughputVerdict verdict = ExplainThroughput(in.stats);
  std::string d = "{\"kind\":\"run\",\"title\":" + Quoted(in.title) + ",\"generated_at\":" + Quoted(UtcNow()) +
                  ",\"status\":" + Quoted(in.status.ok() ? "OK" : in.status.ToString()) +
                  ",\"worker\":" + Quoted(in.worker.count > 1 ? in.worker.Describe() : "") + ",\"bottleneck\":" + Quoted(verdict.bottleneck) +
                  ",\"verdict\":" + Quoted(verdict.explanation) +
                  ",\"efficiency\":" + std::to_string(verdict.busy_share) + ",\"ceiling_rows_per_s\":" + std::to_string(verdict.ceiling_rows_per_s);
  d += ",\"result\":";
  if (in.result != nullptr) {
    std::string r = in.result->ToJson();  // ends with its stats: drop them, they follow once
    const size_t stats_at = r.rfind(",\"stats\":");
    d += r.substr(0, stats_at) + "}";
  } else {
    d += "null";
  }
  d += ",\"stats\":" + StatsToJson(in.stats) + ",\"first_bad_rows\":[";
  for (size_t i = 0; i < in.first_bad_rows.size(); ++i) {
    const BadRow& b = in.first_bad_rows[i];
    d += (i ? "," : "") + std::string("{\"row_id\":") + Quoted(b.row_id) + ",\"stage\":" + Quoted(b.stage) + ",\"reason\":" + Quoted(b.reason) + "}";
  }
  d += "],\"job_file\":" + Quoted(in.job_file_text) + ",\"machine\":" + MachineJson(in.command) + "}";
  return FillPage(d);
}

void RunReportRecorder::Attach(RunOptions* options) {
  options->on_progress = [this, before = options->on_progress](const PlanStats& s) {
    if (before) before(s);
    std::lock_guard lock(mu_);
    latest_ = s;
  };
  options->on_bad_row = [this, before = options->on_bad_row](const BadRow& row) {
    if (before) before(row);
    std::lock_guard lock(mu_);
    if (first_bad_rows_.size() < 20) first_bad_rows_.push_back(row);
  };
}

Status RunReportRecorder::Write(const std::string& path, RunReportInput in, const Result<JobResult>& result) {
  if (in.status.ok()) in.status = result.status();
  in.result = result.ok() ? &*result : nullptr;
  {
    std::lock_guard lock(mu_);
    in.stats = result.ok() ? result->stats : latest_;
    in.first_bad_rows = first_bad_rows_;
  }
  return WriteReport(path, RenderRunReport(in));
}

Result<std::string> RenderJobReport(const std::string& output_uri) {
  bool complete = false;
  ASSIGN_OR_RETURN(std::string status, DescribeJobOutput(output_uri, /*json=*/true, &complete));
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(output_uri));
  // _job.json exists (DescribeJobOutput checked); _manifest.json once the job is complete.
  // Both go into the page as JSON: read again if one comes half-written (output_dir.h).
  const auto parses = [](const std::string& text) {
    try {
      return YAML::Load(text).IsMap();
    } catch (const YAML::Exception&) {
      return false;
    }
  };
  ASSIGN_OR_RETURN(std::string record, job::ReadWhole(*fsys, job::JoinUri(output_uri, "_job.json"), parses));
  auto manifest = job::ReadWhole(*fsys, job::JoinUri(output_uri, "_manifest.json"), parses);
  if (manifest.ok() && !parses(*manifest)) manifest = Status::InvalidData("half-written");
  if (!parses(record)) return Status::InvalidData("'" + job::JoinUri(output_uri, "_job.json") + "' is not a sluice job record");
  std::string d = "{\"kind\":\"job\",\"title\":" + Quoted(output_uri) + ",\"generated_at\":" + Quoted(UtcNow()) + ",\"job\":" + status +
                  ",\"job_record\":" + record + ",\"manifest\":" + (manifest.ok() ? *manifest : std::string("null")) +
                  ",\"machine\":" + MachineJson("") + "}";
  return FillPage(d);
}

Status CheckReportPath(const std::string& path) {
  if (path.find("://") != std::string::npos && path.rfind("file://", 0) != 0) return Status::OK();  // s3://: checked when written
  const std::filesystem::path p(WithoutFileScheme(path));
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) return Status::InvalidArgument("report '" + path + "' is a directory; name a file such as run.html");
  if (std::filesystem::exists(p, ec)) {
    if (::access(p.c_str(), W_OK) != 0) return Status::InvalidArgument("report '" + path + "' cannot be written: " + std::strerror(errno));
    return Status::OK();
  }
  const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec)) return Status::InvalidArgument("report '" + path + "': directory '" + dir.string() + "' does not exist");
  if (::access(dir.c_str(), W_OK) != 0) {
    return Status::InvalidArgument("report '" + path + "': directory '" + dir.string() + "' is not writable: " + std::strerror(errno));
  }
  return Status::OK();
}

Status WriteReport(const std::string& path, const std::string& html) {
  std::shared_ptr<FileSystem> fsys;
  if (path.find("://") != std::string::npos) {
    ASSIGN_OR_RETURN(fsys, FileSystemFor(path));
  } else {
    fsys = LocalFileSystem();
  }
  return job::WriteText(*fsys, path, html);
}

}  // namespace sluice
