#pragma once
/// Model inference: the backend interface, a registry of backends by name, and the actor stage
/// that runs a model in a plan.
///
/// A backend loads a model for one device and returns a Model; a Model runs one batch of input
/// tensors and returns output columns. Backends keep their heavy headers in their own
/// translation units (libtorch lives only in src/infer/torch/).
///
/// Outputs: `top_k` > 0 gives `top_k_ids` (int32) and `top_k_scores` (float32, softmax) as
/// tensor columns [N, k] (or list columns with `lists`); top_k == 0 gives `output`, the raw
/// output tensor (e.g. embeddings).
///
/// Threading: a Model is used by one thread at a time (one per actor replica); Load may be
/// called from any thread; the registry is thread-safe.

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/batch.h"
#include "sluice/plan.h"
#include "sluice/status.h"

namespace sluice {

struct ModelOptions {
  std::string uri;                 // a TorchScript file (.pt) for the torch backend
  std::string device = "cpu";      // cpu | cuda | cuda:N
  DType dtype = DType::kFloat32;   // the model's compute dtype (float32 | float16 | bfloat16)
  bool channels_last = false;      // memory format for 4-D inputs
  bool optimize = true;            // torch: freeze + optimize_for_inference after load
  int intra_op_threads = 0;        // CPU threads for one model call; 0 = backend default
  int top_k = 5;                   // 0: raw output
  bool lists = false;              // top-k as list<...> columns instead of [N, k] tensors
  int warmup_batches = 1;          // actor: runs on the first batch's first rows before its real run
  int64_t warmup_batch_size = 1;   // rows per warm-up run (on a GPU: the real batch size, so
                                   // cuDNN autotunes the shape that will run)
  /// Inputs are uint8 [N, H, W, 3] crops, normalized on the model's device:
  /// (x / 255 - mean) / std, laid out NCHW (or channels_last) in `dtype`. The host then sends
  /// a quarter of the float32 bytes, and the GPU does the arithmetic.
  bool device_normalize = false;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

class Model {
 public:
  virtual ~Model() = default;
  /// Runs `input` (a tensor column, [N, ...]) and returns the output columns for those N rows.
  virtual Result<Batch> Run(const Column& input) = 0;
  virtual const std::string& device() const = 0;
  /// A batch size the backend runs efficiently (0 = no preference).
  virtual int64_t preferred_batch_size() const { return 0; }
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual std::string name() const = 0;
  /// Devices this build can run on ("cpu", "cuda:0", ...).
  virtual std::vector<std::string> devices() const = 0;
  virtual std::vector<DType> supported_dtypes() const = 0;
  /// Loads `options.uri` for `options.device`; errors name the model and the device.
  virtual Result<std::unique_ptr<Model>> Load(const ModelOptions& options) = 0;
};

/// Backends by name ("torch").
Status RegisterBackend(std::shared_ptr<InferenceBackend> backend);
Result<std::shared_ptr<InferenceBackend>> GetBackend(const std::string& name);

/// An actor stage: replica r loads the model (on `devices[r % devices.size()]` when given) and
/// runs `input_column` of every batch, keeping the batch's other columns except the input.
ActorFactory MakeInferenceActor(std::string backend, ModelOptions options, std::string input_column,
                                std::vector<std::string> devices = {});

/// Loads one model per device (in parallel) and warms each up on `warmup_rows` zero rows of
/// `input_type` (cuDNN autotuning, allocator pools, lazy initialization), so that a plan starts
/// with models ready and a model that cannot load fails before any work.
Result<std::vector<std::shared_ptr<Model>>> LoadModels(const std::string& backend, const ModelOptions& options,
                                                      const std::vector<std::string>& devices, const DataType& input_type,
                                                      int64_t warmup_rows);
/// An actor stage over models already loaded: replica r runs models[r].
ActorFactory MakeInferenceActor(std::vector<std::shared_ptr<Model>> models, std::string input_column);

}  // namespace sluice
