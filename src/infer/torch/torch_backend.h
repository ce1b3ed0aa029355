#pragma once
/// The libtorch backend ("torch"): TorchScript models on CPU or CUDA devices. This header is
/// light; only torch_backend.cc includes libtorch.

#include <memory>

#include "sluice/inference.h"

namespace sluice {

std::shared_ptr<InferenceBackend> MakeTorchBackend();

}  // namespace sluice
