#include <cmath>
#include <cstdio>
#include <fstream>

#include "sluice/byte_units.h"
#include "sluice/fixed_point_text.h"
#include "sluice/json_lines.h"
#include "sluice/stats.h"

namespace sluice {
namespace {

std::string Count(double v) {
  if (v >= 1e9) return FormatFixed(v / 1e9, 1) + "G";
  if (v >= 1e6) return FormatFixed(v / 1e6, 1) + "M";
  if (v >= 1e4) return FormatFixed(v / 1e3, 1) + "k";
  return FormatFixed(v, 0);
}

std::string Pad(std::string s, size_t width, bool left = false) {
  if (s.size() >= width) return s;
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return FormatFixed(v, 6);
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

}  // namespace

std::vector<std::string> FormatProgressLines(const PlanStats& stats) {
  std::vector<std::string> lines;
  size_t width = 5;
  for (const auto& s : stats.stages) width = std::max(width, s.name.size());
  for (const auto& s : stats.stages) {
    const int64_t done = s.kind == "source" ? s.rows_out : s.rows_in;
    std::string line = Pad(s.name, width, true) + " ";
    line += s.done ? "done " : (s.backpressured ? "wait " : "     ");
    std::string progress = Count(static_cast<double>(done));
    if (s.total_rows && *s.total_rows > 0) {
      progress += "/" + Count(static_cast<double>(*s.total_rows)) + " (" +
                  FormatFixed(100.0 * static_cast<double>(done) / static_cast<double>(*s.total_rows), 0) + "%)";
    }
    line += Pad(progress, 18, true);
    const double rate = stats.wall_s > 0 ? static_cast<double>(done) / stats.wall_s : 0;
    line += Pad(Count(rate) + " rows/s", 13);
    if (s.kind != "source") {
      line += "  queue " + Pad(std::to_string(s.queue_batches) + "/" + std::to_string(s.queue_capacity), 7, true);
    } else {
      line += "               ";
    }
    line += "  workers " + std::to_string(s.running) + "/" + std::to_string(s.concurrency);
    if (s.backpressured) line += "  [backpressure]";
    if (s.bad_rows > 0) line += "  bad " + std::to_string(s.bad_rows);
    lines.push_back(std::move(line));
  }
  lines.push_back("in flight " + FormatBytes(stats.in_flight_bytes) + " of " + FormatBytes(stats.memory_budget) +
                  " budget (peak " + FormatBytes(stats.peak_in_flight_bytes) + "), " + FormatFixed(stats.wall_s, 1) + " s");
  return lines;
}

std::string FormatSummary(const PlanStats& stats) {
  std::string out;
  size_t width = 5;
  for (const auto& s : stats.stages) width = std::max(width, s.name.size());
  out += Pad("stage", width, true) + "  kind     rows in  rows out  batches     bytes out   busy s   idle s  blocked s"
         "  workers(avg/max)  queue(avg/max)  bad\n";
  for (const auto& s : stats.stages) {
    out += Pad(s.name, width, true) + "  " + Pad(s.kind, 7, true);
    out += Pad(Count(static_cast<double>(s.rows_in)), 9) + Pad(Count(static_cast<double>(s.rows_out)), 10);
    out += Pad(Count(static_cast<double>(std::max(s.batches_in, s.batches_out))), 9);
    out += Pad(FormatBytes(s.bytes_out), 14);
    out += Pad(FormatFixed(s.busy_s, 2), 9) + Pad(FormatFixed(s.idle_s, 2), 9) + Pad(FormatFixed(s.blocked_s, 2), 11);
    out += Pad(FormatFixed(s.avg_concurrency, 1) + "/" + std::to_string(s.max_concurrency), 18);
    out += Pad(FormatFixed(s.avg_queue_batches, 1) + "/" + std::to_string(s.max_queue_batches), 16);
    out += Pad(std::to_string(s.bad_rows), 5) + "\n";
  }
  const int64_t rows = stats.stages.empty() ? 0 : stats.stages.back().rows_in;
  out += "wall " + FormatFixed(stats.wall_s, 2) + " s, " + Count(stats.wall_s > 0 ? static_cast<double>(rows) / stats.wall_s : 0) +
         " rows/s end to end, peak in flight " + FormatBytes(stats.peak_in_flight_bytes) + " of " +
         FormatBytes(stats.memory_budget) + " budget, peak RSS " + FormatBytes(stats.peak_rss_bytes) + " (" +
         FormatBytes(stats.rss_at_start_bytes) + " at the start), " + std::to_string(stats.cpu_threads) + " CPU threads, " +
         std::to_string(stats.bad_row_count) + " bad rows, status " + stats.status + "\n";
  return out;
}

ThroughputVerdict ExplainThroughput(const PlanStats& stats) {
  ThroughputVerdict v;
  const auto share = [&](double seconds, int workers) { return stats.wall_s > 0 ? seconds / (stats.wall_s * std::max(1, workers)) : 0.0; };
  const StageStats* idlest = nullptr;
  double idlest_share = 0;
  for (const auto& s : stats.stages) {
    if (s.kind == "source" || s.kind == "sink" || s.kind == "rebatch") continue;
    const double busy = share(s.busy_s, s.max_concurrency);
    if (v.bottleneck.empty() || busy > v.busy_share) {
      v.bottleneck = s.name;
      v.busy_share = busy;
      v.ceiling_rows_per_s = s.busy_s > 0 ? static_cast<double>(s.rows_in) / s.busy_s * std::max(1, s.max_concurrency) : 0;
    }
  }
  if (v.bottleneck.empty()) return v;
  for (const auto& s : stats.stages) {
    if (s.kind == "source" || s.kind == "sink" || s.kind == "rebatch" || s.name == v.bottleneck) continue;
    const double idle = share(s.idle_s, s.max_concurrency);
    if (idle > idlest_share) {
      idlest = &s;
      idlest_share = idle;
    }
  }
  const auto pct = [](double x) { return std::to_string(static_cast<int>(std::lround(100 * std::min(1.0, x)))) + "%"; };
  std::string e = v.bottleneck + " busy " + pct(v.busy_share) + " of its time";
  if (idlest != nullptr) e += "; " + idlest->name + " idle " + pct(idlest_share);
  const StageStats* source = stats.stages.empty() ? nullptr : &stats.stages.front();
  const double read_blocked = source != nullptr ? share(source->blocked_s, 1) : 0;
  if (v.busy_share < 0.5 && read_blocked < 0.5) {
    e += ": no stage was busy most of the time, so reading the input (storage, decompression) or the run's start and end "
         "limited it; more read-ahead or larger shards would help";
  } else {
    e += ": the " + v.bottleneck + " limits this run; ";
    if (v.bottleneck == "model") {
      e += "more GPUs, more model replicas or a cheaper model would help";
    } else if (v.bottleneck == "preprocess") {
      e += "more CPU cores (or CPU-only preprocess workers) would help";
    } else {
      e += "more workers for it would help";
    }
  }
  v.explanation = e;
  return v;
}

std::string StatsToJson(const PlanStats& stats) {
  std::string o = "{\n";
  o += "  \"status\": " + JsonString(stats.status) + ",\n";
  o += "  \"wall_s\": " + JsonNumber(stats.wall_s) + ",\n";
  o += "  \"cpu_threads\": " + std::to_string(stats.cpu_threads) + ",\n";
  o += "  \"memory_budget\": " + std::to_string(stats.memory_budget) + ",\n";
  o += "  \"peak_in_flight_bytes\": " + std::to_string(stats.peak_in_flight_bytes) + ",\n";
  o += "  \"rss_at_start_bytes\": " + std::to_string(stats.rss_at_start_bytes) + ",\n";
  o += "  \"peak_rss_bytes\": " + std::to_string(stats.peak_rss_bytes) + ",\n";
  o += "  \"bad_row_count\": " + std::to_string(stats.bad_row_count) + ",\n";
  o += "  \"bad_rows\": [";
  for (size_t i = 0; i < stats.bad_rows.size(); ++i) {
    const auto& b = stats.bad_rows[i];
    o += (i ? ", " : "") + std::string("{\"stage\": ") + JsonString(b.stage) + ", \"row_id\": " + JsonString(b.row_id) +
         ", \"reason\": " + JsonString(b.reason) + "}";
  }
  o += "],\n  \"stages\": [\n";
  for (size_t i = 0; i < stats.stages.size(); ++i) {
    const auto& s = stats.stages[i];
    o += "    {\"name\": " + JsonString(s.name) + ", \"kind\": " + JsonString(s.kind);
    o += ", \"rows_in\": " + std::to_string(s.rows_in) + ", \"rows_out\": " + std::to_string(s.rows_out);
    o += ", \"batches_in\": " + std::to_string(s.batches_in) + ", \"batches_out\": " + std::to_string(s.batches_out);
    o += ", \"bytes_in\": " + std::to_string(s.bytes_in) + ", \"bytes_out\": " + std::to_string(s.bytes_out);
    o += ", \"busy_s\": " + JsonNumber(s.busy_s) + ", \"idle_s\": " + JsonNumber(s.idle_s) +
         ", \"blocked_s\": " + JsonNumber(s.blocked_s);
    o += ", \"concurrency\": {\"min\": " + std::to_string(s.min_concurrency) + ", \"max\": " +
         std::to_string(s.max_concurrency) + ", \"avg\": " + JsonNumber(s.avg_concurrency) + "}";
    o += ", \"queue\": {\"capacity\": " + std::to_string(s.queue_capacity) + ", \"max\": " +
         std::to_string(s.max_queue_batches) + ", \"avg\": " + JsonNumber(s.avg_queue_batches) + "}";
    o += ", \"bad_rows\": " + std::to_string(s.bad_rows);
    o += ", \"timeline\": [";
    for (size_t j = 0; j < s.timeline.size(); ++j) {
      const auto& p = s.timeline[j];
      o += (j ? ", " : "") + std::string("[") + JsonNumber(p.t_s) + ", " + std::to_string(p.concurrency) + ", " +
           std::to_string(p.running) + ", " + std::to_string(p.queue_batches) + ", " + std::to_string(p.queue_bytes) + ", " +
           std::to_string(p.rows_done) + ", " + JsonNumber(p.busy_s) + ", " + JsonNumber(p.idle_s) + ", " + JsonNumber(p.blocked_s) + "]";
    }
    o += "]}";
    o += i + 1 < stats.stages.size() ? ",\n" : "\n";
  }
  o += "  ],\n  \"timeline_columns\": [\"t_s\", \"concurrency\", \"running\", \"queue_batches\", \"queue_bytes\", \"rows_done\", \"busy_s\", "
       "\"idle_s\", \"blocked_s\"],\n";
  o += "  \"plan_timeline\": [";
  for (size_t j = 0; j < stats.timeline.size(); ++j) {
    const auto& p = stats.timeline[j];
    o += (j ? ", " : "") + std::string("[") + JsonNumber(p.t_s) + ", " + std::to_string(p.in_flight_bytes) + ", " +
         std::to_string(p.rss_bytes) + "]";
  }
  o += "],\n  \"plan_timeline_columns\": [\"t_s\", \"in_flight_bytes\", \"rss_bytes\"],\n";
  o += "  \"gpus\": [";
  for (size_t i = 0; i < stats.gpus.size(); ++i) {
    const auto& g = stats.gpus[i];
    o += (i ? ", " : "") + std::string("{\"index\": ") + std::to_string(g.index) + ", \"name\": " + JsonString(g.name) +
         ", \"memory_total_bytes\": " + std::to_string(g.memory_total_bytes) + ", \"avg_utilization\": " +
         JsonNumber(g.avg_utilization) + ", \"peak_memory_used_bytes\": " + std::to_string(g.peak_memory_used_bytes) +
         ", \"timeline\": [";
    for (size_t j = 0; j < g.timeline.size(); ++j) {
      const auto& p = g.timeline[j];
      o += (j ? ", " : "") + std::string("[") + JsonNumber(p.t_s) + ", " + JsonNumber(p.utilization) + ", " +
           std::to_string(p.memory_used_bytes) + "]";
    }
    o += "]}";
  }
  o += "],\n  \"gpu_timeline_columns\": [\"t_s\", \"utilization\", \"memory_used_bytes\"]\n}\n";
  return o;
}

Status WriteStatsJson(const PlanStats& stats, const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Status::IOError("cannot open '" + path + "' for writing the stats JSON");
  f << StatsToJson(stats);
  f.close();
  if (!f) return Status::IOError("writing the stats JSON to '" + path + "' failed");
  return Status::OK();
}

}  // namespace sluice
