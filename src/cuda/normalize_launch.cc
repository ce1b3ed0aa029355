// LaunchNormalize: checks the spec and the pointers on the host, plans and enqueues the kernel.
#include <cuda_runtime_api.h>

#include <string>

#include "cuda_status.h"
#include "normalize_plan.h"
#include "sluice/cuda_preprocess.h"

namespace sluice {
namespace {

/// A kernel that dereferences pageable host memory faults and poisons the whole CUDA context
/// (every later call of the process fails), so the pointer kinds are checked before launching.
Status CheckAddressable(const void* p, const char* what) {
  cudaPointerAttributes attributes{};
  RETURN_IF_ERROR(gpu::CudaStatus(cudaPointerGetAttributes(&attributes, p), std::string("cudaPointerGetAttributes(") + what + ")"));
  if (attributes.type == cudaMemoryTypeUnregistered) {
    return Status::InvalidArgument(std::string("normalize: the ") + what +
                                   " is pageable host memory; it must be device, managed or pinned host memory");
  }
  return Status::OK();
}

}  // namespace

Status LaunchNormalize(const NormalizeSpec& spec, const uint8_t* input, void* output, void* stream) {
  RETURN_IF_ERROR(spec.Validate());
  if (spec.batch == 0) return Status::OK();
  if (input == nullptr || output == nullptr) return Status::InvalidArgument("normalize: null input or output");
  const auto in_begin = reinterpret_cast<uintptr_t>(input), out_begin = reinterpret_cast<uintptr_t>(output);
  if (in_begin < out_begin + static_cast<uintptr_t>(spec.output_bytes()) && out_begin < in_begin + static_cast<uintptr_t>(spec.input_bytes())) {
    return Status::InvalidArgument("normalize: input and output overlap (the kernel does not work in place)");
  }
  RETURN_IF_ERROR(CheckAddressable(input, "input"));
  RETURN_IF_ERROR(CheckAddressable(output, "output"));
  int device = 0, sm_count = 0;
  RETURN_IF_ERROR(gpu::CudaStatus(cudaGetDevice(&device), "cudaGetDevice"));
  RETURN_IF_ERROR(gpu::CudaStatus(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device),
                                  "cudaDeviceGetAttribute(multiprocessor count)"));
  const gpu::NormalizeLaunchPlan plan = gpu::PlanNormalizeLaunch(spec, in_begin, out_begin, sm_count);
  // 4 KiB: built on the stack per launch, copied into the launch's parameters.
  const gpu::NormalizeKernelArgs args = gpu::MakeNormalizeKernelArgs(spec, input, output);
  const auto error = static_cast<cudaError_t>(gpu::LaunchNormalizeKernel(plan, args, stream));
  return gpu::CudaStatus(error, "normalize kernel launch (" + std::to_string(plan.grid_x) + "x" + std::to_string(plan.grid_y) + " blocks)");
}

}  // namespace sluice
