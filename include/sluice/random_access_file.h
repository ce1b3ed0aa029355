#pragma once
/// RandomAccessFile: positional reads of one object (a local file, an S3 object). The Parquet
/// reader reads only through it, so every storage backend serves every format.
///
/// Threading: ReadAt may be called concurrently from several threads.

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/memory.h"
#include "sluice/status.h"

namespace sluice {

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  /// Exactly `length` bytes from `offset`; an error (naming the file) if the file is shorter.
  virtual Result<std::shared_ptr<Buffer>> ReadAt(int64_t offset, int64_t length) = 0;
  virtual Result<int64_t> Size() = 0;
  /// The path or URI, for error messages.
  virtual const std::string& name() const = 0;
};

/// Opens a local file for positional reads (pread).
Result<std::shared_ptr<RandomAccessFile>> OpenLocalFile(const std::string& path);

/// A file whose bytes are already in memory (tests, fuzzing, small objects fetched whole).
std::shared_ptr<RandomAccessFile> MakeBufferFile(std::shared_ptr<Buffer> bytes, std::string name);

/// Writes a local file under a temporary name in the same directory and publishes it with
/// fsync + rename, so readers see either nothing or the whole file.
/// Threading: one thread.
class AtomicFileWriter {
 public:
  /// The temporary file is ".<name>.tmp-<host>-<pid>-<n>" next to `path`.
  static Result<std::unique_ptr<AtomicFileWriter>> Open(const std::string& path);
  /// Whether `name` is a temporary file of this kind written by a process of this host that
  /// is gone (another host's, or a live process's, is not).
  static bool IsTempOfGoneLocalProcess(const std::string& name);
  ~AtomicFileWriter();  // removes the temporary file unless Commit succeeded
  Status Append(const void* data, int64_t size);
  int64_t bytes_written() const { return written_; }
  /// fsync, rename over `path`, fsync the directory.
  Status Commit();
  /// Removes the temporary file.
  void Abort();

 private:
  AtomicFileWriter(std::string path, std::string temp, int fd) : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
  static const std::string& HostTag();  // this host's name as temporary names carry it
  std::string path_;
  std::string temp_;
  int fd_;
  int64_t written_ = 0;
  bool done_ = false;
};

}  // namespace sluice
