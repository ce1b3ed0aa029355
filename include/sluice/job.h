#pragma once
/// The batch inference job (`sluice run`): a job file (YAML) that names the input, the
/// preprocessing, the model and the output; RunJob streams it through the executor
///   read shard -> decode/preprocess (CPU pool, autoscaled) -> rebatch -> model replicas -> writer
/// with exactly-once output: each input shard's predictions are published atomically as
/// `part-<shard>.<ext>`, so a rerun after a crash only processes the shards not yet published.
///
/// Threading: RunJob blocks the calling thread; callbacks run on executor threads.

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "sluice/image.h"
#include "sluice/plan.h"
#include "sluice/stats.h"
#include "sluice/status.h"
#include "sluice/worker_identity.h"

namespace sluice {

struct JobSpec {
  struct Input {
    std::vector<std::string> uris;   // paths, globs or s3:// URIs
    std::string format = "parquet";  // parquet | images
    std::string id_column = "id";
    std::string image_column = "image";
    /// For a list column whose file does not say its shape (Ray metadata that could not be
    /// read, plain list<uint8> arrays): every row is a uint8 array of this shape, e.g. [256, 256, 3].
    std::vector<int64_t> image_shape;
    int64_t limit = 0;               // 0 = every row
    int64_t shard_rows = 10000;      // rows per shard (parquet: whole row groups; images: files)
  } input;
  PreprocessSpec preprocess;
  /// `preprocess: none`: the image column already is the model's input (a float tensor such as
  /// float32 [3, 224, 224] that an earlier pipeline wrote); it goes to the model as it is.
  bool preprocess_none = false;
  struct Model {
    std::string uri;
    std::string backend = "torch";
    std::string device = "auto";     // auto | cpu | cuda | cuda:0,1
    std::string dtype = "auto";  // auto: bfloat16 on a CPU where measured faster and equal in top-1 (infer/auto_dtype.h)
    int64_t batch_size = 256;
    int replicas = 0;                // 0 = auto
    int threads = 0;                 // CPU threads per replica; 0 = auto
    std::string normalize = "auto";  // host | device (uint8 to the device) | auto (device on GPUs)
  } model;
  /// `model: none`: no model stage; the output is the preprocessed "input" tensor (or what the
  /// embedding program's stages make of it, RunOptions::stages). With `preprocess: none` too,
  /// the rows go through as read (the image column as "image").
  bool model_none = false;
  struct Output {
    std::string uri;
    std::string format = "parquet";  // parquet | jsonl
    int top_k = 5;                   // 0 = the raw model output
    std::vector<std::string> include;
    std::string compression = "zstd";
    std::string tensor_layout = "sluice";  // parquet tensors: sluice | ray (Ray Data reads them)
    /// Rows reach the writer in input order: every run writes byte-identical parts (costs
    /// throughput when batches finish out of order).
    bool preserve_order = false;
  } output;
  struct Errors {
    double max_bad_rows = 0.001;     // < 1: a fraction of the input rows; >= 1: a count
  } errors;
  struct Resources {
    int cpus = 0;                    // 0 = every core
    int64_t memory = int64_t{4} << 30;  // the executor's in-flight budget
    double stall_timeout_s = 300;       // no-progress watchdog; 0 = off
  } resources;
  /// Several workers on one output (worker_identity.h); none of this decides the output.
  struct Workers {
    double heartbeat_s = 5;      // how often each rewrites _workers/worker-RRRRR.json
    double stale_after_s = 30;   // a worker whose report has not changed this long is gone: its shards are taken over
    bool help_others = true;     // after its own shards, take the others' unstarted ones from the tail
  } workers;

  /// Not in job files: the stages an embedding program adds (RunOptions::stages), described
  /// so that a rerun with other stages is refused like a rerun with another model.
  std::string stages_fingerprint;

