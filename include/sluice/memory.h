#pragma once
/// Buffers and allocators: where column bytes live.
///
/// A Buffer is one contiguous allocation in host, pinned host or device memory, shared by
/// every column (and every zero-copy slice) that refers to it; it is freed when the last
/// reference goes. Allocators create buffers of one memory kind: the host allocator is always
/// there; a CUDA build adds pinned-host and device allocators behind the same interface.
///
/// Threading: a Buffer's bytes carry no lock. Writers fill a buffer before publishing it (a
/// column built by one task); after that it is read-only and may be read from any thread.
/// Allocators are thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice {

enum class MemoryKind { kHost, kPinnedHost, kDevice };
std::string_view MemoryKindName(MemoryKind kind);
/// Host and pinned host memory can be read by the CPU directly; device memory cannot.
inline bool IsCpuAccessible(MemoryKind kind) { return kind != MemoryKind::kDevice; }

class Buffer {
 public:
  /// Takes over `data` of `size` bytes; `release` frees it when the buffer dies.
  Buffer(uint8_t* data, int64_t size, MemoryKind kind, int device,
         std::function<void(uint8_t*)> release);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  /// Wraps memory owned by someone else (a decoded page, a tensor); `keep_alive` is held
  /// until the buffer dies. No copy.
  static std::shared_ptr<Buffer> Wrap(const uint8_t* data, int64_t size, MemoryKind kind,
                                      std::shared_ptr<const void> keep_alive);
  /// Takes over a vector's storage (no copy); the buffer keeps the vector alive.
  template <typename T, typename A>
  static std::shared_ptr<Buffer> FromVector(std::vector<T, A> values) {
    auto owner = std::make_shared<std::vector<T, A>>(std::move(values));
    return Wrap(reinterpret_cast<const uint8_t*>(owner->data()), static_cast<int64_t>(owner->size() * sizeof(T)), MemoryKind::kHost,
                owner);
  }
  /// A host buffer holding a copy of `bytes`.
  static std::shared_ptr<Buffer> CopyOf(std::span<const uint8_t> bytes);

  uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }
  MemoryKind kind() const { return kind_; }
  int device() const { return device_; }  // CUDA ordinal for kDevice, else -1

 private:
  uint8_t* data_;
  int64_t size_;
  MemoryKind kind_;
  int device_;
  std::function<void(uint8_t*)> release_;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  /// `bytes` may be 0 (a valid empty buffer). Buffers are aligned to at least 64 bytes.
  virtual Result<std::shared_ptr<Buffer>> Allocate(int64_t bytes) = 0;
  virtual MemoryKind kind() const = 0;
  virtual std::string_view name() const = 0;
};

/// The process-wide host allocator (64-byte aligned heap memory).
Allocator* HostAllocator();

/// This process's resident set size now (/proc/self/statm), 0 where unknown.
int64_t CurrentRssBytes();

}  // namespace sluice
