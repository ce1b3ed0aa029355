#pragma once
/// The job's output location before and after the plan (shard_output.h lists its files):
/// PrepareOutput checks that an existing output belongs to this job (same fingerprint in
/// _job.json, else refused unless overwriting), deletes this job's files when overwriting and
/// temporary files of killed runs otherwise, lists the published parts (the shards a rerun
/// skips) and writes _job.json, which also proves the location is writable before any work.
/// FinishOutput writes _manifest.json and then _SUCCESS.
///
/// Threading: called on the job's thread, before and after Execute.

#include <memory>
#include <functional>
#include <set>
#include <string>

#include "job/job_input.h"
#include "sluice/filesystem.h"
#include "sluice/job.h"

namespace sluice::job {

struct OutputState {
  std::shared_ptr<FileSystem> fsys;
  std::set<std::string> published;  // part names ("part-00042.parquet")
  bool success = false;             // _SUCCESS was there
};

/// `delete_temps`: remove temporary files of killed runs (a single worker). With several,
/// another worker's temporary file may be a part being written now: only those of processes
/// of this host that are gone are removed (temporary names carry host and pid).
Result<OutputState> PrepareOutput(const JobSpec& spec, const JobInput& input, bool overwrite, bool delete_temps = true);
/// A small file's whole text; a small file written atomically (nothing visible until complete).
Result<std::string> ReadText(FileSystem& fsys, const std::string& uri);
Status WriteText(FileSystem& fsys, const std::string& uri, const std::string& text);
/// ReadText, read again (up to 5 times, 50 to 200 ms apart) while `whole` says the text is
/// not complete: a small file that other workers rewrite (_job.json, _workers/) can be read
/// half-written on stores whose writes are not atomic for readers (s3rver, some S3-compatible
/// servers). Returns the last text read either way; NotFound as ReadText.
Result<std::string> ReadWhole(FileSystem& fsys, const std::string& uri, const std::function<bool(const std::string&)>& whole);
/// Whether `text` is a whole _job.json (parses, has its fingerprint).
bool IsJobRecord(const std::string& text);
/// Whether `name` (relative to the output) is a published part with extension `ext` (".parquet").
bool IsPart(const std::string& name, const std::string& ext);
/// The part files published in the output now ("part-00042.parquet").
Result<std::set<std::string>> PublishedParts(const std::string& dir, const std::string& format, FileSystem& fsys);
/// The names of the files under `dir`, relative to it ("_errors/part-00001.jsonl").
Result<std::vector<std::string>> ListNames(const std::string& dir, FileSystem& fsys);
/// Refuses when _job.json records a different job than `spec` (the message lists what differs).
Status CheckJobRecord(const JobSpec& spec, FileSystem& fsys);
Status FinishOutput(const JobSpec& spec, const JobInput& input, FileSystem& fsys);

}  // namespace sluice::job
