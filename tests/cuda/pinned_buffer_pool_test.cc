// The pinned buffer pool's bookkeeping, on heap memory standing in for cudaHostAlloc (so it
// runs without a GPU), and its default CUDA backing failing cleanly where there is no device.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "sluice/column.h"
#include "sluice/cuda_device.h"
#include "sluice/pinned_buffer_pool.h"

namespace sluice {
namespace {

/// Heap memory with counters, in place of cudaHostAlloc / cudaFreeHost.
struct FakePinned {
  std::atomic<int64_t> allocated{0}, freed{0}, live_bytes{0};
  std::atomic<bool> fail{false};

  PinnedBufferPoolOptions Options(int64_t buffer_bytes) {
    PinnedBufferPoolOptions o;
    o.buffer_bytes = buffer_bytes;
    o.allocate = [this](int64_t bytes) -> Result<uint8_t*> {
      if (fail) return Status::ResourceExhausted("fake cudaHostAlloc: out of memory");
      ++allocated;
      live_bytes += bytes;
      return static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>((bytes + 63) / 64 * 64)));
    };
    o.free = [this](uint8_t* p, int64_t bytes) {
      ++freed;
      live_bytes -= bytes;
      std::free(p);
    };
    return o;
  }
};

TEST(PinnedBufferPoolTest, MakeValidatesOptions) {
  FakePinned fake;
  auto o = fake.Options(0);
  EXPECT_EQ(PinnedBufferPool::Make(o).status().code(), StatusCode::kInvalidArgument);
  o = fake.Options(64);
  o.max_buffers = -1;
  EXPECT_EQ(PinnedBufferPool::Make(o).status().code(), StatusCode::kInvalidArgument);
  o = fake.Options(64);
  o.max_idle_buffers = -2;
  EXPECT_EQ(PinnedBufferPool::Make(o).status().code(), StatusCode::kInvalidArgument);
  o = fake.Options(64);
  o.free = nullptr;
  const Status st = PinnedBufferPool::Make(o).status();
  EXPECT_NE(st.message().find("both allocate and free"), std::string::npos) << st.ToString();
}

TEST(PinnedBufferPoolTest, ReleasedBuffersAreReusedAndCounted) {
  FakePinned fake;
  auto pool = PinnedBufferPool::Make(fake.Options(1 << 20)).value();
  EXPECT_EQ(pool->kind(), MemoryKind::kPinnedHost);
  uint8_t* first = nullptr;
  {
    auto a = pool->Acquire().value();
    first = a->data();
    EXPECT_EQ(a->size(), 1 << 20);
    EXPECT_EQ(a->kind(), MemoryKind::kPinnedHost);
    a->data()[(1 << 20) - 1] = 7;  // the whole size class is usable
    auto b = pool->Acquire().value();
    EXPECT_NE(b->data(), first);
    const PinnedPoolStats s = pool->stats();
    EXPECT_EQ(s.buffers_held, 2);
    EXPECT_EQ(s.buffers_in_use, 2);
    EXPECT_EQ(s.bytes_held, 2 << 20);
    EXPECT_EQ(s.bytes_in_use, 2 << 20);
    EXPECT_EQ(s.allocations, 2);
  }
  PinnedPoolStats s = pool->stats();
  EXPECT_EQ(s.buffers_in_use, 0);
  EXPECT_EQ(s.bytes_in_use, 0);
  EXPECT_EQ(s.bytes_held, 2 << 20);  // idle buffers stay pinned: the budget must still count them
  EXPECT_EQ(fake.freed, 0);
  std::set<uint8_t*> seen;
  {
    auto a = pool->Acquire().value();
    auto b = pool->Acquire().value();
    seen = {a->data(), b->data()};
  }
  EXPECT_EQ(seen.count(first), 1u);
  s = pool->stats();
  EXPECT_EQ(s.allocations, 2);
  EXPECT_EQ(s.reuses, 2);
  pool->ReleaseIdle();
  EXPECT_EQ(pool->stats().bytes_held, 0);
  EXPECT_EQ(fake.freed, 2);
  EXPECT_EQ(fake.live_bytes, 0);
}

TEST(PinnedBufferPoolTest, MaxBuffersFailsInsteadOfWaiting) {
  FakePinned fake;
  auto o = fake.Options(4096);
  o.max_buffers = 2;
  auto pool = PinnedBufferPool::Make(o).value();
  auto a = pool->Acquire().value();
  auto b = pool->Acquire().value();
  const Status st = pool->Acquire().status();
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("all 2 buffers of 4096 bytes are in use"), std::string::npos) << st.ToString();
  a.reset();
  EXPECT_TRUE(pool->Acquire().ok());
  EXPECT_EQ(pool->stats().allocations, 2);
}

