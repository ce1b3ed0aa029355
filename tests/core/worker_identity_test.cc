// Worker identity from launchers' environments and flags.
#include <gtest/gtest.h>

#include <map>

#include "sluice/worker_identity.h"

namespace sluice {
namespace {

Result<WorkerIdentity> From(std::map<std::string, std::string> env, WorkerFlags flags = {}) {
  return ResolveWorkerIdentity(flags, [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

void Expect(const Result<WorkerIdentity>& id, int rank, int count, const std::string& source) {
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->rank, rank);
  EXPECT_EQ(id->count, count);
  EXPECT_EQ(id->source, source);
}

TEST(WorkerIdentityTest, EachLauncher) {
  Expect(From({}), 0, 1, "a single process");
  Expect(From({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "2"}, {"SLURM_ARRAY_TASK_MAX", "9"}}), 3, 8, "SLURM_ARRAY_TASK_ID");
  Expect(From({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), 1, 4, "SLURM_ARRAY_TASK_ID");
  Expect(From({{"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "3"}}), 2, 3, "SLURM_PROCID");
  Expect(From({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}}), 0, 2, "OMPI_COMM_WORLD_RANK");
  Expect(From({{"PMI_RANK", "6"}, {"PMI_SIZE", "7"}}), 6, 7, "PMI_RANK");
  Expect(From({{"JOB_COMPLETION_INDEX", "3"}, {"SLUICE_WORKERS", "4"}}), 3, 4, "JOB_COMPLETION_INDEX");
  Expect(From({{"JOB_COMPLETION_INDEX", "3"}}, {"", 5}), 3, 5, "JOB_COMPLETION_INDEX");
  // --worker overrides every launcher; a job array wins over the srun variables it also sets.
  Expect(From({{"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "3"}}, {"1/4", std::nullopt}), 1, 4, "--worker");
  Expect(From({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "2"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}), 0, 2,
         "SLURM_ARRAY_TASK_ID");
  EXPECT_EQ(From({}, {"3/8", std::nullopt})->Describe(), "worker 3 of 8 (from --worker)");
}

TEST(WorkerIdentityTest, BadValuesAreRefusedNamingThem) {
  auto message = [](const Result<WorkerIdentity>& r) { return r.ok() ? std::string("ok") : r.status().message(); };
  EXPECT_NE(message(From({}, {"4/4", std::nullopt})).find("worker index 4 is outside 0..3"), std::string::npos);
  EXPECT_NE(message(From({}, {"2", std::nullopt})).find("expected R/N"), std::string::npos);
  EXPECT_NE(message(From({}, {"x/2", std::nullopt})).find("'x'"), std::string::npos);
  EXPECT_NE(message(From({}, {"0/0", std::nullopt})).find("a worker count of 0"), std::string::npos);
  EXPECT_NE(message(From({{"SLURM_PROCID", "1"}})).find("SLURM_NTASKS is not"), std::string::npos);
  EXPECT_NE(message(From({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "3"}})).find("OMPI_COMM_WORLD_RANK"), std::string::npos);
  EXPECT_NE(message(From({{"JOB_COMPLETION_INDEX", "0"}})).find("--workers N"), std::string::npos);
  EXPECT_NE(message(From({{"SLURM_ARRAY_TASK_ID", "7"}})).find("SLURM_ARRAY_TASK_MAX"), std::string::npos);
  EXPECT_NE(message(From({}, {"", 3})).find("without a worker index"), std::string::npos);
}

}  // namespace
}  // namespace sluice
