#include "feeder_role.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <stop_token>

namespace sluice::cli {
namespace {
std::stop_source g_feeder_stop;
void OnFeederSignal(int) { g_feeder_stop.request_stop(); }
}  // namespace

int RunFeederRole(cluster::MpiCell& cell, const JobSpec& spec, ProgressMode mode, const std::string& summary_json) {
  const WorkerIdentity& me = cell.identity();
  ProgressDisplay display(mode, stderr);
  display.SetTitle("feeder " + std::to_string(me.rank) + " of " + std::to_string(me.count) + " (" + me.source + ")");
  RunOptions ro;
  ro.on_progress = [&display](const PlanStats& s) { display.Update(s); };
  ro.stop = g_feeder_stop.get_token();
  std::signal(SIGINT, OnFeederSignal);
  std::signal(SIGTERM, OnFeederSignal);
  auto fed = RunFeeder(spec, *cell.infer(), ro);
  display.Finish();
  if (!fed.ok()) {
    std::fprintf(stderr, "sluice run --role preprocess (feeder %d): %s\n", me.rank, fed.status().ToString().c_str());
    std::fflush(nullptr);
    cell.Abort(fed.status().IsUserError() ? 2 : 1);
  }
  fed->feeder = me.rank;
  fed->feeders = me.count;
  std::fprintf(stderr, "%s", fed->Summary().c_str());
  if (!summary_json.empty()) {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "{\"role\":\"preprocess\",\"feeder\":%d,\"feeders\":%d,\"shards\":%d,\"rows_sent\":%lld,\"bad_rows\":%lld,\"bytes_sent\":%lld,"
                  "\"wall_s\":%.3f,\"credit_wait_s\":%.3f,\"rows_per_s\":%.3f,\"stats\":",
                  fed->feeder, fed->feeders, fed->shards, static_cast<long long>(fed->rows_sent), static_cast<long long>(fed->bad_rows),
                  static_cast<long long>(fed->bytes_sent), fed->wall_s, fed->credit_wait_s,
                  fed->wall_s > 0 ? static_cast<double>(fed->rows_sent + fed->bad_rows) / fed->wall_s : 0.0);
    std::ofstream(summary_json) << buf << StatsToJson(fed->stats) << "}\n";
  }
  Status st = cell.Finish();
  if (!st.ok()) {
    std::fprintf(stderr, "sluice run --role preprocess: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
