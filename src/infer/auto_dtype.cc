// model.dtype: auto on a CPU (auto_dtype.h).
#include "infer/auto_dtype.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "sluice/fixed_point_text.h"

namespace sluice {
namespace {

/// Deterministic values in [-2, 2): inputs shaped like normalized images, not zeros.
Result<Column> CalibrationInput(const DataType& type, int64_t rows) {
  ASSIGN_OR_RETURN(Column c, Column::Allocate(type, rows));
  const int64_t bytes = type.fixed_row_bytes() * rows;
  uint8_t* p = c.MutableRowData(0);
  uint32_t state = 12345;
  auto next = [&]() { return state = state * 1664525u + 1013904223u; };
  if (type.dtype() == DType::kFloat32) {
    float* f = reinterpret_cast<float*>(p);
    for (int64_t i = 0; i < bytes / 4; ++i) f[i] = static_cast<float>(next() >> 8) / 4194304.0f - 2.0f;
  } else {
    for (int64_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(next() >> 24);
  }
  return c;
}

/// The fastest of `runs` timed runs of `model` on `input`, after two runs on `warmup` (TorchScript
/// profiles the first run and optimizes on the next).
Result<double> FastestRunSeconds(Model& model, const Column& warmup, const Column& input, int runs) {
  for (int i = 0; i < 2; ++i) RETURN_IF_ERROR(model.Run(warmup).status());
  double best = 1e300;
  for (int i = 0; i < std::max(1, runs); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(model.Run(input).status());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

/// bfloat16 on trial, shared by the replicas: counts the first rows' top-1 disagreements and
/// decides once.
class Trial {
 public:
  Trial(const AutoDTypeOptions& o, std::shared_ptr<AutoDType> record, std::string speed)
      : o_(o), record_(std::move(record)), speed_(std::move(speed)) {}

  /// Whether the decision is made, and if so whether it is bfloat16.
  bool Decided(bool* bfloat16) const {
    std::lock_guard lock(mu_);
    *bfloat16 = bfloat16_;
    return decided_;
  }

  /// bfloat16 failed where float32 did not: float32 it is.
  void Fail(const Status& st) {
    std::lock_guard lock(mu_);
    if (decided_) return;
    decided_ = true;
    record_->Set(DType::kFloat32, "auto: bfloat16 " + speed_ + " but failed on the job's rows (" + st.ToString() + ")");
  }

  void Count(int64_t rows, int64_t disagreements) {
    std::lock_guard lock(mu_);
    if (decided_) return;
    rows_ += rows;
    disagreements_ += disagreements;
    // More differences than the whole trial may have end it early, for float32.
    const bool failed = static_cast<double>(disagreements_) > o_.max_disagreement * static_cast<double>(std::max(rows_, o_.trial_rows));
    if (rows_ < o_.trial_rows && !failed) return;
    decided_ = true;
    const std::string agree = std::to_string(rows_ - disagreements_) + " of the first " + std::to_string(rows_) + " rows";
    bfloat16_ = !failed;
    if (bfloat16_) {
      record_->Set(DType::kBFloat16, "auto: bfloat16 + channels_last " + speed_ + "; its top-1 equals float32's on " + agree);
    } else {
      record_->Set(DType::kFloat32, "auto: bfloat16 " + speed_ + " but its top-1 equals float32's on only " + agree);
    }
  }

 private:
  const AutoDTypeOptions o_;
  const std::shared_ptr<AutoDType> record_;
  const std::string speed_;
  mutable std::mutex mu_;
  int64_t rows_ = 0;
  int64_t disagreements_ = 0;
  bool decided_ = false;
  bool bfloat16_ = false;
};

/// One replica: both copies until the trial decides, then the chosen one (the other is freed).
class TrialModel : public Model {
 public:
  TrialModel(std::unique_ptr<Model> float32, std::unique_ptr<Model> bfloat16, std::shared_ptr<Trial> trial)
      : device_(float32->device()),
        preferred_batch_size_(float32->preferred_batch_size()),
        float32_(std::move(float32)),
        bfloat16_(std::move(bfloat16)),
        trial_(std::move(trial)) {}

  Result<Batch> Run(const Column& input) override {
    bool use_bfloat16 = false;
    if (trial_->Decided(&use_bfloat16)) {
      if (use_bfloat16) {
        float32_.reset();
        return bfloat16_->Run(input);
      }
      bfloat16_.reset();
      return float32_->Run(input);
    }
    ASSIGN_OR_RETURN(Batch exact, float32_->Run(input));
    Result<Batch> trial = bfloat16_->Run(input);
    Result<int64_t> differ = trial.ok() ? TopOneDisagreements(exact, *trial) : Result<int64_t>(trial.status());
    if (differ.ok()) {
      trial_->Count(input.length(), *differ);
    } else {
      trial_->Fail(differ.status());
    }
    return exact;
  }
  // Recorded at construction: Run frees the copy the trial did not choose.
  const std::string& device() const override { return device_; }
  int64_t preferred_batch_size() const override { return preferred_batch_size_; }

 private:
  const std::string device_;
  const int64_t preferred_batch_size_;
  std::unique_ptr<Model> float32_, bfloat16_;
  std::shared_ptr<Trial> trial_;
};

/// Row i's top-1 id.
Result<int32_t> TopOne(const Column& ids, int64_t i) {
  if (ids.type().id() == TypeId::kList) {
    if (ids.ListEnd(i) <= ids.ListBegin(i)) return Status::InvalidData("an empty top_k_ids list");
    return ids.child().Value<int32_t>(ids.ListBegin(i));
  }
  if (ids.type().id() == TypeId::kTensor && ids.type().dtype() == DType::kInt32) {
    int32_t v;
    std::memcpy(&v, ids.RowData(i), sizeof v);
    return v;
  }
  return Status::InvalidData("top_k_ids is " + ids.type().ToString());
}

}  // namespace

bool CpuHasNativeBFloat16() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__builtin_cpu_supports("avx512f")) return false;  // the OS saves the AVX-512 state
  const bool amx_bf16 = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22));
  const bool avx512_bf16 = __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));
  return avx512_bf16 || amx_bf16;
