#pragma once
/// CUDA runtime errors as Status values. Internal to sluice_cuda (it includes the runtime API).
///
/// Threading: pure functions.

#include <cuda_runtime_api.h>

#include <string_view>

#include "sluice/status.h"

namespace sluice::gpu {

/// OK for cudaSuccess; otherwise an error whose message names `what` (the call and its
/// arguments) and the CUDA error ("cudaHostAlloc of 1024 bytes: cudaErrorMemoryAllocation (out
/// of memory)"). Out of memory is ResourceExhausted, a missing device or driver Unimplemented,
/// a bad argument InvalidArgument, anything else Internal.
Status CudaStatus(cudaError_t error, std::string_view what);

}  // namespace sluice::gpu
