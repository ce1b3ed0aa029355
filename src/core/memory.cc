#include "sluice/memory.h"

#include <fcntl.h>
#include <unistd.h>

#include "sluice/huge_pages.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace sluice {

std::string_view MemoryKindName(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::kHost: return "host";
    case MemoryKind::kPinnedHost: return "pinned_host";
    case MemoryKind::kDevice: return "device";
  }
  return "unknown";
}

Buffer::Buffer(uint8_t* data, int64_t size, MemoryKind kind, int device,
               std::function<void(uint8_t*)> release)
    : data_(data), size_(size), kind_(kind), device_(device), release_(std::move(release)) {}

Buffer::~Buffer() {
  if (release_) release_(data_);
}

std::shared_ptr<Buffer> Buffer::Wrap(const uint8_t* data, int64_t size, MemoryKind kind,
                                     std::shared_ptr<const void> keep_alive) {
  return std::make_shared<Buffer>(const_cast<uint8_t*>(data), size, kind, -1,
                                  [keep = std::move(keep_alive)](uint8_t*) {});
}

std::shared_ptr<Buffer> Buffer::CopyOf(std::span<const uint8_t> bytes) {
  auto buffer = HostAllocator()->Allocate(static_cast<int64_t>(bytes.size()));
  if (!buffer.ok()) throw std::bad_alloc();
  if (!bytes.empty()) std::memcpy((*buffer)->data(), bytes.data(), bytes.size());
  return *std::move(buffer);
}

namespace {

class HostAllocatorImpl final : public Allocator {
 public:
  Result<std::shared_ptr<Buffer>> Allocate(int64_t bytes) override {
    if (bytes < 0) return Status::InvalidArgument("negative allocation size " + std::to_string(bytes));
    void* p = AllocateLarge(static_cast<size_t>(bytes));
    if (p == nullptr) {
      return Status::ResourceExhausted("host allocation of " + std::to_string(bytes) + " bytes failed");
    }
    return std::make_shared<Buffer>(static_cast<uint8_t*>(p), bytes, MemoryKind::kHost, -1,
                                    [bytes](uint8_t* q) { FreeLarge(q, static_cast<size_t>(bytes)); });
  }
  MemoryKind kind() const override { return MemoryKind::kHost; }
  std::string_view name() const override { return "host"; }
};

}  // namespace

Allocator* HostAllocator() {
  static HostAllocatorImpl instance;
  return &instance;
}

int64_t CurrentRssBytes() {
  // Kept open: the executor samples this every few milliseconds.
  static const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
  if (n <= 0) return 0;
  text[n] = 0;
  long long size = 0, resident = 0;
  if (std::sscanf(text, "%lld %lld", &size, &resident) != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGE_SIZE);
}

}  // namespace sluice
