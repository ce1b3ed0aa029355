// S3FileSystem: s3://bucket/key URIs over S3Client, with its own I/O pool.
#include <algorithm>
#include <mutex>

#include "io/s3/s3_objects.h"
#include "sluice/s3.h"

namespace sluice {
namespace {

using s3::ObjectRef;
using s3::ParseS3Uri;

class S3FileSystemImpl final : public S3FileSystem {
 public:
  explicit S3FileSystemImpl(const S3Options& o)
      : client_(std::make_shared<s3::S3Client>(o)), pool_(std::make_shared<ThreadPool>(std::max(1, o.max_connections))) {}

  S3Stats stats() const override { return client_->stats(); }

  /// A key prefix ending in '/' (or a bucket) lists everything below it; otherwise the object
  /// of that exact key and everything under "key/", like a directory.
  Result<std::vector<FileInfo>> List(const std::string& uri) override {
    ASSIGN_OR_RETURN(ObjectRef ref, ParseS3Uri(uri));
    const bool dir = ref.key.empty() || ref.key.back() == '/';
    std::vector<FileInfo> out;
    std::string token;
    do {
      ASSIGN_OR_RETURN(s3::ListPage page, client_->List(ref.bucket, ref.key, token));
      for (auto& obj : page.objects) {
        if (!dir && obj.key != ref.key && obj.key.rfind(ref.key + "/", 0) != 0) continue;
        if (!obj.key.empty() && obj.key.back() == '/') continue;  // "folder" placeholder objects
        out.push_back({"s3://" + ref.bucket + "/" + obj.key, obj.size, obj.etag});
      }
      token = page.next_token;
    } while (!token.empty());
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.uri < b.uri; });
    return out;
  }

  Result<std::shared_ptr<RandomAccessFile>> OpenForRead(const std::string& uri) override {
    ASSIGN_OR_RETURN(ObjectRef ref, ParseS3Uri(uri));
    if (ref.key.empty()) return Status::InvalidArgument("'" + uri + "' names a bucket, not an object");
    return s3::OpenS3File(client_, pool_, std::move(ref), -1);
  }

  Result<std::unique_ptr<OutputStream>> OpenForWrite(const std::string& uri) override {
    ASSIGN_OR_RETURN(ObjectRef ref, ParseS3Uri(uri));
    if (ref.key.empty() || ref.key.back() == '/') return Status::InvalidArgument("'" + uri + "' is not an object key to write");
    return s3::OpenS3Output(client_, pool_, std::move(ref));
  }

  Result<bool> Exists(const std::string& uri) override {
    ASSIGN_OR_RETURN(ObjectRef ref, ParseS3Uri(uri));
    if (!ref.key.empty() && ref.key.back() != '/') {
      auto head = client_->Head(ref.bucket, ref.key);
      if (head.ok()) return true;
      if (head.status().code() != StatusCode::kNotFound) return head.status();
    }
    // A "directory": anything under key/.
    std::string prefix = ref.key;
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    ASSIGN_OR_RETURN(s3::ListPage page, client_->List(ref.bucket, prefix, "", 1));
    return !page.objects.empty();
  }

  Status Delete(const std::string& uri) override {
    ASSIGN_OR_RETURN(ObjectRef ref, ParseS3Uri(uri));
    return client_->Delete(ref.bucket, ref.key);
  }

 private:
  std::shared_ptr<s3::S3Client> client_;
  std::shared_ptr<ThreadPool> pool_;
};

}  // namespace

Result<std::shared_ptr<S3FileSystem>> MakeS3FileSystem(const S3Options& options) {
  if (options.max_attempts < 1) return Status::InvalidArgument("S3 max_attempts must be at least 1");
  if (options.part_size < (1 << 20)) return Status::InvalidArgument("S3 part_size must be at least 1 MiB");
  if (options.read_ahead < 1) return Status::InvalidArgument("S3 read_ahead must be at least 1");
  if (!options.anonymous && options.access_key.empty() != options.secret_key.empty()) {
    return Status::InvalidArgument("S3 credentials need both an access key id and a secret access key");
  }
  S3Options o = options;
  if (o.access_key.empty() && !o.credentials) o.anonymous = true;  // nothing to sign with
  return std::shared_ptr<S3FileSystem>(std::make_shared<S3FileSystemImpl>(o));
}

namespace {

struct DefaultS3 {
  std::mutex mu;
  std::shared_ptr<S3FileSystem> fs;
  std::shared_ptr<AwsCredentialsProvider> credentials;  // the filesystem's (null: unsigned requests)
};

DefaultS3& Default() {
  static DefaultS3 d;
  return d;
}

Status EnsureDefault(DefaultS3& d) {
  if (d.fs) return Status::OK();
  ASSIGN_OR_RETURN(S3Options options, S3Options::FromEnvironment());
  d.credentials = options.anonymous ? nullptr : options.credentials;
  ASSIGN_OR_RETURN(d.fs, MakeS3FileSystem(options));
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<FileSystem>> DefaultS3FileSystem() {
  DefaultS3& d = Default();
  std::lock_guard lock(d.mu);
  RETURN_IF_ERROR(EnsureDefault(d));
  return std::shared_ptr<FileSystem>(d.fs);
}

Status CheckDefaultS3Credentials() {
  DefaultS3& d = Default();
  std::shared_ptr<AwsCredentialsProvider> credentials;
  {
    std::lock_guard lock(d.mu);
    RETURN_IF_ERROR(EnsureDefault(d));
    credentials = d.credentials;
  }
  if (!credentials) return Status::OK();  // AWS_NO_SIGN_REQUEST: nothing to find
  auto c = credentials->Get();
  if (!c.ok()) return Status::InvalidArgument("no AWS credentials for s3://: " + c.status().message());
  return Status::OK();
}

}  // namespace sluice
