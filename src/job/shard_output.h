#pragma once
/// The job's output directory and the sink that fills it, exactly once per shard.
///
///   <output>/part-00042.parquet   predictions of shard 42, published atomically when the
///                                 shard's last row has arrived (its presence = "done")
///   <output>/_errors/part-00042.jsonl   the shard's bad rows (id, stage, message), published
///                                 before the part, so a published part always has its errors
///   <output>/_job.json            the job's fingerprint and shard count (written first)
///   <output>/_manifest.json       the shard and row counts and every part's name (written last)
///   <output>/_SUCCESS             the job completed
///
/// ShardLedger counts, per shard, the rows expected, written and reported bad, so the sink
/// knows when a shard is complete although rows of many shards arrive interleaved.
///
/// Threading: ShardLedger is thread-safe (bad rows arrive from map workers); the sink is one
/// replica, driven by the executor.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "job/job_input.h"
#include "sluice/filesystem.h"
#include "sluice/plan.h"

namespace sluice::job {

std::string JoinUri(const std::string& dir, const std::string& name);
std::string PartName(int shard, const std::string& format);

class ShardLedger {
 public:
  /// A shard whose rows will arrive (before its first row is read).
  void Expect(const Shard& shard);
  void AddBad(int shard, BadRow row);
  void AddWritten(int shard, int64_t rows);
  /// Complete shards not yet taken, with their bad rows; each is returned once.
  struct Done {
    int shard;
    int64_t written;
    std::vector<BadRow> bad;
  };
  std::vector<Done> TakeComplete();
  /// Shards still incomplete (after the plan ended this is a bug).
  std::vector<int> Incomplete() const;

 private:
  struct Entry {
    int64_t expected = 0, written = 0;
    std::vector<BadRow> bad;
    bool taken = false;
  };
  mutable std::mutex mu_;
  std::map<int, Entry> shards_;
};

struct OutputSpec {
  std::string dir;
  std::string format;       // parquet | jsonl
  std::string compression;  // parquet
  std::vector<std::string> columns;  // the output columns, in order; none: every column but the shard's
  /// A part published by an earlier run of the job: the schema for a shard whose every row was
  /// bad when no row of this run gave one.
  std::string schema_part;
  std::string tensor_layout = "sluice";  // parquet: sluice | ray
  /// After a shard's part is published (on the sink's thread): its rows written and bad.
  std::function<void(int shard, int64_t written, int64_t bad)> on_published;
};

/// The sink: splits batches by shard, streams each shard into its own writer and publishes
/// complete shards (errors first, then the part).
SinkFactory MakeShardSink(OutputSpec spec, std::shared_ptr<ShardLedger> ledger);

}  // namespace sluice::job
