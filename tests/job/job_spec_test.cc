// The job file: parsing, --set overrides, errors naming keys, the fingerprint.
#include <gtest/gtest.h>

#include "sluice/job.h"

namespace sluice {
namespace {

constexpr const char* kMinimal = "input: {uri: d/*.parquet}\nmodel: {uri: m.pt}\noutput: {uri: out/}\n";

TEST(JobSpecTest, TheReferenceIsAValidJobFile) {
  auto spec = ParseJob(JobFileReference(), {}, "reference");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->input.uris, std::vector<std::string>{"data/*.parquet"});
  EXPECT_EQ(spec->model.batch_size, 256);
  EXPECT_EQ(spec->model.replicas, 0);  // auto
  EXPECT_EQ(spec->resources.memory, int64_t{4} << 30);
  EXPECT_EQ(spec->output.top_k, 5);
}

TEST(JobSpecTest, DefaultsAndOverrides) {
  auto spec = ParseJob(kMinimal, {"model.batch_size=64", "output.include=[label, split]", "resources.memory=64MiB",
                                  "input.uri=[a.parquet, s3://b/c/*.parquet]", "errors.max_bad_rows=12", "preprocess.crop=192"},
                       "job.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->model.batch_size, 64);
  EXPECT_EQ(spec->output.include, (std::vector<std::string>{"label", "split"}));
  EXPECT_EQ(spec->resources.memory, 64 << 20);
  EXPECT_EQ(spec->input.uris, (std::vector<std::string>{"a.parquet", "s3://b/c/*.parquet"}));
  EXPECT_EQ(spec->errors.max_bad_rows, 12);
  EXPECT_EQ(spec->input.format, "parquet");
  EXPECT_EQ(spec->output.format, "parquet");
}

TEST(JobSpecTest, ErrorsNameTheKey) {
  struct Case {
    std::vector<std::string> sets;
    std::string text;
    const char* expect;
  } cases[] = {
      {{"input.colour=1"}, kMinimal, "input.colour"},
      {{"inptu.uri=x"}, kMinimal, "inptu"},
      {{"model.batch_size=0"}, kMinimal, "model.batch_size"},
      {{"model.batch_size=lots"}, kMinimal, "model.batch_size"},
      {{"output.format=csv"}, kMinimal, "output.format"},
      {{"model.dtype=int4"}, kMinimal, "model.dtype"},
      {{"resources.memory=1KiB"}, kMinimal, "resources.memory"},
      {{"preprocess.crop=banana"}, kMinimal, "crop"},
      {{"nonsense"}, kMinimal, "--set"},
      {{}, "input: {format: parquet}\nmodel: {uri: m.pt}\noutput: {uri: o}\n", "input.uri"},
      {{}, "input: {uri: x}\noutput: {uri: o}\n", "model.uri"},
      {{}, "input: [1, 2", "not valid YAML"},
  };
  for (const auto& c : cases) {
    auto spec = ParseJob(c.text, c.sets, "job.yaml");
    ASSERT_FALSE(spec.ok()) << c.expect;
    EXPECT_NE(spec.status().message().find(c.expect), std::string::npos) << spec.status().ToString();
    EXPECT_NE(spec.status().message().find("job.yaml"), std::string::npos) << spec.status().ToString();
  }
}

TEST(JobSpecTest, FingerprintFollowsOnlyOutputDecidingKeys) {
  const std::string base = ParseJob(kMinimal, {}, "j").value().Fingerprint();
  for (const char* same : {"model.batch_size=7", "resources.cpus=1", "resources.memory=1GiB", "model.replicas=2", "model.device=cpu"}) {
    EXPECT_EQ(ParseJob(kMinimal, {same}, "j").value().Fingerprint(), base) << same;
  }
  for (const char* changed : {"output.top_k=3", "input.limit=10", "input.shard_rows=5", "preprocess.crop=192", "model.uri=n.pt",
                              "output.include=[a]", "output.format=jsonl"}) {
    EXPECT_NE(ParseJob(kMinimal, {changed}, "j").value().Fingerprint(), base) << changed;
  }
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(JobSpecTest, WorkersKeys) {
  auto spec = ParseJob(std::string(kMinimal) + "workers: {heartbeat: 2s, stale_after: 1m, help_others: false}\n", {}, "j.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->workers.heartbeat_s, 2);
  EXPECT_EQ(spec->workers.stale_after_s, 60);
  EXPECT_FALSE(spec->workers.help_others);
  auto bad = ParseJob(std::string(kMinimal) + "workers: {heartbeat: 10s, stale_after: 15s}\n", {}, "j.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("workers.stale_after must be at least twice workers.heartbeat"), std::string::npos)
      << bad.status().ToString();
  // None of it decides the output: a rerun with other timings resumes.
  auto a = ParseJob(kMinimal, {}, "a"), b = ParseJob(kMinimal, {"workers.heartbeat=1s", "workers.help_others=false"}, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Fingerprint(), b->Fingerprint());
}

}  // namespace
}  // namespace sluice
