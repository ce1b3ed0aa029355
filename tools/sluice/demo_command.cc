#include "demo_command.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "arg_parser.h"
#include "progress_display.h"
#include "sluice/byte_units.h"
#include "sluice/executor.h"
#include "sluice/synthetic_source.h"

namespace sluice::cli {
namespace {

constexpr int64_t kSide = 64;  // synthetic images are 64x64x3 uint8
constexpr int kClasses = 10;

/// uint8 HWC -> float32 CHW normalized with the ImageNet mean/std (what real preprocessing does).
Result<Batch> Preprocess(Batch batch, TaskContext&) {
  ASSIGN_OR_RETURN(Column images, batch.GetColumn("payload"));
  ASSIGN_OR_RETURN(Column out, Column::Allocate(DataType::Tensor(DType::kFloat32, {3, kSide, kSide}), batch.num_rows()));
  const float mean[3] = {0.485f * 255, 0.456f * 255, 0.406f * 255};
  const float inv_std[3] = {1 / (0.229f * 255), 1 / (0.224f * 255), 1 / (0.225f * 255)};
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    const uint8_t* src = images.RowData(r);
    auto* dst = reinterpret_cast<float*>(out.MutableRowData(r));
    for (int64_t p = 0; p < kSide * kSide; ++p) {
      for (int c = 0; c < 3; ++c) dst[c * kSide * kSide + p] = (src[p * 3 + c] - mean[c]) * inv_std[c];
    }
  }
  ASSIGN_OR_RETURN(Column ids, batch.GetColumn("id"));
  return Batch::Make({"id", "input"}, {ids, out});
}

/// A stand-in model: a fixed random linear layer over 8x8-pooled features, argmax class.
class DemoModel : public Actor {
 public:
  explicit DemoModel(int replica) {
    uint32_t x = 12345;
    for (auto& w : weights_) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      w = static_cast<float>(x % 2001) / 1000.0f - 1.0f;
    }
  }
  Result<Batch> Process(Batch batch, TaskContext&) override {
    ASSIGN_OR_RETURN(Column input, batch.GetColumn("input"));
    std::vector<int32_t> cls(static_cast<size_t>(batch.num_rows()));
    std::vector<float> score(cls.size());
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      const auto* x = reinterpret_cast<const float*>(input.RowData(r));
      std::array<float, kFeatures> f{};
      for (int c = 0; c < 3; ++c)
        for (int64_t y = 0; y < kSide; ++y)
          for (int64_t xx = 0; xx < kSide; ++xx) f[static_cast<size_t>(c * 64 + (y / 8) * 8 + xx / 8)] += x[(c * kSide + y) * kSide + xx];
      std::array<float, kClasses> logits{};
      for (int k = 0; k < kClasses; ++k)
        for (int i = 0; i < kFeatures; ++i) logits[static_cast<size_t>(k)] += weights_[static_cast<size_t>(k * kFeatures + i)] * f[static_cast<size_t>(i)];
      int best = 0;
      for (int k = 1; k < kClasses; ++k) best = logits[static_cast<size_t>(k)] > logits[static_cast<size_t>(best)] ? k : best;
      cls[static_cast<size_t>(r)] = best;
      score[static_cast<size_t>(r)] = logits[static_cast<size_t>(best)];
    }
    // Pretend the model costs what a small CNN costs on a CPU core.
    std::this_thread::sleep_for(std::chrono::microseconds(500 * batch.num_rows()));
    ASSIGN_OR_RETURN(Column ids, batch.GetColumn("id"));
    return Batch::Make({"id", "class", "score"},
                       {ids, Column::FromValues<int32_t>(cls), Column::FromValues<float>(score)});
  }

 private:
  static constexpr int kFeatures = 3 * 64;
  std::array<float, kClasses * kFeatures> weights_{};
};

