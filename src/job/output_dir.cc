#include "job/output_dir.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "job/job_progress.h"
#include "job/shard_output.h"
#include "sluice/json_lines.h"
#include "sluice/random_access_file.h"

namespace sluice::job {
namespace {

bool IsOurs(const std::string& name, const std::string& format) {
  if (name == "_job.json" || name == "_manifest.json" || name == "_SUCCESS") return true;
  if (name.rfind("_errors/", 0) == 0 || name.rfind("_claims/", 0) == 0 || name.rfind("_workers/", 0) == 0) return true;
  if (name.rfind("part-", 0) == 0 && name.size() > format.size() && name.compare(name.size() - format.size(), std::string::npos, format) == 0) return true;
  const size_t slash = name.rfind('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  return base.size() > 1 && base[0] == '.' && base.find(".tmp-") != std::string::npos;  // a crashed run's temp file
}

/// The lines of `a` and `b` that differ, for "the job changed" errors.
std::string DiffLines(const std::string& was, const std::string& now) {
  std::set<std::string> a, b;
  std::stringstream sa(was), sb(now);
  for (std::string l; std::getline(sa, l);) a.insert(l);
  for (std::string l; std::getline(sb, l);) b.insert(l);
  std::string out;
  for (const auto& l : a) {
    if (!b.count(l)) out += "\n  was: " + l;
  }
  for (const auto& l : b) {
    if (!a.count(l)) out += "\n  now: " + l;
  }
  return out;
}

}  // namespace

Result<std::string> ReadText(FileSystem& fsys, const std::string& uri) {
  ASSIGN_OR_RETURN(auto buf, fsys.ReadWhole(uri));
  return std::string(reinterpret_cast<const char*>(buf->data()), static_cast<size_t>(buf->size()));
}

Status WriteText(FileSystem& fsys, const std::string& uri, const std::string& text) {
  ASSIGN_OR_RETURN(auto out, fsys.OpenForWrite(uri));
  RETURN_IF_ERROR(out->Append(text.data(), static_cast<int64_t>(text.size())));
  return out->Commit();
}

bool IsPart(const std::string& n, const std::string& ext) {
  return n.rfind("part-", 0) == 0 && n.find('/') == std::string::npos && n.size() > ext.size() &&
         n.compare(n.size() - ext.size(), std::string::npos, ext) == 0;
}

Result<std::vector<std::string>> ListNames(const std::string& dir, FileSystem& fsys) {
  ASSIGN_OR_RETURN(auto listed, fsys.List(dir));
  const std::string prefix = JoinUri(WithoutFileScheme(dir), "");  // as the listing names files
  std::vector<std::string> names;
  for (const auto& f : listed) {
    if (f.uri.rfind(prefix, 0) == 0) names.push_back(f.uri.substr(prefix.size()));
  }
  return names;
}

Result<std::set<std::string>> PublishedParts(const std::string& dir, const std::string& format, FileSystem& fsys) {
  ASSIGN_OR_RETURN(auto names, ListNames(dir, fsys));
  std::set<std::string> parts;
  for (const auto& n : names) {
    if (IsPart(n, "." + format)) parts.insert(n);
  }
  return parts;
}

Result<std::string> ReadWhole(FileSystem& fsys, const std::string& uri, const std::function<bool(const std::string&)>& whole) {
  ASSIGN_OR_RETURN(std::string text, ReadText(fsys, uri));
  for (int again = 1; again <= 4 && !whole(text); ++again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * again));
    ASSIGN_OR_RETURN(text, ReadText(fsys, uri));
  }
  return text;
}

bool IsJobRecord(const std::string& text) {
  try {
    return YAML::Load(text)["fingerprint"].IsScalar();
  } catch (const YAML::Exception&) {
    return false;
  }
}

