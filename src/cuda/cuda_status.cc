#include "cuda_status.h"

#include <string>

#include "sluice/cuda_device.h"

namespace sluice {
namespace gpu {

Status CudaStatus(cudaError_t error, std::string_view what) {
  if (error == cudaSuccess) return Status::OK();
  std::string m = std::string(what) + ": " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")";
  switch (error) {
    case cudaErrorMemoryAllocation: return Status::ResourceExhausted(std::move(m));
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver: return Status::Unimplemented(std::move(m));
    case cudaErrorInvalidValue:
    case cudaErrorInvalidDevicePointer: return Status::InvalidArgument(std::move(m));
    default: return Status::Internal(std::move(m));
  }
}

}  // namespace gpu

Result<int> CudaDeviceCount() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  // No driver or no device is a machine without a GPU: an answer of 0, not a failure.
  if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) return 0;
  RETURN_IF_ERROR(gpu::CudaStatus(e, "cudaGetDeviceCount"));
  return count;
}

}  // namespace sluice
