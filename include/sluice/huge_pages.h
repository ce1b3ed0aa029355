#pragma once
/// Large host buffers on transparent huge pages, recycled. A fresh multi-megabyte buffer is
/// otherwise faulted in 4 KiB at a time and zeroed by the kernel: reading Parquet at GB/s spent
/// over half its time there. Buffers of kHugeThreshold bytes or more are mapped 2 MiB-aligned
/// and advised MADV_HUGEPAGE (this kernel's THP mode is "madvise"); freed ones are kept, up to
/// LargeBufferCacheLimit() bytes in all, and handed out again for requests of the same size up
/// to half their size. Smaller buffers use the heap.
///
/// Threading: stateless; safe from any thread.

#include <cstddef>
#include <new>
#include <utility>

namespace sluice {

inline constexpr size_t kHugeThreshold = size_t{2} << 20;

/// Memory for `bytes` (64-byte aligned at least); nullptr if the system has none.
void* AllocateLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);
/// Bytes of freed large buffers kept for reuse (default 512 MiB); 0 returns every one at once.
void SetLargeBufferCacheLimit(size_t bytes);
size_t LargeBufferCacheLimit();

/// std::allocator replacement for big growing vectors (decoded values, decompression scratch).
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) {
    void* p = AllocateLarge(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { FreeLarge(p, n * sizeof(T)); }
  /// resize() leaves new elements uninitialized (decoders overwrite them); explicit values,
  /// as in vector(n, 0), are still written.
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
      ::new (static_cast<void*>(p)) U;
    } else {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace sluice
