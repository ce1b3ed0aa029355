// A writable S3 object: buffered, one PUT when small, else a multipart upload with parts in
// flight on the I/O pool; aborted on failure so the object is complete or absent.
#include <algorithm>
#include <deque>
#include <future>
#include <vector>

#include "io/s3/s3_objects.h"

namespace sluice::s3 {
namespace {

class S3Output final : public OutputStream {
 public:
  S3Output(std::shared_ptr<S3Client> client, std::shared_ptr<ThreadPool> pool, ObjectRef object)
      : client_(std::move(client)), pool_(std::move(pool)), object_(std::move(object)) {}

  ~S3Output() override {
    if (!done_) Abort();
  }

  Status Append(const void* data, int64_t size) override {
    if (done_) return Status::Internal("append to '" + object_.uri() + "' after Commit or Abort");
    RETURN_IF_ERROR(first_error_);
    const auto* p = static_cast<const uint8_t*>(data);
    written_ += size;
    if (upload_id_.empty()) {
      // Up to the threshold the object may still go in one PUT.
      buffer_.insert(buffer_.end(), p, p + size);
      if (static_cast<int64_t>(buffer_.size()) <= client_->options().multipart_threshold) return Status::OK();
      auto id = client_->CreateMultipartUpload(object_.bucket, object_.key);
      if (!id.ok()) return Fail(id.status());
      upload_id_ = *id;
      std::vector<uint8_t> held = std::move(buffer_);
      buffer_.clear();
      return AppendParts(held.data(), static_cast<int64_t>(held.size()));
    }
    return AppendParts(p, size);
  }

  int64_t bytes_written() const override { return written_; }

  Status Commit() override {
    if (done_) return Status::Internal("'" + object_.uri() + "' committed or aborted twice");
    RETURN_IF_ERROR(first_error_);
    if (upload_id_.empty()) {
      Status st = client_->Put(object_.bucket, object_.key, buffer_.data(), static_cast<int64_t>(buffer_.size()));
      done_ = true;
      return st;
    }
    if (!buffer_.empty()) RETURN_IF_ERROR(SendPart(std::move(buffer_)));
    while (!parts_.empty()) RETURN_IF_ERROR(WaitOldest());
    Status st = client_->CompleteMultipartUpload(object_.bucket, object_.key, upload_id_, etags_, written_);
    if (!st.ok()) return Fail(st);
    done_ = true;
    return Status::OK();
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    for (auto& p : parts_) p.wait();
    parts_.clear();
    if (!upload_id_.empty()) (void)client_->AbortMultipartUpload(object_.bucket, object_.key, upload_id_);
    buffer_.clear();
  }

 private:
  /// Fills the current part; each full one leaves for the pool (the buffer moves, no copy).
  Status AppendParts(const uint8_t* p, int64_t size) {
    const auto part = static_cast<size_t>(client_->options().part_size);
    while (size > 0) {
      if (buffer_.capacity() < part) buffer_.reserve(part);
      const int64_t take = std::min<int64_t>(size, static_cast<int64_t>(part - buffer_.size()));
      buffer_.insert(buffer_.end(), p, p + take);
      p += take;
      size -= take;
      if (buffer_.size() == part) {
        RETURN_IF_ERROR(SendPart(std::move(buffer_)));
        buffer_ = {};
      }
    }
    return Status::OK();
  }

  Status SendPart(std::vector<uint8_t> bytes) {
    const int number = static_cast<int>(etags_.size()) + 1;
    etags_.emplace_back();
    auto data = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    auto task = std::make_shared<std::packaged_task<Result<std::string>()>>(
        [client = client_, object = object_, id = upload_id_, number, data] {
          return client->UploadPart(object.bucket, object.key, id, number, data->data(), static_cast<int64_t>(data->size()));
        });
    parts_.push_back(task->get_future());
    pool_->Submit([task] { (*task)(); });
    while (static_cast<int>(parts_.size()) > client_->options().read_ahead) RETURN_IF_ERROR(WaitOldest());
    return Status::OK();
  }

  Status WaitOldest() {
    const size_t index = etags_.size() - parts_.size();
    Result<std::string> etag = parts_.front().get();
    parts_.pop_front();
    if (!etag.ok()) return Fail(etag.status());
    etags_[index] = *etag;
    return Status::OK();
  }

  /// Remembers the first error and aborts the upload so no part is left behind.
  Status Fail(Status st) {
    if (first_error_.ok()) first_error_ = st;
    Abort();
    return first_error_;
  }

  std::shared_ptr<S3Client> client_;
  std::shared_ptr<ThreadPool> pool_;
  ObjectRef object_;
  std::vector<uint8_t> buffer_;
  int64_t written_ = 0;
  std::string upload_id_;
  std::deque<std::future<Result<std::string>>> parts_;
  std::vector<std::string> etags_;
  Status first_error_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<OutputStream> OpenS3Output(std::shared_ptr<S3Client> client, std::shared_ptr<ThreadPool> pool, ObjectRef object) {
  return std::make_unique<S3Output>(std::move(client), std::move(pool), std::move(object));
}

}  // namespace sluice::s3
