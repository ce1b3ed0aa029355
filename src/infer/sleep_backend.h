#pragma once
/// The `sleep` backend, for benchmarks and tests of coordination only: a "model" that takes a
/// fixed time per batch (plus an optional time per row) and no CPU, like the seeds'
/// time.sleep microbenchmark, so that many workers fit on one small machine and what is
/// measured is the pipeline and the coordination around the model.
///
/// model.uri names a text file of `key=value` words:
///   per_batch=40ms per_row=0ms classes=1000
/// Outputs are deterministic functions of each row's bytes (top-k ids from a hash of the row,
/// scores 1/k), so two runs over the same rows write the same predictions. The environment
/// variable SLUICE_SLEEP_SCALE multiplies the times (a benchmark's deliberately slow worker).
///
/// Threading: a model is used by one thread at a time, like every Model.

#include <memory>

#include "sluice/inference.h"

namespace sluice {

std::shared_ptr<InferenceBackend> MakeSleepBackend();

}  // namespace sluice
