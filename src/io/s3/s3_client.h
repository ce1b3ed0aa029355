#pragma once
/// S3Client: the S3 REST operations sluice needs, each signed, timed out and retried per
/// S3Options. Objects are named by (bucket, key); errors name s3://bucket/key, the HTTP
/// status, the S3 error code and the number of attempts.
///
/// Retried: transport errors (reset, timeout, truncated body), HTTP 5xx, 429 and SlowDown,
/// with exponential backoff and full jitter (sleep uniform in [0, min(max, base * 2^n))).
/// Not retried: other 4xx.
///
/// Threading: every method may be called from any thread concurrently.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/s3/http_client.h"
#include "io/s3/sigv4.h"
#include "sluice/s3.h"

namespace sluice::s3 {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  std::string etag;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_token;  // empty on the last page
};

class S3Client {
 public:
  explicit S3Client(S3Options options);

  const S3Options& options() const { return options_; }
  S3Stats stats() const;

  /// NotFound when the object does not exist.
  Result<ObjectInfo> Head(const std::string& bucket, const std::string& key);
  /// Reads [offset, offset + length) into `dest`, resuming after partial transfers.
  Status GetRange(const std::string& bucket, const std::string& key, int64_t offset, int64_t length, uint8_t* dest);
  Result<ListPage> List(const std::string& bucket, const std::string& prefix, const std::string& token, int max_keys = 1000);
  Status Put(const std::string& bucket, const std::string& key, const uint8_t* data, int64_t size);
  Status Delete(const std::string& bucket, const std::string& key);
  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key);
  /// Returns the part's ETag.
  Result<std::string> UploadPart(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                 int part_number, const uint8_t* data, int64_t size);
  /// `etags[i]` is part i + 1's. `total_size` lets a retry after a lost reply confirm success.
  Status CompleteMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& etags, int64_t total_size);
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id);

 private:
  struct Call {
    Call(std::string m, std::string b, std::string k) : method(std::move(m)), bucket(std::move(b)), key(std::move(k)) {}
    std::string method;
    std::string bucket;
    std::string key;
    KeyValues query;
    KeyValues headers;
    const uint8_t* body = nullptr;
    int64_t body_size = 0;
    uint8_t* sink = nullptr;
    int64_t sink_capacity = 0;
  };
  /// One attempt: credentials, URL, signature, request; once more with new credentials when
  /// the answer says the keys expired. Fails only when no credentials can be had.
  Result<HttpResponse> Attempt(const Call& call);
  /// The request signed with `creds` (unsigned when null).
  HttpResponse Perform(const Call& call, const AwsCredentials* creds);
  /// Attempts until success, a non-retryable answer, or max_attempts. `what` names the
  /// operation in errors.
  Result<HttpResponse> Send(const Call& call, const std::string& what);
  Status ErrorFor(const Call& call, const std::string& what, const HttpResponse& r, int attempts) const;
  void Backoff(int attempt) const;

  S3Options options_;
  std::string scheme_;  // of the endpoint: http or https
  std::string host_;    // of the endpoint: host[:port]
  std::shared_ptr<AwsCredentialsProvider> credentials_;  // null: unsigned requests
  HttpClient http_;
  mutable std::atomic<int64_t> requests_{0}, retries_{0}, bytes_read_{0}, bytes_written_{0};
};

}  // namespace sluice::s3
