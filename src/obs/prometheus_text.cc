#include <cstdio>

#include "sluice/metrics.h"

namespace sluice {
namespace {

class Writer {
 public:
  explicit Writer(std::string labels) : labels_(std::move(labels)) {}
  /// One metric family: its HELP and TYPE lines once, then `add` writes its samples.
  void Family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    name_ = name;
  }
  /// One sample; `key`="`value`" (e.g. stage="model") goes before the writer's own labels.
  void Sample(double value, const char* key = "", const std::string& label = "") {
    std::string labels = labels_;
    if (*key) labels = std::string(key) + "=\"" + Escape(label) + "\"" + (labels.empty() ? "" : "," + labels);
    char num[64];
    std::snprintf(num, sizeof(num), "%.17g", value);
    out_ += name_ + (labels.empty() ? "" : "{" + labels + "}") + " " + num + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  static std::string Escape(const std::string& s) {
    std::string e;
    for (char c : s) {
      if (c == '\\' || c == '"') e += '\\';
      if (c == '\n') {
        e += "\\n";
        continue;
      }
      e += c;
    }
    return e;
  }
  std::string labels_, name_, out_;
};

}  // namespace

std::string PrometheusText(const PlanStats& stats, const std::string& labels) {
  Writer w(labels);
  struct PerStage {
    const char* name;
    const char* type;
    const char* help;
    double (*get)(const StageStats&);
  };
  static const PerStage kStages[] = {
      {"sluice_stage_rows_in_total", "counter", "Rows into the stage.", [](const StageStats& s) { return double(s.rows_in); }},
      {"sluice_stage_rows_out_total", "counter", "Rows out of the stage.", [](const StageStats& s) { return double(s.rows_out); }},
      {"sluice_stage_bad_rows_total", "counter", "Bad rows the stage reported.", [](const StageStats& s) { return double(s.bad_rows); }},
      {"sluice_stage_busy_seconds_total", "counter", "Worker time inside the stage's code.", [](const StageStats& s) { return s.busy_s; }},
      {"sluice_stage_idle_seconds_total", "counter", "Worker time with nothing to take.", [](const StageStats& s) { return s.idle_s; }},
      {"sluice_stage_blocked_seconds_total", "counter", "Time with input ready but the output full.", [](const StageStats& s) { return s.blocked_s; }},
      {"sluice_stage_workers", "gauge", "The stage's current concurrency limit.", [](const StageStats& s) { return double(s.concurrency); }},
      {"sluice_stage_running", "gauge", "Batches in the stage's code now.", [](const StageStats& s) { return double(s.running); }},
      {"sluice_stage_queue_batches", "gauge", "Batches waiting in the stage's input queue.", [](const StageStats& s) { return double(s.queue_batches); }},
  };
  for (const auto& f : kStages) {
    w.Family(f.name, f.type, f.help);
    for (const auto& s : stats.stages) w.Sample(f.get(s), "stage", s.name);
  }
  int64_t written = 0;
  for (const auto& s : stats.stages) {
    if (s.kind == "sink") written += s.rows_in;
  }
  w.Family("sluice_rows_written_total", "counter", "Rows the plan's sink took (the job's output rows).");
  w.Sample(double(written));
  w.Family("sluice_bad_rows_total", "counter", "Bad rows of the plan.");
  w.Sample(double(stats.bad_row_count));
  w.Family("sluice_in_flight_bytes", "gauge", "Bytes between read and write now.");
  w.Sample(double(stats.in_flight_bytes));
  w.Family("sluice_memory_budget_bytes", "gauge", "The in-flight budget (resources.memory).");
  w.Sample(double(stats.memory_budget));
  w.Family("sluice_rss_peak_bytes", "gauge", "The largest process RSS sampled so far.");
  w.Sample(double(stats.peak_rss_bytes));
  w.Family("sluice_rss_at_start_bytes", "gauge", "Process RSS when the plan started.");
  w.Sample(double(stats.rss_at_start_bytes));
  w.Family("sluice_wall_seconds", "gauge", "Seconds since the plan started.");
  w.Sample(stats.wall_s);
  if (!stats.gpus.empty()) {  // NVML present (gpu_monitor.h)
    w.Family("sluice_gpu_utilization_ratio", "gauge", "Share of the last NVML sample period a kernel ran on the GPU (0..1).");
    for (const auto& g : stats.gpus) w.Sample(g.timeline.empty() ? 0 : g.timeline.back().utilization, "gpu", std::to_string(g.index));
    w.Family("sluice_gpu_memory_used_bytes", "gauge", "GPU memory in use (all processes).");
    for (const auto& g : stats.gpus) w.Sample(g.timeline.empty() ? 0 : double(g.timeline.back().memory_used_bytes), "gpu", std::to_string(g.index));
    w.Family("sluice_gpu_memory_total_bytes", "gauge", "GPU memory.");
    for (const auto& g : stats.gpus) w.Sample(double(g.memory_total_bytes), "gpu", std::to_string(g.index));
  }
  return w.Take();
}

std::string PrometheusShardsText(int published, int total, const std::string& labels) {
  Writer w(labels);
  w.Family("sluice_shards_published", "gauge", "Shards of the job published (by any worker, as this one knows it).");
  w.Sample(published);
  w.Family("sluice_shards_total", "gauge", "Shards of the job.");
  w.Sample(total);
  return w.Take();
}

}  // namespace sluice
