#pragma once
/// The part of a job's plan between reading and writing, shared by RunJob (which writes the
/// parts) and StreamJob (which hands the batches to a consumer):
///   [user stages after read] -> preprocess -> [after preprocess] -> batch -> model -> [after model]
/// and the model side, loaded and checked before any work.
///
/// Threading: PrepareJobModel runs on the caller's thread; the stages follow plan.h's contract.

#include <functional>
#include <memory>
#include <vector>

#include "infer/auto_dtype.h"
#include "job/cpu_gate.h"
#include "job/job_input.h"
#include "sluice/inference.h"
#include "sluice/job.h"
#include "sluice/plan.h"

namespace sluice::job {

struct JobModel {
  std::vector<std::shared_ptr<Model>> models;  // one per replica; none with `model: none`
  bool on_gpu = false;
  /// What the CPU pool makes of each image (uint8 crops when the model's device normalizes).
  PreprocessSpec pre;
  /// A source batch's image -> the model's input column "input" (a rename with preprocess: none).
  MapFn preprocess;
  /// A CPU model and CPU preprocessing take turns on the cores (cpu_gate.h); null otherwise.
  std::shared_ptr<CpuGate> gate;
  /// model.dtype: auto: what it chose and why (infer/auto_dtype.h); null otherwise.
  std::shared_ptr<AutoDType> auto_dtype;

  int replicas() const { return static_cast<int>(models.size()); }
  /// The model stage's replicas (taking their turns on the gate); null with `model: none`.
  ActorFactory ModelActor() const;
  /// `preprocess` taking its turns on the gate.
  MapFn GatedPreprocess() const;
  /// The model's dtype as it ran (auto's choice, once the run is over) into `result`.
  void DescribeDType(const JobSpec& spec, JobResult* result) const;
};

/// Resolves the devices, checks the preprocessing against the model and loads (and warms up)
/// one model per replica. Errors name the key.
Result<JobModel> PrepareJobModel(const JobSpec& spec, const JobInput& input, int cpus);

/// What a user stage's bad row is recorded with: its shard (found from the row id in the batch).
using ShardBadRowHandler = std::function<void(int shard, const BadRow& row)>;

/// Adds the stages between the source and the sink: `preprocess` (autoscaled up to `cpus`),
/// the user stages at their places (each given the batch without the shard column and checked
/// to return as many rows; its bad rows go to `on_bad` with their shard first), and with a
/// model a rebatch to model.batch_size and the model's replicas.
void AddJobStages(Plan& plan, const JobSpec& spec, MapFn preprocess, ActorFactory model, int replicas,
                  const std::vector<UserStage>& stages, const ShardBadRowHandler& on_bad, int cpus);

/// The output columns: the job's own list, or none (every column) when user stages decide them.
std::vector<std::string> JobOutputColumns(const JobSpec& spec, const JobInput& input, const std::vector<UserStage>& stages);

}  // namespace sluice::job
