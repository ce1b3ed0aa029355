// A readable S3 object: ranged GETs cut into parts fetched in parallel, and a read-ahead
// window for sequential readers.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>

#include "io/s3/s3_objects.h"

namespace sluice {
namespace {
std::atomic<int64_t> g_read_ahead_bytes{0};
}  // namespace

int64_t ReadAheadBytesInFlight() { return g_read_ahead_bytes.load(std::memory_order_relaxed); }

namespace s3 {

void AddReadAheadBytes(int64_t delta) { g_read_ahead_bytes.fetch_add(delta, std::memory_order_relaxed); }

Result<ObjectRef> ParseS3Uri(const std::string& uri) {
  if (uri.rfind("s3://", 0) != 0) return Status::InvalidArgument("'" + uri + "' is not an s3:// URI");
  const std::string rest = uri.substr(5);
  const size_t slash = rest.find('/');
  ObjectRef ref{rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1)};
  if (ref.bucket.empty()) return Status::InvalidArgument("'" + uri + "' names no bucket (expected s3://bucket/key)");
  return ref;
}

namespace {

using PartFuture = std::shared_future<Status>;

/// One prefetched range of the read-ahead window.
struct Chunk {
  int64_t offset;
  int64_t length;
  std::shared_ptr<Buffer> data;
  PartFuture done;
  bool counted = true;  // this copy holds the chunk's bytes in the read-ahead gauge
};

class S3File final : public RandomAccessFile {
 public:
  S3File(std::shared_ptr<S3Client> client, std::shared_ptr<ThreadPool> pool, ObjectRef object, int64_t size)
      : client_(std::move(client)), pool_(std::move(pool)), object_(std::move(object)), uri_(object_.uri()), size_(size) {}

  ~S3File() override {
    for (Chunk& c : window_) Drop(c);
  }

  const std::string& name() const override { return uri_; }

  Result<int64_t> Size() override {
    std::lock_guard lock(size_mu_);
    if (size_ >= 0) return size_;
    auto head = client_->Head(object_.bucket, object_.key);
    if (!head.ok() && head.status().code() == StatusCode::kNotFound) {
      auto bucket = client_->List(object_.bucket, "", "", 1);  // names a missing bucket as such
      if (!bucket.ok()) return bucket.status();
    }
    if (!head.ok()) return head.status();
    size_ = head->size;
    return size_;
  }

  Result<std::shared_ptr<Buffer>> ReadAt(int64_t offset, int64_t length) override {
    ASSIGN_OR_RETURN(int64_t size, Size());
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      return Status::InvalidData("read of " + std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                                 " is past the end of '" + uri_ + "' (" + std::to_string(size) + " bytes)");
    }
    ASSIGN_OR_RETURN(auto out, HostAllocator()->Allocate(length));
    std::vector<Chunk> from_window;
    bool sequential = false;
    {
      std::lock_guard lock(window_mu_);
      sequential = offset == next_sequential_ && offset > 0;
      next_sequential_ = offset + length;
      from_window = TakeFromWindow(offset, length);
    }
    if (!from_window.empty()) {
      Status st = CopyOut(from_window, offset, length, out->data());
      for (Chunk& c : from_window) Drop(c);
      RETURN_IF_ERROR(st);
    } else {
      RETURN_IF_ERROR(FetchParallel(offset, length, out->data()));
    }
    if (sequential && client_->options().read_ahead > 1) TopUpWindow(offset + length, size);
    return out;
  }

 private:
  /// The window's chunks that cover [offset, offset + length) exactly from `offset`, removed
  /// from the window (chunks before them are dropped). Empty when the window does not cover it.
  std::vector<Chunk> TakeFromWindow(int64_t offset, int64_t length) {
    std::vector<Chunk> taken;
    while (!window_.empty() && window_.front().offset + window_.front().length <= offset) {
      Drop(window_.front());
      window_.pop_front();
    }
    if (window_.empty() || window_.front().offset > offset || window_.back().offset + window_.back().length < offset + length) {
      for (Chunk& c : window_) Drop(c);  // not a sequential reader after all
      window_.clear();
      return taken;
    }
    // Chunks wholly inside the read leave the window; the last one stays if it reaches beyond.
    while (!window_.empty() && window_.front().offset < offset + length) {
      Chunk& c = window_.front();
      if (c.offset + c.length > offset + length) {
        taken.push_back(c);
        taken.back().counted = false;  // the window keeps it (and its accounting)
        break;
      }
      taken.push_back(std::move(c));
      window_.pop_front();
    }
    return taken;
  }

