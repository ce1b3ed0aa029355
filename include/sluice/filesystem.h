#pragma once
/// FileSystem: one interface over local files and object stores, by URI. Every place that takes
/// a path (Parquet reading and writing, the job's input and output) goes through it.
///
/// URIs: plain paths and file://PATH are local; s3://bucket/key is S3 (sluice/s3.h). Globs: `*` and `?`
/// match within one path segment, `**` matches any number of segments (also none).
///
/// Threading: FileSystem methods may be called from any thread. An OutputStream is written by
/// one thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/random_access_file.h"
#include "sluice/status.h"

namespace sluice {

struct FileInfo {
  std::string uri;
  int64_t size = 0;
  /// Changes whenever the file is rewritten (local: the modification time in ns; S3: the
  /// ETag). Workers judge each other alive by seeing it change on their own clock, so clocks
  /// of different hosts never need to agree.
  std::string version;
};

/// A file being written; nothing is visible at its name until Commit.
class OutputStream {
 public:
  virtual ~OutputStream() = default;
  virtual Status Append(const void* data, int64_t size) = 0;
  virtual int64_t bytes_written() const = 0;
  /// Publishes the whole file atomically.
  virtual Status Commit() = 0;
  /// Drops what was written.
  virtual void Abort() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  /// Every file under `prefix` (a directory, or an object key prefix), recursively, sorted.
  virtual Result<std::vector<FileInfo>> List(const std::string& prefix) = 0;
  virtual Result<std::shared_ptr<RandomAccessFile>> OpenForRead(const std::string& uri) = 0;
  virtual Result<std::unique_ptr<OutputStream>> OpenForWrite(const std::string& uri) = 0;
  virtual Result<bool> Exists(const std::string& uri) = 0;
  /// Deleting a missing file is not an error.
  virtual Status Delete(const std::string& uri) = 0;
  /// The whole file in memory.
  Result<std::shared_ptr<Buffer>> ReadWhole(const std::string& uri);
};

/// A file:// URI as the plain path the local filesystem lists; other URIs unchanged.
std::string WithoutFileScheme(const std::string& uri);

/// The local filesystem (paths and file:// URIs).
std::shared_ptr<FileSystem> LocalFileSystem();
/// The filesystem that serves `uri`.
Result<std::shared_ptr<FileSystem>> FileSystemFor(const std::string& uri);
/// The files matching `pattern` (a URI or path with *, ?, **), sorted; a pattern without
/// wildcards names one file. No match is an empty list, not an error.
Result<std::vector<FileInfo>> Glob(const std::string& pattern);
/// Whether `path` matches the glob `pattern` (both '/'-separated).
bool GlobMatch(std::string_view pattern, std::string_view path);

}  // namespace sluice
