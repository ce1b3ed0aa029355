#pragma once
/// S3 and S3-compatible object stores (AWS, MinIO, Ceph, R2, s3rver) behind the FileSystem
/// interface. `FileSystemFor("s3://...")` uses a process-wide S3 filesystem configured like
/// every AWS tool (S3Options::FromEnvironment); MakeS3FileSystem builds one with explicit
/// options (tests, the job file's storage section).
///
/// What it does:
/// - HTTP/1.1 keep-alive connections from a pool (libcurl), requests in parallel.
/// - AWS Signature V4 with x-amz-content-sha256 (or anonymous requests for public buckets).
/// - Retries with exponential backoff and full jitter on 5xx, 429/SlowDown, connection
///   resets, timeouts and truncated bodies, up to max_attempts; other 4xx fail at once. A
///   ranged read that fails midway resumes from the first byte it does not have.
/// - Reads: a large ReadAt (a Parquet row group's coalesced column chunks) is cut into
///   part-size ranges fetched `read_ahead` at a time; sequential reads prefetch the next
///   `read_ahead` parts. Prefetched bytes count in ReadAheadBytesInFlight(), which the
///   executor adds to its memory budget.
/// - Writes: buffered; one PUT when small, else a multipart upload with `read_ahead` parts in
///   flight, aborted on any failure, so the object is either complete or absent.
/// - Errors name the URI, the HTTP status, the S3 error code and the attempts; secrets never
///   appear in messages or logs.
///
/// Threading: the filesystem and its files may be used from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/aws_credentials.h"
#include "sluice/filesystem.h"
#include "sluice/status.h"

namespace sluice {

struct S3Options {
  /// "" = AWS (https://s3.<region>.amazonaws.com). Else e.g. http://127.0.0.1:9000.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  /// Where credentials come from (aws_credentials.h); when set, the keys above are not used.
  /// FromEnvironment sets the default chain.
  std::shared_ptr<AwsCredentialsProvider> credentials;
  /// Send unsigned requests (public buckets): AWS_NO_SIGN_REQUEST=true or a profile's
  /// no_sign_request = true, or no credentials given to MakeS3FileSystem at all.
  bool anonymous = false;
  /// auto: path-style for custom endpoints (MinIO, s3rver), virtual-hosted on AWS.
  enum class Addressing { kAuto, kPath, kVirtualHosted } addressing = Addressing::kAuto;
  int max_attempts = 6;
  int retry_base_ms = 50;
  int retry_max_ms = 5000;
  /// A request with no progress for this long fails (and is retried).
  int request_timeout_ms = 30000;
  int connect_timeout_ms = 5000;
  /// Parallel connections (and I/O threads) of this filesystem.
  int max_connections = 16;
  /// Requests in flight for one reader or writer; 1 = no read-ahead, one request at a time.
  int read_ahead = 8;
  /// Size of ranged GETs and multipart parts (>= 5 MiB for parts on AWS).
  int64_t part_size = 8 << 20;
  /// Objects up to this size are written with one PUT.
  int64_t multipart_threshold = 16 << 20;

  /// Credentials: the default chain of aws_credentials.h (environment keys, web identity,
  /// the profile's keys / role / credential_process, container credentials, IMDS);
  /// AWS_NO_SIGN_REQUEST for unsigned requests. AWS_REGION / AWS_DEFAULT_REGION,
  /// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_PROFILE with ~/.aws/credentials and
  /// ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), SLUICE_S3_MAX_ATTEMPTS,
  /// SLUICE_S3_TIMEOUT_MS, SLUICE_S3_READ_AHEAD; environment variables win over the files,
  /// like the AWS CLI.
  static Result<S3Options> FromEnvironment();
};

/// Counters of one S3 filesystem (for tests and the job summary).
struct S3Stats {
  int64_t requests = 0;  // HTTP attempts, retries included
  int64_t retries = 0;
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
};

class S3FileSystem : public FileSystem {
 public:
  virtual S3Stats stats() const = 0;
};

Result<std::shared_ptr<S3FileSystem>> MakeS3FileSystem(const S3Options& options);

/// The process-wide S3 filesystem behind FileSystemFor("s3://..."), configured from the
/// environment on first use.
Result<std::shared_ptr<FileSystem>> DefaultS3FileSystem();

/// Resolves the process-wide S3 filesystem's credentials now (a job checks this before any
/// work when it reads or writes s3://); the error names every source tried.
Status CheckDefaultS3Credentials();

/// Bytes held by read-ahead buffers of every S3 file in this process.
int64_t ReadAheadBytesInFlight();

}  // namespace sluice