  Status CopyOut(const std::vector<Chunk>& chunks, int64_t offset, int64_t length, uint8_t* dest) {
    for (const Chunk& c : chunks) {
      RETURN_IF_ERROR(c.done.get());
      const int64_t from = std::max(offset, c.offset), to = std::min(offset + length, c.offset + c.length);
      if (to > from) std::memcpy(dest + (from - offset), c.data->data() + (from - c.offset), static_cast<size_t>(to - from));
    }
    return Status::OK();
  }

  static void Drop(Chunk& c) {
    if (c.data && c.counted) AddReadAheadBytes(-c.length);
    c.data = nullptr;
  }

  /// Keeps `read_ahead` parts prefetched past `from`.
  void TopUpWindow(int64_t from, int64_t size) {
    const int64_t part = client_->options().part_size;
    std::lock_guard lock(window_mu_);
    int64_t next = window_.empty() ? from : window_.back().offset + window_.back().length;
    while (static_cast<int>(window_.size()) < client_->options().read_ahead && next < size) {
      const int64_t len = std::min(part, size - next);
      auto buf = HostAllocator()->Allocate(len);
      if (!buf.ok()) return;  // read-ahead is an optimisation; the read itself will report
      AddReadAheadBytes(len);
      window_.push_back(Chunk{next, len, *buf, Launch(next, len, (*buf)->data(), *buf)});
      next += len;
    }
  }

  /// `keep_alive` owns `dest` when the caller may stop waiting (a dropped read-ahead chunk).
  PartFuture Launch(int64_t offset, int64_t length, uint8_t* dest, std::shared_ptr<Buffer> keep_alive = nullptr) {
    auto task = std::make_shared<std::packaged_task<Status()>>([client = client_, object = object_, offset, length, dest, keep_alive] {
      return client->GetRange(object.bucket, object.key, offset, length, dest);
    });
    PartFuture f = task->get_future().share();
    pool_->Submit([task] { (*task)(); });
    return f;
  }

  /// One GET for a small range; else parts with `read_ahead` in flight.
  Status FetchParallel(int64_t offset, int64_t length, uint8_t* dest) {
    const int64_t part = client_->options().part_size;
    const int in_flight = client_->options().read_ahead;
    if (length <= part || in_flight <= 1) {
      return client_->GetRange(object_.bucket, object_.key, offset, length, dest);
    }
    std::deque<PartFuture> pending;
    Status first_error;
    for (int64_t at = offset; at < offset + length || !pending.empty();) {
      if (at < offset + length && static_cast<int>(pending.size()) < in_flight && first_error.ok()) {
        const int64_t len = std::min(part, offset + length - at);
        pending.push_back(Launch(at, len, dest + (at - offset)));
        at += len;
        continue;
      }
      if (pending.empty()) break;
      Status st = pending.front().get();
      pending.pop_front();
      if (!st.ok() && first_error.ok()) first_error = st;
      if (!first_error.ok() && at < offset + length) at = offset + length;  // stop launching
    }
    return first_error;
  }

  std::shared_ptr<S3Client> client_;
  std::shared_ptr<ThreadPool> pool_;
  ObjectRef object_;
  std::string uri_;
  std::mutex size_mu_;
  int64_t size_;
  std::mutex window_mu_;
  std::deque<Chunk> window_;
  int64_t next_sequential_ = -1;
};

}  // namespace

std::shared_ptr<RandomAccessFile> OpenS3File(std::shared_ptr<S3Client> client, std::shared_ptr<ThreadPool> pool,
                                             ObjectRef object, int64_t size) {
  return std::make_shared<S3File>(std::move(client), std::move(pool), std::move(object), size);
}

}  // namespace s3
}  // namespace sluice
