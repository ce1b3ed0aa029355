#pragma once
/// `model.dtype: auto` on a CPU: bfloat16 where it is measured faster and predicts the same.
///
/// When the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16), the backend offers it and
/// the model's output is ranked (top_k > 0), each replica loads a float32 copy and a bfloat16
/// channels_last copy (what oneDNN's bfloat16 convolutions need), and the first replica's pair
/// is timed on the same rows (after warming up) at load. When bfloat16 runs at least
/// `min_speedup` times as fast, bfloat16 is on trial: the first `trial_rows` rows of the job run
/// through both, the float32 results are written, and bfloat16 is kept for the rest only when
/// their top-1 predictions agree on all but `max_disagreement` of those rows (the trial ends
/// early, for float32, once more rows than that differ). Otherwise (and on a GPU, when anything
/// is missing, and when the bfloat16 copy fails to load or run) float32: exactly what
/// `model.dtype: float32` computes.
/// The choice and the reason are in the AutoDType record (the summary and its JSON say them).
///
/// Threading: LoadAutoDTypeModels blocks its caller while it loads and calibrates on a thread of
/// its own (as LoadModels loads: libtorch's OpenMP pool for those runs ends with that thread, not
/// kept by the caller's). Each returned Model is run by one replica thread at a time (the Model
/// contract); the trial they share, and AutoDType, are locked inside, so replicas may run at once
/// and anyone may read the record.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/inference.h"

namespace sluice {

/// Whether this CPU has bfloat16 dot products in hardware (AVX512-BF16 or AMX-BF16).
bool CpuHasNativeBFloat16();

struct AutoDTypeOptions {
  int64_t calibration_rows = 32;  // rows per timed run at load (the job: at most its batch size)
  int calibration_runs = 2;       // timed runs per dtype (the fastest counts), after two 1-row warm-ups
  double min_speedup = 1.2;      // bfloat16's float32 time / its own, to be tried
  // First rows run in both dtypes. 512 rows with at most 1 % (5) differing tell a model that
  // agrees on 99.6 % of rows (passes 98 % of the time) from one at 96 % (passes 0.004 % of the
  // time); a model at exactly 99 % passes 60 % of the time. (256 rows kept float32 for a
  // resnet18 whose bfloat16 agreed on 99.6 % of 1,280 rows: 3 of its 5 differences came first.)
  int64_t trial_rows = 512;
  double max_disagreement = 0.01;  // of the trial rows, whose top-1 may differ
};

/// What auto chose, and why in words (thread-safe).
class AutoDType {
 public:
  void Set(DType dtype, std::string why);
  DType dtype() const;
  std::string why() const;

 private:
  mutable std::mutex mu_;
  DType dtype_ = DType::kFloat32;
  std::string why_;
};

/// Loads one model per device as LoadModels does (warmed up), choosing float32 or bfloat16 as
/// described above. `options` is the float32 model's (its dtype and channels_last are set here);
/// `warmup_rows` as in LoadModels, for float32 models loaded without a trial.
Result<std::vector<std::shared_ptr<Model>>> LoadAutoDTypeModels(const std::string& backend, ModelOptions options,
                                                               const std::vector<std::string>& devices, const DataType& input_type,
                                                               int64_t warmup_rows, const AutoDTypeOptions& auto_options,
                                                               std::shared_ptr<AutoDType> record);

/// The trial's comparison: how many rows' top-1 id (the first of each `top_k_ids` list) differ
/// between two outputs of the same rows. Errors when either lacks the column.
Result<int64_t> TopOneDisagreements(const Batch& a, const Batch& b);

}  // namespace sluice
