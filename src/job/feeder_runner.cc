// RunFeeder: a CPU-only worker of a heterogeneous cell (sluice/cell.h).
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "job/job_input.h"
#include "sluice/cell.h"
#include "sluice/executor.h"
#include "sluice/image.h"
#include "sluice/job.h"
#include "sluice/stats.h"

namespace sluice {

Result<PreprocessSpec> FeederCropSpec(const JobSpec& spec) {
  if (spec.preprocess_none) {
    return Status::InvalidArgument("preprocess: none sends the images to the model as they are: there is nothing for --role preprocess workers to do");
  }
  PreprocessSpec crop = spec.preprocess;
  crop.normalize = false;
  crop.layout = Layout::kNHWC;
  crop.dtype = DType::kUInt8;
  RETURN_IF_ERROR(crop.Validate());
  return crop;
}

Result<FeedResult> RunFeeder(const JobSpec& spec, InferPort& port, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto fail = [&port](Status st) {
    port.Fail(st);
    return st;
  };
  auto crop = FeederCropSpec(spec);
  if (!crop.ok()) return fail(crop.status());
  auto input = job::PlanInput(spec);
  if (!input.ok()) return fail(input.status());
  const int cpus = job::JobCpus(spec);

  // Which infer worker each shard came from: its rows and bad rows go back there.
  struct Owners {
    std::mutex mu;
    std::map<int, int> of;
    int Of(int shard) {
      std::lock_guard lock(mu);
      return of.at(shard);
    }
  };
  auto owners = std::make_shared<Owners>();
  const std::vector<job::Shard>& shards = input->shards;
  std::stop_token stop = options.stop;
  job::ShardFeed feed = [&port, owners, &shards, stop]() -> Result<std::optional<job::Shard>> {
    ASSIGN_OR_RETURN(auto got, port.RequestShard(stop));
    if (!got) return std::optional<job::Shard>();
    const auto [infer, shard] = *got;
    if (shard < 0 || shard >= static_cast<int>(shards.size()) || shards[static_cast<size_t>(shard)].index != shard) {
      return Status::InvalidData(port.Describe(infer) + " assigned shard " + std::to_string(shard) + ", which this job file does not have (" +
                                 std::to_string(shards.size()) + " shards): are all workers running the same job file over the same input?");
    }
    std::lock_guard lock(owners->mu);
    owners->of[shard] = infer;
    return std::optional<job::Shard>(shards[static_cast<size_t>(shard)]);
  };

  FeedResult result;
  std::mutex counts_mu;
  std::set<int> shards_seen;
  // Bad rows go to the shard's infer worker (its _errors/), one message each: they are rare.
  MapFn forwarding = job::WithShardBadRows(MakePreprocessMap(*crop, "image", "id", "input"),
                                           [owners, &port, &result, &counts_mu](int shard, const BadRow& row) {
                                             (void)port.SendBadRows(owners->Of(shard), shard, {row});  // only queues the message
                                             std::lock_guard lock(counts_mu);
                                             ++result.bad_rows;
                                           });
  class SendSink final : public Sink {
   public:
    SendSink(InferPort& port, std::shared_ptr<Owners> owners, FeedResult& result, std::mutex& mu, std::set<int>& seen)
        : port_(port), owners_(std::move(owners)), result_(result), mu_(mu), seen_(seen) {}
    Status Write(Batch batch, TaskContext& ctx) override {
      if (batch.num_rows() == 0) return Status::OK();
      ASSIGN_OR_RETURN(const int shard, job::BatchShard(batch));
      const std::string meta = "credit_wait_s=" + std::to_string(port_.credit_wait_s());
      RETURN_IF_ERROR(port_.Send(owners_->Of(shard), batch, meta, ctx.stop_token()));
      std::lock_guard lock(mu_);
      result_.rows_sent += batch.num_rows();
      result_.bytes_sent += batch.ByteSize();
      seen_.insert(shard);
      return Status::OK();
    }

   private:
    InferPort& port_;
    std::shared_ptr<Owners> owners_;
    FeedResult& result_;
    std::mutex& mu_;
    std::set<int>& seen_;
  };
  Plan plan;
  plan.AddSource("read", job::MakeShardSource(spec, feed, 32, input->total_rows), std::min(cpus, 4))
      .AddMap("preprocess", forwarding, Concurrency::Auto(1, cpus))
      .AddSink("send", [&](int) -> Result<std::unique_ptr<Sink>> {
        return std::unique_ptr<Sink>(new SendSink(port, owners, result, counts_mu, shards_seen));
      });
  ExecutorOptions eo = job::JobExecutorOptions(spec, options.stop);
  eo.on_progress = options.on_progress;
  Status st = Execute(plan, eo, &result.stats);
  if (!st.ok()) return fail(st);
  result.shards = static_cast<int>(shards_seen.size());
  result.credit_wait_s = port.credit_wait_s();
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string FeedResult::Summary() const {
  char line[512];
  std::snprintf(line, sizeof(line),
                "feeder %d of %d: %lld rows of %d shards preprocessed and sent (%.1f MiB, %.0f bytes per row), %lld bad rows, "
                "%.1f rows/s over %.1f s; blocked on credits %.1f s (%.0f%%)\n",
                feeder, feeders, static_cast<long long>(rows_sent), shards, static_cast<double>(bytes_sent) / (1 << 20),
                rows_sent > 0 ? static_cast<double>(bytes_sent) / static_cast<double>(rows_sent) : 0.0, static_cast<long long>(bad_rows),
                wall_s > 0 ? static_cast<double>(rows_sent + bad_rows) / wall_s : 0.0, wall_s, credit_wait_s,
                wall_s > 0 ? 100.0 * credit_wait_s / wall_s : 0.0);
  return line + FormatSummary(stats);
}

}  // namespace sluice