Status CheckJobRecord(const JobSpec& spec, FileSystem& fsys) {
  const std::string uri = JoinUri(spec.output.uri, "_job.json");
  ASSIGN_OR_RETURN(std::string text, ReadWhole(fsys, uri, IsJobRecord));
  std::string fingerprint;
  try {
    fingerprint = YAML::Load(text)["fingerprint"].as<std::string>();
  } catch (const YAML::Exception&) {
    return Status::InvalidData("'" + uri + "' is not a sluice job record; use --overwrite to start over");
  }
  if (fingerprint != spec.Fingerprint()) {
    return Status::InvalidArgument("output '" + spec.output.uri + "' holds the results of a different job (use --overwrite to replace them):" +
                                   DiffLines(fingerprint, spec.Fingerprint()));
  }
  return Status::OK();
}

Result<OutputState> PrepareOutput(const JobSpec& spec, const JobInput& input, bool overwrite, bool delete_temps) {
  const std::string& dir = spec.output.uri;
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(dir));
  auto listed = ListNames(dir, *fsys);
  if (!listed.ok()) return listed.status().WithContext("output.uri '" + dir + "' cannot be read");
  std::vector<std::string> names = std::move(listed).value();
  const std::string ext = "." + spec.output.format;
  const bool has_job = std::count(names.begin(), names.end(), "_job.json") > 0;
  if (overwrite) {
    for (const auto& n : names) {
      if (IsOurs(n, ext)) RETURN_IF_ERROR(fsys->Delete(JoinUri(dir, n)));
    }
    names.clear();
  } else if (has_job) {
    RETURN_IF_ERROR(CheckJobRecord(spec, *fsys));
  } else if (std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.rfind("part-", 0) == 0; })) {
    return Status::InvalidArgument("output '" + dir + "' already holds part files but no _job.json; use --overwrite to replace them");
  }
  OutputState state{fsys, {}, false};
  for (const auto& n : names) {
    if (n == "_SUCCESS") state.success = true;
    if (IsPart(n, ext)) {
      state.published.insert(n);
    } else if (IsOurs(n, ext) && n.find(".tmp-") != std::string::npos && (delete_temps || AtomicFileWriter::IsTempOfGoneLocalProcess(n))) {
      RETURN_IF_ERROR(fsys->Delete(JoinUri(dir, n)));  // left by a killed run
    }
  }
  std::string record = "{\"fingerprint\":";
  AppendJsonString(spec.Fingerprint(), &record);
  record += ",\"format\":\"" + spec.output.format + "\",\"shards\":" + std::to_string(input.shards.size()) + ",\"rows\":" +
            std::to_string(input.total_rows) + ",\"shard_rows\":[";
  for (size_t i = 0; i < input.shards.size(); ++i) record += (i ? "," : "") + std::to_string(input.shards[i].rows);
  record += "]}\n";
  Status st = WriteText(*fsys, JoinUri(dir, "_job.json"), record);
  if (!st.ok()) return st.WithContext("output.uri '" + dir + "' is not writable");
  return state;
}

Status FinishOutput(const JobSpec& spec, const JobInput& input, FileSystem& fsys) {
  std::string manifest = "{\"shards\":" + std::to_string(input.shards.size()) + ",\"rows\":" + std::to_string(input.total_rows) + ",\"parts\":[";
  for (size_t i = 0; i < input.shards.size(); ++i) {
    manifest += (i ? ",\"" : "\"") + PartName(input.shards[i].index, spec.output.format) + "\"";
  }
  manifest += "]";
  // The workers' reports merged: job rows/s, per-worker min / median / max, the slowest.
  ASSIGN_OR_RETURN(std::vector<WorkerReport> reports, ReadWorkerReports(spec.output.uri, fsys));
  if (!reports.empty()) manifest += ",\"workers\":" + SummarizeWorkers(reports).ToJson();
  manifest += "}\n";
  RETURN_IF_ERROR(WriteText(fsys, JoinUri(spec.output.uri, "_manifest.json"), manifest));
  return WriteText(fsys, JoinUri(spec.output.uri, "_SUCCESS"), "");
}

}  // namespace sluice::job
