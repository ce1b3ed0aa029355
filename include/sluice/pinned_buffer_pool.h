#pragma once
/// A pool of page-locked (pinned) host buffers of one size class, for host -> device copies.
///
/// Why a pool: only pinned memory copies to the GPU asynchronously and at full PCIe speed, but
/// cudaHostAlloc is slow (it maps and locks every page: tens of milliseconds for a batch of
/// images) and locked memory is scarce, so buffers are allocated once and reused batch after
/// batch. Every buffer has the pool's size class (a batch's tensor); a buffer goes back to the
/// pool when its last reference (the Buffer, a column or slice over it) dies, through the
/// Buffer's release function, so a column built in pinned memory needs no explicit release.
///
/// Budget: pinned memory is resident and cannot be swapped, so the executor's memory budget
/// must count all of it, idle buffers included: stats().bytes_held.
///
/// Only builds with SLUICE_WITH_CUDA have the default (cudaHostAlloc) backing; the header
/// needs no CUDA headers.
///
/// Threading: thread-safe (one mutex; allocation and freeing happen outside it). Buffers may be
/// released on any thread, also after the pool itself is gone (they are then freed).

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "sluice/memory.h"
#include "sluice/status.h"

namespace sluice {

struct PinnedBufferPoolOptions {
  /// The size class: every buffer holds this many bytes (> 0).
  int64_t buffer_bytes = 0;
  /// At most this many buffers exist at once (0 = no limit). When all are in use Acquire fails
  /// with ResourceExhausted instead of waiting: the executor's budget is where stages wait, and
  /// a second waiting point inside a stage could deadlock against it.
  int64_t max_buffers = 0;
  /// Released buffers beyond this many idle ones are freed (-1 = keep all).
  int64_t max_idle_buffers = -1;
  /// Where the bytes come from. Empty: cudaHostAlloc (portable: usable by every device, so one
  /// pool can feed replicas on several GPUs) and cudaFreeHost. Tests substitute heap memory to
  /// check the pool's bookkeeping on machines without a GPU.
  std::function<Result<uint8_t*>(int64_t bytes)> allocate;
  std::function<void(uint8_t*, int64_t bytes)> free;
};

struct PinnedPoolStats {
  int64_t bytes_held = 0;      // every buffer allocated and not yet freed: in use + idle
  int64_t bytes_in_use = 0;    // handed out and not yet released
  int64_t buffers_held = 0;
  int64_t buffers_in_use = 0;
  int64_t allocations = 0;     // buffers allocated over the pool's life (cudaHostAlloc calls)
  int64_t reuses = 0;          // acquisitions served by an idle buffer
};

class PinnedBufferPool final : public Allocator {
 public:
  static Result<std::shared_ptr<PinnedBufferPool>> Make(PinnedBufferPoolOptions options);
  /// Frees the idle buffers; buffers still in use are freed when released.
  ~PinnedBufferPool() override;
  PinnedBufferPool(const PinnedBufferPool&) = delete;
  PinnedBufferPool& operator=(const PinnedBufferPool&) = delete;

  /// A buffer of buffer_bytes: an idle one if there is one, else a new allocation.
  Result<std::shared_ptr<Buffer>> Acquire();
  /// Allocator: a pooled buffer whose size() is `bytes` (<= buffer_bytes; larger requests are
  /// InvalidArgument, since one-off pinned allocations are what the pool exists to avoid).
  Result<std::shared_ptr<Buffer>> Allocate(int64_t bytes) override;
  MemoryKind kind() const override { return MemoryKind::kPinnedHost; }
  std::string_view name() const override { return "pinned_pool"; }

  int64_t buffer_bytes() const;
  PinnedPoolStats stats() const;
  /// Frees every idle buffer now (returns their pinned memory to the system).
  void ReleaseIdle();

 private:
  struct State;
  explicit PinnedBufferPool(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;  // shared with the release functions of buffers in use
};

}  // namespace sluice
