#pragma once
/// Prometheus metrics while a plan runs: PlanStats in the Prometheus text exposition format
/// (version 0.0.4), and a minimal HTTP server that answers `GET /metrics` with it, so a
/// Prometheus server can scrape a running job (`sluice run --metrics-port`).
///
/// Threading: PrometheusText is a pure function. MetricsServer runs one thread that accepts
/// and answers scrapes one at a time; `render` is called on that thread and must be
/// thread-safe with respect to whoever updates what it renders.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "sluice/stats.h"
#include "sluice/status.h"

namespace sluice {

/// Every series of `stats`, each with the extra `labels` (e.g. `worker="3"`, or empty):
/// per stage (label stage="..."): sluice_stage_rows_in_total, _rows_out_total, _bad_rows_total
/// (counters), sluice_stage_busy_seconds_total, _idle_seconds_total, _blocked_seconds_total,
/// sluice_stage_workers, sluice_stage_queue_batches; per plan: sluice_in_flight_bytes,
/// sluice_memory_budget_bytes, sluice_rss_peak_bytes, sluice_rss_at_start_bytes,
/// sluice_wall_seconds, sluice_bad_rows_total, sluice_rows_written_total (the sink's rows in);
/// per GPU when NVML is present (label gpu="0"): sluice_gpu_utilization_ratio,
/// sluice_gpu_memory_used_bytes, sluice_gpu_memory_total_bytes.
std::string PrometheusText(const PlanStats& stats, const std::string& labels);
/// A job's shards: sluice_shards_published (by any worker, as this one knows it) and sluice_shards_total.
std::string PrometheusShardsText(int published, int total, const std::string& labels);

class MetricsServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // loopback unless told otherwise
    int port = 0;                    // 0: any free port (tests)
    std::function<std::string()> render;
  };
  /// Binds and listens before returning: an address in use or not ours fails here, naming it.
  static Result<std::unique_ptr<MetricsServer>> Start(Options options);
  ~MetricsServer();
  int port() const { return port_; }
  /// Scrapes answered so far.
  int64_t scrapes() const { return scrapes_.load(); }
  /// Waits until a scrape after the `after`-th has been answered, or `timeout_ms` passes (so a
  /// job's final figures reach the scraper before the process exits). True if one came.
  bool WaitForScrape(int64_t after, int timeout_ms) const;

 private:
  MetricsServer() = default;
  void Serve(std::stop_token stop);
  void Answer(int fd);

  Options options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int64_t> scrapes_{0};
  std::jthread thread_;
};

}  // namespace sluice
