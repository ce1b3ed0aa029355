#include "sluice/pinned_buffer_pool.h"

#include <cuda_runtime_api.h>

#include <mutex>
#include <string>
#include <vector>

#include "cuda_status.h"

namespace sluice {

struct PinnedBufferPool::State {
  PinnedBufferPoolOptions options;
  mutable std::mutex mu;
  std::vector<uint8_t*> idle;  // guarded by mu
  PinnedPoolStats stats;       // guarded by mu
  bool closed = false;         // guarded by mu: the pool is gone, released buffers are freed

  /// The release function of a buffer handed out: back to the idle list, or freed.
  void Release(uint8_t* p) {
    {
      std::lock_guard lock(mu);
      --stats.buffers_in_use;
      stats.bytes_in_use -= options.buffer_bytes;
      const bool keep = !closed && (options.max_idle_buffers < 0 || static_cast<int64_t>(idle.size()) < options.max_idle_buffers);
      if (keep) {
        idle.push_back(p);
        return;
      }
      --stats.buffers_held;
      stats.bytes_held -= options.buffer_bytes;
    }
    options.free(p, options.buffer_bytes);
  }
};

Result<std::shared_ptr<PinnedBufferPool>> PinnedBufferPool::Make(PinnedBufferPoolOptions options) {
  if (options.buffer_bytes <= 0) {
    return Status::InvalidArgument("pinned pool: buffer_bytes must be > 0 (got " + std::to_string(options.buffer_bytes) + ")");
  }
  if (options.max_buffers < 0) {
    return Status::InvalidArgument("pinned pool: max_buffers must be >= 0 (got " + std::to_string(options.max_buffers) + ")");
  }
  if (options.max_idle_buffers < -1) {
    return Status::InvalidArgument("pinned pool: max_idle_buffers must be >= -1 (got " + std::to_string(options.max_idle_buffers) + ")");
  }
  if (static_cast<bool>(options.allocate) != static_cast<bool>(options.free)) {
    return Status::InvalidArgument("pinned pool: give both allocate and free, or neither");
  }
  if (!options.allocate) {
    options.allocate = [](int64_t bytes) -> Result<uint8_t*> {
      void* p = nullptr;
      RETURN_IF_ERROR(gpu::CudaStatus(cudaHostAlloc(&p, static_cast<size_t>(bytes), cudaHostAllocPortable),
                                      "cudaHostAlloc of " + std::to_string(bytes) + " bytes"));
      return static_cast<uint8_t*>(p);
    };
    options.free = [](uint8_t* p, int64_t) { (void)cudaFreeHost(p); };
  }
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  return std::shared_ptr<PinnedBufferPool>(new PinnedBufferPool(std::move(state)));
}

PinnedBufferPool::PinnedBufferPool(std::shared_ptr<State> state) : state_(std::move(state)) {}

PinnedBufferPool::~PinnedBufferPool() {
  {
    std::lock_guard lock(state_->mu);
    state_->closed = true;
  }
  ReleaseIdle();
}

Result<std::shared_ptr<Buffer>> PinnedBufferPool::Acquire() { return Allocate(state_->options.buffer_bytes); }

Result<std::shared_ptr<Buffer>> PinnedBufferPool::Allocate(int64_t bytes) {
  State& s = *state_;
  const int64_t size_class = s.options.buffer_bytes;
  if (bytes < 0 || bytes > size_class) {
    return Status::InvalidArgument("pinned pool: a request for " + std::to_string(bytes) + " bytes does not fit its size class of " +
                                   std::to_string(size_class) + " bytes");
  }
  uint8_t* p = nullptr;
  {
    std::lock_guard lock(s.mu);
    if (!s.idle.empty()) {
      p = s.idle.back();
      s.idle.pop_back();
      ++s.stats.reuses;
    } else if (s.options.max_buffers > 0 && s.stats.buffers_held >= s.options.max_buffers) {
      return Status::ResourceExhausted("pinned pool: all " + std::to_string(s.options.max_buffers) + " buffers of " +
                                       std::to_string(size_class) + " bytes are in use");
    } else {
      // Counted before allocating (outside the lock: cudaHostAlloc takes milliseconds), so
      // concurrent callers cannot exceed max_buffers.
      ++s.stats.buffers_held;
      s.stats.bytes_held += size_class;
    }
    ++s.stats.buffers_in_use;
    s.stats.bytes_in_use += size_class;
  }
  if (p == nullptr) {
    Result<uint8_t*> fresh = s.options.allocate(size_class);
    if (!fresh.ok() || *fresh == nullptr) {
      std::lock_guard lock(s.mu);
      --s.stats.buffers_held;
      s.stats.bytes_held -= size_class;
      --s.stats.buffers_in_use;
      s.stats.bytes_in_use -= size_class;
      if (!fresh.ok()) return fresh.status().WithContext("pinned pool");
      return Status::ResourceExhausted("pinned pool: allocation of " + std::to_string(size_class) + " bytes returned null");
    }
    p = *fresh;
    std::lock_guard lock(s.mu);
    ++s.stats.allocations;
  }
  return std::make_shared<Buffer>(p, bytes, MemoryKind::kPinnedHost, -1, [state = state_](uint8_t* q) { state->Release(q); });
}

int64_t PinnedBufferPool::buffer_bytes() const { return state_->options.buffer_bytes; }

PinnedPoolStats PinnedBufferPool::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

void PinnedBufferPool::ReleaseIdle() {
  std::vector<uint8_t*> idle;
  {
    std::lock_guard lock(state_->mu);
    idle.swap(state_->idle);
    state_->stats.buffers_held -= static_cast<int64_t>(idle.size());
    state_->stats.bytes_held -= static_cast<int64_t>(idle.size()) * state_->options.buffer_bytes;
  }
  for (uint8_t* p : idle) state_->options.free(p, state_->options.buffer_bytes);
}

}  // namespace sluice
