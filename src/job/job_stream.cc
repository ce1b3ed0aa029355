// StreamJob: the job's chain with a consumer instead of the writer (job.h).
#include <algorithm>
#include <chrono>

#include "job/job_chain.h"
#include "job/job_input.h"
#include "sluice/executor.h"
#include "sluice/s3.h"

namespace sluice {
namespace {

/// Hands each batch, without the shard column, to the consumer.
class ConsumerSink final : public Sink {
 public:
  explicit ConsumerSink(std::function<Status(Batch)> consume) : consume_(std::move(consume)) {}
  Status Write(Batch batch, TaskContext&) override {
    if (batch.num_rows() == 0) return Status::OK();
    ASSIGN_OR_RETURN(Batch out, job::WithoutShardColumn(batch));
    return consume_(std::move(out));
  }

 private:
  std::function<Status(Batch)> consume_;
};

}  // namespace

Result<JobResult> StreamJob(const JobSpec& spec, const RunOptions& options, int64_t batch_rows, std::function<Status(Batch)> consume) {
  const auto start = std::chrono::steady_clock::now();
  bool uses_s3 = false;
  for (const auto& u : spec.input.uris) uses_s3 = uses_s3 || u.rfind("s3://", 0) == 0;
  if (uses_s3) RETURN_IF_ERROR(CheckDefaultS3Credentials());
  ASSIGN_OR_RETURN(job::JobInput input, job::PlanInput(spec));
  const int cpus = job::JobCpus(spec);
  ASSIGN_OR_RETURN(job::JobModel jm, job::PrepareJobModel(spec, input, cpus));

  // Every shard, in input order, one per read worker's request.
  auto next = std::make_shared<std::pair<std::mutex, size_t>>();
  job::ShardFeed feed = [next, shards = input.shards]() -> Result<std::optional<job::Shard>> {
    std::lock_guard lock(next->first);
    if (next->second >= shards.size()) return std::optional<job::Shard>();
    return std::optional<job::Shard>(shards[next->second++]);
  };
  const int read_workers = std::max(1, std::min({static_cast<int>(input.shards.size()), cpus, 4}));
  Plan plan;
  plan.AddSource("read", job::MakeShardSource(spec, feed, 32, input.total_rows), read_workers);
  job::AddJobStages(plan, spec, jm.GatedPreprocess(), jm.ModelActor(), jm.replicas(), options.stages, nullptr, cpus);
  if (batch_rows > 0) plan.AddRebatch("iter batch", batch_rows);
  plan.AddSink("consume", [consume](int) -> Result<std::unique_ptr<Sink>> { return std::unique_ptr<Sink>(new ConsumerSink(consume)); });

  ExecutorOptions eo = job::JobExecutorOptions(spec, options.stop);
  eo.stall_timeout = std::chrono::milliseconds(0);
  eo.on_progress = options.on_progress;
  auto bad = std::make_shared<std::atomic<int64_t>>(0);
  eo.on_bad_row = job::BadRowPolicy(spec, input.total_rows, options.on_bad_row, bad);
  JobResult result;
  result.rows_total = input.total_rows;
  result.shards_total = static_cast<int>(input.shards.size());
  Status st = Execute(plan, eo, &result.stats);
  if (st.code() == StatusCode::kStalled) (void)new auto(jm.models);  // a replica may still be inside a model
  RETURN_IF_ERROR(st);
  for (const auto& s : result.stats.stages) {
    if (s.kind == "sink") result.rows_written = s.rows_in;
  }
  result.bad_rows = bad->load();
  result.shards_written = result.shards_total;
  jm.DescribeDType(spec, &result);
  const ThroughputVerdict verdict = ExplainThroughput(result.stats);
  result.bottleneck = verdict.bottleneck;
  result.verdict = verdict.explanation;
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace sluice
