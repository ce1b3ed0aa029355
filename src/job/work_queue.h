#pragma once
/// Which shard a worker computes next. Worker r of N owns shards r, r + N, r + 2N, ... and
/// runs them from the front; once its own are done it helps the others, one shard at a time,
/// from the tail of their shares (the shards their owners would reach last), so one slow or
/// dead worker does not hold the job. Every shard is claimed on the OutputBoard before it starts:
///   - an owner skips its shard when it is already published or claimed by a live worker;
///   - a helper takes only shards that are unpublished and unclaimed, or whose claimants went
///     silent (killed, stopped), and backs off when it finds another live claim next to its own;
///   - helpers spread over the candidates by rank, so those finishing together do not pile on
///     the same shard.
/// So a shard is computed twice only when two workers claim it within the same moment, or when
/// a silent worker comes back (SIGCONT) and finishes what was taken over; either way both
/// publish the same part name atomically and the output holds the rows once.
///
/// A single worker (no board) just runs its shards in order, as before.
///
/// Threading: thread-safe; Next is called by the executor's read workers, Published by the sink.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <vector>

#include "job/job_input.h"
#include "job/output_board.h"

namespace sluice::job {

class WorkQueue {
 public:
  struct Options {
    int rank = 0;
    int count = 1;
    bool help_others = true;  // take the others' unpublished shards after our own
  };
  /// `shards`: the job's; `published`: those published when the worker started.
  WorkQueue(std::vector<Shard> shards, const std::set<int>& published, OutputBoard* board, Options options);

  /// The next shard to compute, already claimed; nullopt when there is none to take now.
  Result<std::optional<Shard>> Next();
  /// The shard's part is published: its claim goes.
  void Published(int shard);
  /// Releases the claims of every shard started and not published (the worker stops).
  void ReleaseUnfinished();
  /// Between rounds: waits, looking every `poll`, until every shard is published (false) or
  /// one can be taken (true); a stop request returns false.
  Result<bool> AwaitWork(std::chrono::milliseconds poll, std::stop_token stop);

  int own_total() const { return own_total_; }
  int own_published_at_start() const { return own_resumed_; }
  std::vector<int> taken() const;        // other workers' shards this worker took
  std::vector<int> in_progress() const;  // claimed, not yet published

 private:
  Result<std::optional<int>> NextOthers();
  /// The shards a helper may take now, best first.
  std::vector<int> Candidates(const OutputBoard::View& view) const;
  bool Owns(int shard) const { return shard % options_.count == options_.rank; }

  std::map<int, Shard> by_index_;
  OutputBoard* board_;
  Options options_;
  mutable std::mutex mu_;
  std::vector<int> own_;      // own shards not published at start, in order
  size_t own_next_ = 0;
  std::set<int> published_;   // known published (at start, by us, or seen on the board)
  std::set<int> started_;     // claimed by this worker in this run
  std::set<int> done_;        // published by this worker
  std::set<int> contended_;   // backed off from: another claimed it at the same moment
  std::vector<int> taken_;
  int own_total_ = 0, own_resumed_ = 0;
};

}  // namespace sluice::job
