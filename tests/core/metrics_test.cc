// Prometheus text exposition of PlanStats, and the metrics server answering a real HTTP GET.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sluice/metrics.h"

namespace sluice {
namespace {

PlanStats TwoStages() {
  PlanStats s;
  s.memory_budget = 1 << 20;
  s.in_flight_bytes = 4096;
  StageStats read{};
  read.name = "read";
  read.kind = "source";
  read.rows_out = 10;
  StageStats write{};
  write.name = "wr\"ite";
  write.kind = "sink";
  write.rows_in = 7;
  write.busy_s = 0.5;
  s.stages = {read, write};
  return s;
}

TEST(PrometheusTextTest, EveryFamilyHasHelpAndTypeAndLabelsAreEscaped) {
  const std::string text = PrometheusText(TwoStages(), "worker=\"3\"");
  EXPECT_NE(text.find("# TYPE sluice_stage_rows_in_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_stage_rows_in_total{stage=\"wr\\\"ite\",worker=\"3\"} 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_stage_busy_seconds_total{stage=\"wr\\\"ite\",worker=\"3\"} 0.5\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_rows_written_total{worker=\"3\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_memory_budget_bytes{worker=\"3\"} 1048576\n"), std::string::npos);
  // Every sample line belongs to a family announced just before it.
  std::string family;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) family = line.substr(7, line.find(' ', 7) - 7);
    if (line[0] != '#') {
      EXPECT_EQ(line.rfind(family, 0), 0u) << line;
    }
  }
  EXPECT_EQ(PrometheusText(TwoStages(), "").find("{worker"), std::string::npos);
}

TEST(PrometheusTextTest, GpusAndShards) {
  PlanStats s = TwoStages();
  EXPECT_EQ(PrometheusText(s, "").find("sluice_gpu_"), std::string::npos);  // no NVML: no GPU families
  GpuStats g;
  g.index = 1;
  g.memory_total_bytes = 80;
  g.timeline.push_back({2.0, 0.75, 40});
  s.gpus.push_back(g);
  const std::string text = PrometheusText(s, "worker=\"0\"");
  EXPECT_NE(text.find("sluice_gpu_utilization_ratio{gpu=\"1\",worker=\"0\"} 0.75\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_gpu_memory_used_bytes{gpu=\"1\",worker=\"0\"} 40\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_gpu_memory_total_bytes{gpu=\"1\",worker=\"0\"} 80\n"), std::string::npos);
  const std::string shards = PrometheusShardsText(3, 10, "");
  EXPECT_NE(shards.find("# TYPE sluice_shards_published gauge\nsluice_shards_published 3\n"), std::string::npos) << shards;
  EXPECT_NE(shards.find("sluice_shards_total 10\n"), std::string::npos);
}

TEST(ThroughputVerdictTest, NamesTheBusiestStageAndTheIdlest) {
  PlanStats s;
  s.wall_s = 10;
  StageStats read{}, pre{}, model{}, write{};
  read.name = "read", read.kind = "source", read.busy_s = 9;  // the source is never the verdict
  pre.name = "preprocess", pre.kind = "map", pre.max_concurrency = 2, pre.busy_s = 8, pre.idle_s = 10;
  model.name = "model", model.kind = "actor", model.max_concurrency = 1, model.busy_s = 9.7;
  write.name = "write", write.kind = "sink";
  s.stages = {read, pre, model, write};
  const ThroughputVerdict v = ExplainThroughput(s);
  EXPECT_EQ(v.bottleneck, "model");
  EXPECT_NEAR(v.busy_share, 0.97, 1e-9);
  EXPECT_EQ(v.ceiling_rows_per_s, 0);  // no rows through it: no ceiling
  EXPECT_EQ(v.explanation.rfind("model busy 97% of its time; preprocess idle 50%: the model limits this run; more GPUs", 0), 0u) << v.explanation;
  s.stages[2].busy_s = 2;  // nothing busy most of the time: the input limited it
  EXPECT_NE(ExplainThroughput(s).explanation.find("no stage was busy most of the time"), std::string::npos);
}

std::string Get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return "connect failed";
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ::send(fd, req.data(), req.size(), 0);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(MetricsServerTest, AnswersScrapesAndRefusesAPortInUse) {
  MetricsServer::Options o;
  o.render = [] { return std::string("sluice_up 1\n"); };
  auto server = MetricsServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  const std::string r = Get(port, "/metrics");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(r.find("\r\n\r\nsluice_up 1\n"), std::string::npos);
  EXPECT_EQ(Get(port, "/other").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ((*server)->scrapes(), 1);
  EXPECT_TRUE((*server)->WaitForScrape(0, 10));
  MetricsServer::Options again;
  again.port = port;
  auto taken = MetricsServer::Start(again);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << taken.status().ToString();
  MetricsServer::Options bad;
  bad.host = "localhost";
  EXPECT_FALSE(MetricsServer::Start(bad).ok());
}

}  // namespace
}  // namespace sluice
