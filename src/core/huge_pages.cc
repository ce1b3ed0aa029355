#include "sluice/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

namespace sluice {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

/// Mapping size for a request: whole huge pages, and above 16 MiB one of eight classes per
/// power of two (at most 12.5% slack), so buffers of similar sizes can reuse each other.
size_t SizeClass(size_t bytes) {
  size_t step = kHugePage;
  if (bytes > (size_t{16} << 20)) {
    size_t pow2 = size_t{1} << (64 - __builtin_clzll(bytes - 1));
    step = std::max(kHugePage, pow2 / 16);
  }
  return RoundUp(bytes, step);
}

/// Freed mappings by size, and the size of every live mapping (a reused block may be larger
/// than what its new owner asked for, and FreeLarge only knows the request).
struct Cache {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;
  std::unordered_map<void*, size_t> live;
  size_t cached = 0;
  size_t limit = size_t{512} << 20;
};

Cache& TheCache() {
  static Cache* cache = new Cache();  // never destroyed: buffers may be freed during exit
  return *cache;
}

void* MapAligned(size_t size) {
  // Map one huge page more than needed, then cut the unaligned head and the tail away.
  void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = RoundUp(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + size + kHugePage;
  if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

void* AllocateLarge(size_t bytes) {
  if (bytes < kHugeThreshold) return std::aligned_alloc(64, RoundUp(bytes == 0 ? 64 : bytes, 64));
  const size_t size = SizeClass(bytes);
  Cache& c = TheCache();
  {
    std::lock_guard lock(c.mu);
    auto it = c.free_blocks.lower_bound(size);
    if (it != c.free_blocks.end() && it->first <= 2 * size) {
      void* p = it->second;
      c.cached -= it->first;
      c.live[p] = it->first;
      c.free_blocks.erase(it);
      return p;
    }
  }
  void* p = MapAligned(size);
  if (p == nullptr) return nullptr;
  std::lock_guard lock(c.mu);
  c.live[p] = size;
  return p;
}

void FreeLarge(void* p, size_t bytes) {
  if (p == nullptr) return;
  if (bytes < kHugeThreshold) {
    std::free(p);
    return;
  }
  Cache& c = TheCache();
  size_t size;
  {
    std::lock_guard lock(c.mu);
    auto it = c.live.find(p);
    size = it == c.live.end() ? SizeClass(bytes) : it->second;
    if (it != c.live.end()) c.live.erase(it);
    if (c.cached + size <= c.limit) {
      c.free_blocks.emplace(size, p);
      c.cached += size;
      return;
    }
  }
  munmap(p, size);
}

void SetLargeBufferCacheLimit(size_t bytes) {
  Cache& c = TheCache();
  std::multimap<size_t, void*> drop;
  {
    std::lock_guard lock(c.mu);
    c.limit = bytes;
    while (c.cached > c.limit && !c.free_blocks.empty()) {
      auto it = std::prev(c.free_blocks.end());
      c.cached -= it->first;
      drop.insert(*it);
      c.free_blocks.erase(it);
    }
  }
  for (auto& [size, p] : drop) munmap(p, size);
}

size_t LargeBufferCacheLimit() {
  Cache& c = TheCache();
  std::lock_guard lock(c.mu);
  return c.limit;
}

}  // namespace sluice
