#pragma once
/// The objects behind S3FileSystem: a readable object with read-ahead and a writable one with
/// multipart upload. Both run their requests on the filesystem's I/O pool.
///
/// Threading: an S3 readable file may be read from several threads; a writable one is written
/// by one thread.

#include <memory>
#include <string>

#include "io/s3/s3_client.h"
#include "sluice/filesystem.h"
#include "sluice/thread_pool.h"

namespace sluice::s3 {

struct ObjectRef {
  std::string bucket;
  std::string key;
  std::string uri() const { return "s3://" + bucket + "/" + key; }
};

/// "s3://bucket/key" -> {bucket, key}; an error names the URI when it has no bucket.
Result<ObjectRef> ParseS3Uri(const std::string& uri);

/// `size` < 0: found by HEAD on first use (which also tells a missing bucket from a missing key).
std::shared_ptr<RandomAccessFile> OpenS3File(std::shared_ptr<S3Client> client, std::shared_ptr<ThreadPool> pool,
                                             ObjectRef object, int64_t size);
std::unique_ptr<OutputStream> OpenS3Output(std::shared_ptr<S3Client> client, std::shared_ptr<ThreadPool> pool,
                                           ObjectRef object);

/// Adds to / takes from the process-wide read-ahead gauge (sluice::ReadAheadBytesInFlight).
void AddReadAheadBytes(int64_t delta);

}  // namespace sluice::s3