#else
  return false;
#endif
}

void AutoDType::Set(DType dtype, std::string why) {
  std::lock_guard lock(mu_);
  dtype_ = dtype;
  why_ = std::move(why);
}
DType AutoDType::dtype() const {
  std::lock_guard lock(mu_);
  return dtype_;
}
std::string AutoDType::why() const {
  std::lock_guard lock(mu_);
  return why_;
}

Result<int64_t> TopOneDisagreements(const Batch& a, const Batch& b) {
  ASSIGN_OR_RETURN(Column x, a.GetColumn("top_k_ids"));
  ASSIGN_OR_RETURN(Column y, b.GetColumn("top_k_ids"));
  if (x.length() != y.length()) return Status::InvalidData("the two outputs have different row counts");
  int64_t differ = 0;
  for (int64_t i = 0; i < x.length(); ++i) {
    ASSIGN_OR_RETURN(int32_t p, TopOne(x, i));
    ASSIGN_OR_RETURN(int32_t q, TopOne(y, i));
    differ += p != q;
  }
  return differ;
}

namespace {

Result<std::vector<std::shared_ptr<Model>>> LoadAndChoose(const std::string& backend, ModelOptions options,
                                                         const std::vector<std::string>& devices, const DataType& input_type,
                                                         int64_t warmup_rows, const AutoDTypeOptions& auto_options,
                                                         std::shared_ptr<AutoDType> record) {
  const bool cpu_only = std::all_of(devices.begin(), devices.end(), [](const std::string& d) { return d == "cpu"; });
  options.dtype = DType::kFloat32;
  if (cpu_only) options.channels_last = false;
  ASSIGN_OR_RETURN(auto b, GetBackend(backend));
  const auto& offered = b->supported_dtypes();
  std::string unfit;
  if (!cpu_only) {
    unfit = "bfloat16 is chosen on CPUs only; GPUs run float32";
  } else if (options.top_k <= 0) {
    unfit = "raw outputs (top_k 0) have no top-1 to check bfloat16 against";
  } else if (std::find(offered.begin(), offered.end(), DType::kBFloat16) == offered.end()) {
    unfit = "backend '" + backend + "' has no bfloat16";
  } else if (!CpuHasNativeBFloat16()) {
    unfit = "this CPU has no bfloat16 instructions (AVX512-BF16 or AMX)";
  } else if (input_type.id() != TypeId::kTensor) {
    unfit = "the model's input is not a tensor";
  }
  if (!unfit.empty()) {
    record->Set(DType::kFloat32, "auto: " + unfit);
    return LoadModels(backend, options, devices, input_type, warmup_rows);
  }
  ModelOptions bf16_options = options;
  bf16_options.dtype = DType::kBFloat16;
  bf16_options.channels_last = true;
  ASSIGN_OR_RETURN(Column input, CalibrationInput(input_type, std::max<int64_t>(1, auto_options.calibration_rows)));
  const Column warmup = input.Slice(0, 1);
  // Loads one copy per device in `o`'s dtype (one after another: CPU replicas share the cores
  // anyway), times the first, warms the others up; the first copy's fastest run.
  auto load = [&](const ModelOptions& o, std::vector<std::unique_ptr<Model>>* copies) -> Result<double> {
    for (const auto& d : devices) {
      ModelOptions one = o;
      one.device = d;
      ASSIGN_OR_RETURN(auto m, b->Load(one));
      copies->push_back(std::move(m));
    }
    ASSIGN_OR_RETURN(double s, FastestRunSeconds(*copies->front(), warmup, input, auto_options.calibration_runs));
    for (size_t i = 1; i < copies->size(); ++i) {
      for (int r = 0; r < 2; ++r) RETURN_IF_ERROR((*copies)[i]->Run(warmup).status());
    }
    return s;
  };
  std::vector<std::unique_ptr<Model>> float32, bfloat16;
  ASSIGN_OR_RETURN(double f32_s, load(options, &float32));
  std::vector<std::shared_ptr<Model>> models;
  auto keep_float32 = [&](const std::string& why) {
    record->Set(DType::kFloat32, "auto: " + why);
    for (auto& m : float32) models.push_back(std::move(m));
    return models;
  };
  Result<double> bf16_s = load(bf16_options, &bfloat16);
  if (!bf16_s.ok()) return keep_float32("bfloat16 failed at load (" + bf16_s.status().ToString() + ")");
  const double speedup = f32_s / std::max(*bf16_s, 1e-9);
  const std::string speed = "ran " + FormatFixed(speedup, 2) + "x float32 at load (" + std::to_string(input.length()) + " rows: " +
                            FormatFixed(f32_s * 1e3, 1) + " vs " + FormatFixed(*bf16_s * 1e3, 1) + " ms)";
  if (speedup < auto_options.min_speedup) return keep_float32("bfloat16 " + speed + ", below " + FormatFixed(auto_options.min_speedup, 2) + "x");
  record->Set(DType::kFloat32, "auto: bfloat16 " + speed + "; the job ended within its " + std::to_string(auto_options.trial_rows) +
                                   "-row trial, which writes float32's results");
  auto trial = std::make_shared<Trial>(auto_options, record, speed);
  for (size_t i = 0; i < float32.size(); ++i) {
    models.push_back(std::make_shared<TrialModel>(std::move(float32[i]), std::move(bfloat16[i]), trial));
  }
  return models;
}

}  // namespace

Result<std::vector<std::shared_ptr<Model>>> LoadAutoDTypeModels(const std::string& backend, ModelOptions options,
                                                               const std::vector<std::string>& devices, const DataType& input_type,
                                                               int64_t warmup_rows, const AutoDTypeOptions& auto_options,
                                                               std::shared_ptr<AutoDType> record) {
  // On a thread of its own, as LoadModels loads: the OpenMP pool libtorch starts for the
  // calibration runs ends with it instead of living on in the caller's thread.
  return std::async(std::launch::async, [&] {
           return LoadAndChoose(backend, std::move(options), devices, input_type, warmup_rows, auto_options, std::move(record));
         }).get();
}

}  // namespace sluice
