#pragma once
/// What the CUDA runtime sees on this machine. Only builds with SLUICE_WITH_CUDA have these
/// functions (library sluice_cuda); the header needs no CUDA headers.
///
/// Threading: thread-safe.

#include "sluice/status.h"

namespace sluice {

/// Devices the CUDA runtime can use. A machine without a GPU or without a driver has 0 (that is
/// an answer, not an error); other runtime failures are errors naming the CUDA error.
Result<int> CudaDeviceCount();

}  // namespace sluice