  /// The keys that decide the output, in canonical form: a rerun against an existing output
  /// must have the same fingerprint (or --overwrite).
  std::string Fingerprint() const;
};

/// Parses a job file's text. `overrides` are "key.sub=value" (value in YAML: 5, cpu, [a, b]).
/// Errors name the file and the key.
Result<JobSpec> ParseJob(const std::string& yaml_text, const std::vector<std::string>& overrides,
                         const std::string& source_name);
Result<JobSpec> LoadJobFile(const std::string& path, const std::vector<std::string>& overrides);
/// Every key with its default and meaning (the README's reference and `sluice run --help`).
std::string JobFileReference();

/// What one feeder of a heterogeneous cell (sluice/cell.h) gave an infer worker.
struct FeederFigures {
  std::string name;            // "feeder 0 (MPI rank 1 on cpu1)"
  int shards = 0;              // shards handed to it
  int64_t rows = 0, bad_rows = 0, batches = 0, bytes = 0;
  double active_s = 0;         // from the worker's start to the feeder's last batch
  double credit_wait_s = 0;    // the feeder's time blocked waiting for credits, as it last said
  double rows_per_s() const { return active_s > 0 ? static_cast<double>(rows + bad_rows) / active_s : 0; }
};

/// A stage an embedding program (the Python API's map_batches) adds to the job's chain
///   read -> [kAfterRead] -> preprocess -> [kAfterPreprocess] -> batch -> model -> [kAfterModel] -> write
/// in the order given. It sees every column but the shard column and must return one row for
/// each row it got (the shard column is put back); bad rows it reports (by row id) are recorded
/// with their shard like the engine's own. With stages, the output is every column of the last
/// stage's batches.
struct UserStage {
  enum class Place { kAfterRead, kAfterPreprocess, kAfterModel };
  std::string name;
  Place place = Place::kAfterModel;
  ActorFactory actor;      // replica r is created, used and destroyed on its own thread
  int replicas = 1;
  int64_t batch_rows = 0;  // batches of exactly this many rows (the last shorter); 0: as they come
};

class FeederPort;
class InferPort;

struct RunOptions {
  bool overwrite = false;
  /// Worker r of N (worker_identity.h): this process runs shards r, r + N, r + 2N, ... and the
  /// worker that finds every shard published writes _manifest.json and _SUCCESS.
  WorkerIdentity worker;
  std::function<void(const PlanStats&)> on_progress;
  /// Shards published (by any worker, as this one knows it) of the job's total: once before
  /// the work starts, then after each shard this worker publishes; from executor threads.
  std::function<void(int published, int total)> on_shards;
  /// Sees every bad row (recorded in _errors/ as well), from executor threads.
  std::function<void(const BadRow&)> on_bad_row;
  std::stop_token stop;
  /// An infer worker's feeders (`--role infer` in a heterogeneous cell), or none.
  FeederPort* feeders = nullptr;
  /// With feeders: this worker's own cores preprocess too (else only the feeders do).
  bool local_preprocess = true;
  /// Stages the embedding program adds (see UserStage).
  std::vector<UserStage> stages;
};

struct JobResult {
  int64_t rows_total = 0;     // input rows of the job
  int64_t rows_written = 0;   // rows written by this run
  int64_t bad_rows = 0;       // bad rows of this run
  int shards_total = 0;
  int shards_resumed = 0;     // already published before this run
  int shards_written = 0;     // published by this run (own and taken over)
  int shards_taken = 0;       // other workers' shards this one took over
  double wall_s = 0;
  PlanStats stats;
  std::string model_dtype;      // the model's compute dtype as it ran (auto: its choice)
  std::string model_dtype_why;  // model.dtype auto: why, in words
  std::string bottleneck;     // the stage that limited throughput
  std::string verdict;        // why, in words (ExplainThroughput)
  WorkerIdentity worker;
  int shards_published = 0;   // of shards_total, by any worker, when this one finished
  bool job_complete = false;  // every shard published: _manifest.json and _SUCCESS written
  /// Heterogeneous cells: rows this worker's own cores read and preprocessed, and each feeder's.
  int64_t rows_from_own_cores = 0;
  std::vector<FeederFigures> feeders;
  int feeder_credits = 0;              // batches each feeder may have in flight to this worker
  int64_t feeder_inbox_peak_bytes = 0;  // the most the feeders' batches held here at once
  /// The end-of-run summary for people.
  std::string Summary() const;
  std::string ToJson() const;
};

Result<JobResult> RunJob(const JobSpec& spec, const RunOptions& options = {});

/// The job's chain (with options.stages) without its output: every batch that would be written
/// goes to `consume` instead (on the plan's sink thread; blocking there holds the plan back,
/// so memory stays bounded by the budget plus what the consumer holds). `batch_rows` > 0:
/// batches of exactly that many rows, the last shorter. Shards in input order; rows in order
/// with output.preserve_order. No output.uri is needed and nothing is written; bad rows count
/// against errors.max_bad_rows and reach options.on_bad_row. The stall watchdog is off (the
/// consumer may take its time). rows_written counts the rows consumed.
Result<JobResult> StreamJob(const JobSpec& spec, const RunOptions& options, int64_t batch_rows,
                            std::function<Status(Batch)> consume);

/// What a feeder did (`sluice run --role preprocess`).
struct FeedResult {
  int feeder = 0, feeders = 1;
  int shards = 0;            // shards it preprocessed
  int64_t rows_sent = 0;     // crops sent to infer workers
  int64_t bad_rows = 0;      // rows it could not use (sent to the shard's infer worker)
  int64_t bytes_sent = 0;
  double wall_s = 0;
  double credit_wait_s = 0;  // blocked waiting for infer workers' credits
  PlanStats stats;
  std::string Summary() const;
};

/// A feeder of a heterogeneous cell (sluice/cell.h): asks the infer workers for shards, reads,
/// decodes, resizes and crops them with this machine's cores and sends the uint8 crops to the
/// shard's infer worker under its credits, until no infer worker has work left. Bad rows go
/// to the shard's infer worker, which records them in _errors/. On an error the infer workers
/// are told (their runs fail naming this feeder).
Result<FeedResult> RunFeeder(const JobSpec& spec, InferPort& port, const RunOptions& options = {});

/// The uint8 HWC crop the feeders send for `spec` (its preprocessing without ToTensor and
/// Normalize); fails when the job has no preprocessing to share.
Result<PreprocessSpec> FeederCropSpec(const JobSpec& spec);

/// `sluice status`: a job's progress read from its output alone, while it runs and after:
/// shards and rows published, bad rows, shards in progress, each worker's state, throughput and
/// last activity, stragglers, whether it is complete. `json`: one JSON object. `complete` (may
/// be null) says whether _SUCCESS is there.
Result<std::string> DescribeJobOutput(const std::string& output_uri, bool json, bool* complete = nullptr);

}  // namespace sluice