TEST(PinnedBufferPoolTest, IdleBuffersBeyondTheLimitAreFreed) {
  FakePinned fake;
  auto o = fake.Options(4096);
  o.max_idle_buffers = 1;
  auto pool = PinnedBufferPool::Make(o).value();
  {
    auto a = pool->Acquire().value(), b = pool->Acquire().value(), c = pool->Acquire().value();
  }
  EXPECT_EQ(fake.freed, 2);
  const PinnedPoolStats s = pool->stats();
  EXPECT_EQ(s.buffers_held, 1);
  EXPECT_EQ(s.bytes_held, 4096);
}

TEST(PinnedBufferPoolTest, AllocatorRequestsMustFitTheSizeClass) {
  FakePinned fake;
  auto pool = PinnedBufferPool::Make(fake.Options(3 * 224 * 224 * 4)).value();
  // A column written straight into pinned memory, as a preprocessing stage would.
  Result<Column> col = Column::Allocate(DataType::Tensor(DType::kFloat32, {3, 224, 224}), 1, pool.get());
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_EQ(col->memory_kind(), MemoryKind::kPinnedHost);
  auto small = pool->Allocate(100).value();
  EXPECT_EQ(small->size(), 100);
  EXPECT_EQ(pool->stats().bytes_in_use, 2 * 3 * 224 * 224 * 4);  // whole size classes are held
  const Status big = pool->Allocate(3 * 224 * 224 * 4 + 1).status();
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("does not fit its size class of 602112 bytes"), std::string::npos) << big.ToString();
  EXPECT_EQ(pool->Allocate(-1).status().code(), StatusCode::kInvalidArgument);
}

TEST(PinnedBufferPoolTest, AllocationFailureLeavesTheCountsAsTheyWere) {
  FakePinned fake;
  auto pool = PinnedBufferPool::Make(fake.Options(4096)).value();
  fake.fail = true;
  const Status st = pool->Acquire().status();
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "pinned pool: fake cudaHostAlloc: out of memory");
  const PinnedPoolStats s = pool->stats();
  EXPECT_EQ(s.buffers_held, 0);
  EXPECT_EQ(s.bytes_held, 0);
  EXPECT_EQ(s.buffers_in_use, 0);
  fake.fail = false;
  EXPECT_TRUE(pool->Acquire().ok());
}

TEST(PinnedBufferPoolTest, BuffersMayOutliveThePool) {
  FakePinned fake;
  std::shared_ptr<Buffer> kept;
  {
    auto pool = PinnedBufferPool::Make(fake.Options(4096)).value();
    kept = pool->Acquire().value();
    { auto idle = pool->Acquire().value(); }
  }
  EXPECT_EQ(fake.freed, 1);  // the idle one, with the pool
  kept->data()[0] = 1;
  kept.reset();
  EXPECT_EQ(fake.freed, 2);
  EXPECT_EQ(fake.live_bytes, 0);
}

TEST(PinnedBufferPoolTest, ConcurrentAcquireAndReleaseKeepTheBooks) {
  FakePinned fake;
  auto o = fake.Options(256);
  o.max_buffers = 3;
  auto pool = PinnedBufferPool::Make(o).value();
  std::atomic<int64_t> refused{0}, served{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 2000; ++i) {
          auto b = pool->Acquire();
          if (!b.ok()) {
            ++refused;
            continue;
          }
          (*b)->data()[0] = static_cast<uint8_t>(t);
          ++served;
        }
      });
    }
  }
  const PinnedPoolStats s = pool->stats();
  EXPECT_EQ(served + refused, 8000);
  EXPECT_EQ(s.buffers_in_use, 0);
  EXPECT_LE(s.buffers_held, 3);
  EXPECT_LE(s.allocations, 3);
  EXPECT_EQ(s.allocations + s.reuses, served);
  EXPECT_EQ(s.bytes_held, s.buffers_held * 256);
}

TEST(PinnedBufferPoolTest, CudaBackingWithoutADeviceIsAnError) {
  Result<int> devices = CudaDeviceCount();
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  if (*devices > 0) GTEST_SKIP() << "this machine has a GPU (normalize_gpu_test covers real pinned memory)";
  PinnedBufferPoolOptions o;
  o.buffer_bytes = 1 << 20;
  auto pool = PinnedBufferPool::Make(o).value();
  const Status st = pool->Acquire().status();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cudaHostAlloc of 1048576 bytes"), std::string::npos) << st.ToString();
  EXPECT_EQ(pool->stats().bytes_held, 0);
}

}  // namespace
}  // namespace sluice
