#pragma once
/// The files through which the workers of one job coordinate, all inside the output location
/// (no server, no lock service, no conditional writes):
///
///   part-00042.parquet          shard 42 is published (shard_output.h): the only truth of "done"
///   _claims/part-00042.w00003   worker 3 computes shard 42: written before it starts, deleted
///                               once the part is published or the worker stops
///   _workers/worker-00003.json  worker 3's report, rewritten every heartbeat (worker_report.h)
///
/// A worker is alive while its report keeps changing. A claim of a worker whose report has not
/// changed for `stale_after`, measured on the reader's own clock (so hosts' clocks need not
/// agree), is void: a killed or stopped worker's shards are taken over by the others. Two
/// workers may still compute one shard when they claim it within the same moment; both publish
/// the same part name atomically, so the output holds its rows once whichever wins.
///
/// Threading: thread-safe (the liveness memory is behind a mutex); every call does I/O.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <set>
#include <string>

#include "sluice/filesystem.h"
#include "sluice/status.h"

namespace sluice::job {

/// "_workers/worker-00003.json".
std::string WorkerReportName(int rank);
/// A claim's name under _claims/ ("part-00042.w00003") -> {shard 42, worker 3}; nullopt if not one.
std::optional<std::pair<int, int>> ParseClaimName(const std::string& name);

class OutputBoard {
 public:
  OutputBoard(std::shared_ptr<FileSystem> fsys, std::string dir, std::string format, std::chrono::milliseconds stale_after);

  Status Claim(int shard, int rank);
  /// Deletes the claim (a claim already gone is fine).
  Status Release(int shard, int rank);
  /// Deletes every claim of `rank`: those an earlier run of this worker left when it was killed.
  Status ReleaseAll(int rank);
  Result<bool> IsPublished(int shard);

  struct View {
    std::set<int> published;                   // only when read with_published
    std::map<int, std::set<int>> live_claims;  // shard -> workers alive that claim it (silent ones' claims are void)
  };
  /// The claims (one listing of _claims/ and, when there are any, of _workers/) and, with
  /// `with_published`, the published parts (one listing of the output).
  Result<View> Read(bool with_published);

  std::chrono::milliseconds stale_after() const { return stale_after_; }

 private:
  std::string ClaimUri(int shard, int rank) const;
  /// Whether `rank` is alive, given its report's current version ("" when it has none).
  bool Alive(int rank, const std::string& version, std::chrono::steady_clock::time_point now);

  std::shared_ptr<FileSystem> fsys_;
  std::string dir_, format_;
  std::chrono::milliseconds stale_after_;
  struct Seen {
    std::string version;
    std::chrono::steady_clock::time_point changed;
  };
  std::mutex mu_;
  std::map<int, Seen> seen_;  // the last version of each worker's report and when it changed
};

}  // namespace sluice::job
