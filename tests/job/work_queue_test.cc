// The work queue over a real output directory: own shards in order, then one shard at a time
// from the tail of the others'; claims of live workers respected, void claims taken over;
// published parts never handed out.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "job/output_board.h"
#include "job/shard_output.h"
#include "job/work_queue.h"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class WorkQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice_work_queue_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fsys_ = FileSystemFor(dir_.string()).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<Shard> Shards(int n) {
    std::vector<Shard> out;
    for (int i = 0; i < n; ++i) out.push_back(Shard{i, "f.parquet", i, 1, {}, 10});
    return out;
  }
  void Touch(const std::string& name) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << "x";
  }
  bool Exists(const std::string& name) { return fs::exists(dir_ / name); }
  int Next(WorkQueue& q) {
    auto s = q.Next();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() && *s ? (*s)->index : -1;
  }

  fs::path dir_;
  std::shared_ptr<FileSystem> fsys_;
};

TEST_F(WorkQueueTest, OwnShardsInOrderThenOneOfTheOthersFromTheTail) {
  OutputBoard board(fsys_, dir_.string(), "parquet", milliseconds(30000));
  WorkQueue q(Shards(6), {}, &board, {0, 2, true});
  EXPECT_EQ(Next(q), 0);
  EXPECT_TRUE(Exists("_claims/part-00000.w00000"));  // claimed before it starts
  EXPECT_EQ(Next(q), 2);
  EXPECT_EQ(Next(q), 4);
  EXPECT_EQ(Next(q), -1);  // own shards in flight: no help yet
  for (int s : {0, 2, 4}) {
    Touch(PartName(s, "parquet"));
    q.Published(s);
  }
  EXPECT_FALSE(Exists("_claims/part-00000.w00000"));  // released once published
  EXPECT_EQ(Next(q), 5);  // worker 1's last
  EXPECT_EQ(q.taken(), std::vector<int>{5});
  EXPECT_EQ(Next(q), -1);  // one at a time
}

TEST_F(WorkQueueTest, HelpersSpreadOverTheTailByRank) {
  OutputBoard board(fsys_, dir_.string(), "parquet", milliseconds(30000));
  // Workers 1 and 2 of 3 have nothing of their own left; worker 0 has 0, 3, 6, 9 unstarted.
  std::set<int> published = {1, 2, 4, 5, 7, 8, 10, 11};
  WorkQueue one(Shards(12), published, &board, {1, 3, true});
  WorkQueue two(Shards(12), published, &board, {2, 3, true});
  EXPECT_EQ(Next(one), 6);  // second from the tail
  EXPECT_EQ(Next(two), 9);  // the tail of what is left; never the owner's next (0)
}

TEST_F(WorkQueueTest, ShardsClaimedByALiveWorkerArePassedOverAndVoidClaimsTakenOver) {
  OutputBoard board(fsys_, dir_.string(), "parquet", milliseconds(300));
  Touch("_claims/part-00002.w00001");  // worker 1 took our shard 2
  Touch(WorkerReportName(1));
  WorkQueue q(Shards(4), {}, &board, {0, 2, true});
  EXPECT_EQ(Next(q), 0);
  EXPECT_EQ(Next(q), -1);  // 2 is worker 1's now (its report was seen just now)
  Touch(PartName(0, "parquet"));
  q.Published(0);
  EXPECT_EQ(Next(q), 3);  // helping: the tail of worker 1's unclaimed 1 and 3
  Touch(PartName(3, "parquet"));
  q.Published(3);
  EXPECT_EQ(Next(q), 1);
  Touch(PartName(1, "parquet"));
  q.Published(1);
  EXPECT_EQ(Next(q), -1);  // 2 is still claimed by a live worker
  // Worker 1's report never changes again: after stale_after its claim is void.
  const auto t0 = std::chrono::steady_clock::now();
  auto more = q.AwaitWork(milliseconds(50), std::stop_token());
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_TRUE(*more);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(100));
  EXPECT_EQ(Next(q), 2);
  EXPECT_TRUE(Exists("_claims/part-00002.w00000"));
}

TEST_F(WorkQueueTest, PublishedPartsAreNeverHandedOutAndTheWaitEndsWhenAllArePublished) {
  OutputBoard board(fsys_, dir_.string(), "parquet", milliseconds(30000));
  WorkQueue q(Shards(4), {}, &board, {1, 2, true});
  Touch(PartName(1, "parquet"));  // published by a helper after we started
  EXPECT_EQ(Next(q), 3);
  Touch(PartName(3, "parquet"));
  q.Published(3);
  Touch("_claims/part-00000.w00000");
  Touch(WorkerReportName(0));
  EXPECT_EQ(Next(q), 2);  // worker 0's 0 is claimed and live
  std::jthread publisher([&] {
    std::this_thread::sleep_for(milliseconds(200));
    Touch(PartName(0, "parquet"));
    Touch(PartName(2, "parquet"));
  });
  q.Published(2);
  auto more = q.AwaitWork(milliseconds(50), std::stop_token());
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);  // every shard published
}

TEST_F(WorkQueueTest, ASingleWorkerNeedsNoBoard) {
  WorkQueue q(Shards(3), {1}, nullptr, {0, 1, true});
  EXPECT_EQ(Next(q), 0);
  EXPECT_EQ(Next(q), 2);
  EXPECT_EQ(Next(q), -1);
  EXPECT_EQ(q.own_published_at_start(), 1);
  auto more = q.AwaitWork(milliseconds(10), std::stop_token());
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_FALSE(fs::exists(dir_ / "_claims"));
}

}  // namespace
}  // namespace sluice::job