/// Counts predictions per class.
class ClassCounter : public Sink {
 public:
  explicit ClassCounter(std::array<int64_t, kClasses>* counts) : counts_(counts) {}
  Status Write(Batch batch, TaskContext&) override {
    ASSIGN_OR_RETURN(Column cls, batch.GetColumn("class"));
    for (int64_t r = 0; r < cls.length(); ++r) ++(*counts_)[static_cast<size_t>(cls.Value<int32_t>(r))];
    return Status::OK();
  }

 private:
  std::array<int64_t, kClasses>* counts_;
};

}  // namespace

int RunDemo(const std::vector<std::string>& args) {
  ArgParser p("sluice demo", "Runs a five-stage streaming pipeline on synthetic 64x64 images: read (simulated "
                             "I/O latency) -> preprocess (CPU pool, autoscaled) -> rebatch -> model (actor) -> sink.");
  int64_t files = 48, batches = 8, rows = 64, batch_size = 256, replicas = 2, threads = 0;
  std::string budget = "256MiB", progress = "auto", stats_json;
  p.Int("--files", &files, "read tasks (like Parquet files)");
  p.Int("--batches-per-file", &batches, "batches per file");
  p.Int("--rows", &rows, "rows per source batch");
  p.Int("--batch-size", &batch_size, "model batch size (rebatch)");
  p.Int("--replicas", &replicas, "model replicas");
  p.Int("--cpu-threads", &threads, "CPU pool threads (0 = all cores)");
  p.String("--memory", &budget, "in-flight memory budget");
  p.String("--progress", &progress, "auto | tty | plain | none");
  p.String("--stats-json", &stats_json, "write the final stats as JSON to this file");
  if (!p.Parse(args)) return p.exit_code();
  auto budget_bytes = ParseBytes(budget);
  if (!budget_bytes.ok()) return p.Fail(budget_bytes.status().message());

  SyntheticSourceOptions so;
  so.tasks = files;
  so.batches_per_task = batches;
  so.rows = rows;
  so.payload_shape = {kSide, kSide, 3};
  so.pattern = true;
  so.before_batch = [](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(4));  // object-store latency
    return Status::OK();
  };
  auto source = std::make_shared<SyntheticSource>(so);
  std::array<int64_t, kClasses> counts{};
  Plan plan;
  plan.AddSource("read", source, 2)
      .AddMap("preprocess", Preprocess, Concurrency::Auto(1, 0))
      .AddRebatch("batch", batch_size)
      .AddActor("model", [](int r) -> Result<std::unique_ptr<Actor>> { return std::unique_ptr<Actor>(new DemoModel(r)); },
                static_cast<int>(replicas))
      .AddSink("count", [&counts](int) -> Result<std::unique_ptr<Sink>> {
        return std::unique_ptr<Sink>(new ClassCounter(&counts));
      });

  ProgressMode mode = progress == "tty" ? ProgressMode::kTty
                      : progress == "plain" ? ProgressMode::kPlain
                      : progress == "none"  ? ProgressMode::kNone
                                            : ProgressMode::kAuto;
  ProgressDisplay display(mode, stderr);
  ExecutorOptions opt;
  opt.cpu_threads = static_cast<int>(threads);
  opt.memory_budget = *budget_bytes;
  opt.progress_interval = display.interval();
  opt.on_progress = [&display](const PlanStats& s) { display.Update(s); };
  PlanStats stats;
  Status st = Execute(plan, opt, &stats);
  display.Update(stats);
  display.Finish();
  std::printf("\n%s", FormatSummary(stats).c_str());
  if (!stats_json.empty()) {
    Status w = WriteStatsJson(stats, stats_json);
    if (!w.ok()) std::fprintf(stderr, "sluice demo: %s\n", w.ToString().c_str());
  }
  if (!st.ok()) {
    std::fprintf(stderr, "sluice demo: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("predictions per class:");
  for (int k = 0; k < kClasses; ++k) std::printf(" %d:%lld", k, static_cast<long long>(counts[static_cast<size_t>(k)]));
  std::printf("\n");
  return 0;
}

}  // namespace sluice::cli
